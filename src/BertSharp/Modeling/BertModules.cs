using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

// One module per concept, as in transformers' modeling_bert.py. TorchSharp names submodules after the fields that
// hold them (RegisterComponents), so the fields carry Hugging Face's attribute names rather than .NET's _camelCase:
// that is what makes state-dict keys match its checkpoints name for name ("encoder.layer.0.attention.self.query.weight").
//
// Each forward runs in its own dispose scope and moves only its result out. TorchSharp frees a tensor when its scope
// ends, not when the last reference goes as Python does, so without these scopes every intermediate of every layer
// (q, k, v, the 4× wide feed-forward activations…) would live until the caller's scope ends: 5+ GB for bert-base
// evaluating 16 × 512 tokens on the CPU. Autograd keeps its own references to what backward needs, so training is
// unaffected.

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout.</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>, IWordEmbeddings
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly int _maxPositions;

    private readonly MixedPrecision _precision;

    public BertEmbeddings(BertConfig config, MixedPrecision precision) : base(nameof(BertEmbeddings))
    {
        _precision = precision;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        // BERT's eps is 1e-12; TorchSharp's default of 1e-5 would shift every activation slightly.
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        _maxPositions = config.MaxPositionEmbeddings;
        RegisterComponents();
    }

    public Embedding WordEmbeddings => word_embeddings;

    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        var seqLength = inputIds.shape[1];
        if (seqLength > _maxPositions)
            throw new ArgumentException(
                $"The input has {seqLength} tokens but the model has only {_maxPositions} positions (max_position_embeddings); truncate to {_maxPositions}.");
        using var scope = NewDisposeScope();
        var positions = arange(seqLength, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var embeddings = word_embeddings.forward(inputIds) + token_type_embeddings.forward(tokenTypeIds) + position_embeddings.forward(positions);
        return dropout.forward(_precision.LayerNorm(LayerNorm, embeddings)).MoveToOuterDisposeScope();
    }
}

/// <summary>Multi-head self-attention through PyTorch's fused scaled_dot_product_attention.</summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly int _heads;
    private readonly int _headSize;
    private readonly double _dropoutProbability;

    private readonly MixedPrecision _precision;

    public BertSelfAttention(BertConfig config, MixedPrecision precision) : base(nameof(BertSelfAttention))
    {
        _precision = precision;
        _heads = config.NumAttentionHeads;
        _headSize = config.HiddenSize / config.NumAttentionHeads;
        _dropoutProbability = config.AttentionProbsDropoutProb;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <param name="hidden">[batch, seq, hidden]</param>
    /// <param name="additiveMask">[batch, 1, 1, seq]: 0 where a key may be attended, a large negative number where not;
    /// null when no token is padding (see <see cref="AttentionMask"/>).</param>
    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, seq) = (hidden.shape[0], hidden.shape[1]);
        Tensor Heads(Linear projection) => _precision.Linear(projection, hidden).view(batch, seq, _heads, _headSize).transpose(1, 2);
        var context = nn.functional.scaled_dot_product_attention(
            Heads(query), Heads(key), Heads(value), additiveMask, p: training ? _dropoutProbability : 0.0);
        return context.transpose(1, 2).reshape(batch, seq, _heads * _headSize).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// softmax(QKᵀ/√d + mask) [batch, heads, seq, seq]: the weights <see cref="forward"/>'s fused attention applies
    /// without ever materialising them (no dropout: what evaluation mode uses).
    /// </summary>
    public Tensor AttentionProbabilities(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, seq) = (hidden.shape[0], hidden.shape[1]);
        Tensor Heads(Linear projection) => projection.forward(hidden).view(batch, seq, _heads, _headSize).transpose(1, 2);
        var scores = Heads(query).matmul(Heads(key).transpose(-1, -2)) / Math.Sqrt(_headSize);
        if (additiveMask is not null) scores = scores + additiveMask.to(hidden.dtype);
        return scores.softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The attention output for given weights: what <see cref="forward"/> computes (tests check the two agree).</summary>
    internal Tensor Context(Tensor probabilities, Tensor hidden)
    {
        var (batch, seq) = (hidden.shape[0], hidden.shape[1]);
        using var values = value.forward(hidden).view(batch, seq, _heads, _headSize).transpose(1, 2);
        using var context = probabilities.matmul(values);
        return context.transpose(1, 2).reshape(batch, seq, _heads * _headSize);
    }
}

/// <summary>Projection after attention, with the residual connection and LayerNorm.</summary>
public sealed class BertSelfOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    private readonly MixedPrecision _precision;

    public BertSelfOutput(BertConfig config, MixedPrecision precision) : base(nameof(BertSelfOutput))
    {
        _precision = precision;
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return _precision.LayerNorm(LayerNorm, dropout.forward(_precision.Linear(dense, hidden)) + residual).MoveToOuterDisposeScope();
    }
}

public sealed class BertAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertSelfOutput output;

    public BertAttention(BertConfig config, MixedPrecision precision) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config, precision);
        output = new BertSelfOutput(config, precision);
        RegisterComponents();
    }

    internal BertSelfAttention Self => self;

    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        return output.forward(self.forward(hidden, additiveMask), hidden).MoveToOuterDisposeScope();
    }
}

/// <summary>The feed-forward expansion (hidden → intermediate) with the configured activation.</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Func<Tensor, Tensor> _activation;

    private readonly MixedPrecision _precision;

    public BertIntermediate(BertConfig config, MixedPrecision precision) : base(nameof(BertIntermediate))
    {
        _precision = precision;
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        _activation = Activations.Get(config.HiddenAct);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return _activation(_precision.Linear(dense, hidden)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The feed-forward contraction (intermediate → hidden) with the residual connection and LayerNorm. It has the shape of
/// <see cref="BertSelfOutput"/> with a wider input; transformers keeps the two apart too, since each is a different
/// step of the block and checkpoints name them differently.
/// </summary>
public sealed class BertOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    private readonly MixedPrecision _precision;

    public BertOutput(BertConfig config, MixedPrecision precision) : base(nameof(BertOutput))
    {
        _precision = precision;
        dense = nn.Linear(config.IntermediateSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return _precision.LayerNorm(LayerNorm, dropout.forward(_precision.Linear(dense, hidden)) + residual).MoveToOuterDisposeScope();
    }
}

/// <summary>One transformer block: attention, then the feed-forward network, each with residual + LayerNorm.</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertOutput output;

    public BertLayer(BertConfig config, MixedPrecision precision) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config, precision);
        intermediate = new BertIntermediate(config, precision);
        output = new BertOutput(config, precision);
        RegisterComponents();
    }

    internal BertAttention Attention => attention;

    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        var attended = attention.forward(hidden, additiveMask);
        return output.forward(intermediate.forward(attended), attended).MoveToOuterDisposeScope();
    }
}

public sealed class BertEncoder : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertConfig config, MixedPrecision precision) : base(nameof(BertEncoder))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config, precision)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        // Each layer's output is all the next one needs; the one before it is released as soon as it has been used.
        var current = hidden;
        foreach (var layer in layer)
        {
            var next = layer.forward(current, additiveMask);
            if (!ReferenceEquals(current, hidden)) current.Dispose();
            current = next;
        }
        return current.MoveToOuterDisposeScope();
    }

    /// <summary>The last layer's attention probabilities, from the output of the layers before it.</summary>
    internal Tensor LastLayerAttentions(Tensor hidden, Tensor? additiveMask)
    {
        for (var i = 0; i < layer.Count - 1; i++)
            hidden = layer[i].forward(hidden, additiveMask);
        return layer[layer.Count - 1].Attention.Self.AttentionProbabilities(hidden, additiveMask);
    }
}

/// <summary>tanh(dense(h[CLS])): the sentence vector BERT was pre-trained to produce for next-sentence prediction.</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly Linear dense;

    private readonly MixedPrecision _precision;

    public BertPooler(BertConfig config, MixedPrecision precision) : base(nameof(BertPooler))
    {
        _precision = precision;
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return _precision.Linear(dense, hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }
}

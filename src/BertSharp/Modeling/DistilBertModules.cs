using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

// One module per concept, as in transformers' modeling_distilbert.py (Embeddings, DistilBertSelfAttention, FFN,
// TransformerBlock, Transformer), prefixed here so they sit beside BERT's. Fields carry Hugging Face's attribute names
// because TorchSharp names submodules after them: that is what makes the state-dict keys match the Hub's checkpoints
// ("distilbert.transformer.layer.0.attention.q_lin.weight"). Every LayerNorm has eps 1e-12 fixed in code, as in
// transformers: DistilBERT's config has no layer_norm_eps.

// As in BertModules.cs, each forward runs in its own dispose scope and moves only its result out, so a layer's
// intermediates are freed when it returns rather than when the caller's scope ends.

/// <summary>Word + position embeddings, then LayerNorm and dropout; DistilBERT has no token-type embeddings.</summary>
public sealed class DistilBertEmbeddings : nn.Module<Tensor, Tensor>, IWordEmbeddings
{
    internal const double LayerNormEps = 1e-12;

    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly int _maxPositions;

    private readonly MixedPrecision _precision;

    public DistilBertEmbeddings(DistilBertConfig config, MixedPrecision precision) : base(nameof(DistilBertEmbeddings))
    {
        _precision = precision;
        word_embeddings = nn.Embedding(config.VocabSize, config.Dim, padding_idx: config.PadTokenId);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.Dim);
        LayerNorm = nn.LayerNorm(config.Dim, eps: LayerNormEps);
        dropout = nn.Dropout(config.Dropout);
        _maxPositions = config.MaxPositionEmbeddings;
        RegisterComponents();
    }

    public Embedding WordEmbeddings => word_embeddings;

    public Embedding PositionEmbeddings => position_embeddings;

    /// <summary>Positions are always 0…seq-1, whatever the padding (transformers' position_ids buffer).</summary>
    public override Tensor forward(Tensor inputIds)
    {
        var seqLength = inputIds.shape[1];
        if (seqLength > _maxPositions)
            throw new ArgumentException(
                $"The input has {seqLength} tokens but the model has only {_maxPositions} positions (max_position_embeddings); truncate to {_maxPositions}.");
        using var scope = NewDisposeScope();
        var positions = arange(seqLength, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        var embeddings = word_embeddings.forward(inputIds) + position_embeddings.forward(positions);
        return dropout.forward(_precision.LayerNorm(LayerNorm, embeddings)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// transformers' <c>create_sinusoidal_embeddings</c>: position p, column j gets sin (even j) or cos (odd j) of
    /// p / 10000^(2⌊j/2⌋/dim), computed in float64 and stored as float32, as numpy computes it there.
    /// </summary>
    internal void InitSinusoidal()
    {
        var (positions, dim) = ((int)position_embeddings.weight!.shape[0], (int)position_embeddings.weight.shape[1]);
        var table = new float[positions * dim];
        for (var p = 0; p < positions; p++)
            for (var j = 0; j < dim; j++)
            {
                var angle = p / Math.Pow(10000, 2.0 * (j / 2) / dim);
                table[p * dim + j] = (float)(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle));
            }
        using var _ = no_grad();
        using var values = tensor(table, [positions, dim]);
        position_embeddings.weight.copy_(values);
    }
}

/// <summary>
/// Multi-head self-attention through PyTorch's fused scaled_dot_product_attention, then <c>out_lin</c>; unlike BERT
/// there is no dropout after the output projection.
/// </summary>
public sealed class DistilBertSelfAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly Linear q_lin;
    private readonly Linear k_lin;
    private readonly Linear v_lin;
    private readonly Linear out_lin;
    private readonly int _heads;
    private readonly int _headSize;
    private readonly double _dropoutProbability;

    private readonly MixedPrecision _precision;

    public DistilBertSelfAttention(DistilBertConfig config, MixedPrecision precision) : base(nameof(DistilBertSelfAttention))
    {
        _precision = precision;
        _heads = config.NHeads;
        _headSize = config.Dim / config.NHeads;
        _dropoutProbability = config.AttentionDropout;
        q_lin = nn.Linear(config.Dim, config.Dim);
        k_lin = nn.Linear(config.Dim, config.Dim);
        v_lin = nn.Linear(config.Dim, config.Dim);
        out_lin = nn.Linear(config.Dim, config.Dim);
        RegisterComponents();
    }

    /// <param name="hidden">[batch, seq, dim]</param>
    /// <param name="additiveMask">[batch, 1, 1, seq] bias on the scores, or null when no token is padding (see <see cref="AttentionMask"/>).</param>
    /// <summary>
    /// The softmax weights [batch, heads, seq, seq] the fused attention of <see cref="forward"/> uses but never
    /// materialises, recomputed in float32 for a heatmap; no dropout (evaluation).
    /// </summary>
    public Tensor AttentionProbabilities(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, seq) = (hidden.shape[0], hidden.shape[1]);
        Tensor Heads(Linear projection) => projection.forward(hidden).view(batch, seq, _heads, _headSize).transpose(1, 2);
        var scores = Heads(q_lin).matmul(Heads(k_lin).transpose(-1, -2)) / Math.Sqrt(_headSize);
        if (additiveMask is not null) scores = scores + additiveMask.to(hidden.dtype);
        return scores.softmax(-1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        var (batch, seq) = (hidden.shape[0], hidden.shape[1]);
        Tensor Heads(Linear projection) => _precision.Linear(projection, hidden).view(batch, seq, _heads, _headSize).transpose(1, 2);
        // SDPA's default scale is head_size^-0.5, transformers' `scaling`.
        var context = nn.functional.scaled_dot_product_attention(
            Heads(q_lin), Heads(k_lin), Heads(v_lin), additiveMask, p: training ? _dropoutProbability : 0.0);
        return _precision.Linear(out_lin, context.transpose(1, 2).reshape(batch, seq, _heads * _headSize)).MoveToOuterDisposeScope();
    }
}

/// <summary>transformers' <c>FFN</c>: lin1 (dim → hidden_dim), the configured activation, lin2 back to dim, dropout.</summary>
public sealed class DistilBertFFN : nn.Module<Tensor, Tensor>
{
    private readonly Linear lin1;
    private readonly Linear lin2;
    private readonly Dropout dropout;
    private readonly Func<Tensor, Tensor> _activation;

    private readonly MixedPrecision _precision;

    public DistilBertFFN(DistilBertConfig config, MixedPrecision precision) : base(nameof(DistilBertFFN))
    {
        _precision = precision;
        lin1 = nn.Linear(config.Dim, config.HiddenDim);
        lin2 = nn.Linear(config.HiddenDim, config.Dim);
        dropout = nn.Dropout(config.Dropout);
        _activation = Activations.Get(config.Activation, field: "activation");
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dropout.forward(_precision.Linear(lin2, _activation(_precision.Linear(lin1, hidden)))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// transformers' <c>TransformerBlock</c>: attention with a residual connection and <c>sa_layer_norm</c>, then the
/// feed-forward network with a residual connection and <c>output_layer_norm</c> (post-LayerNorm, like BERT).
/// </summary>
public sealed class DistilBertTransformerBlock : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly DistilBertSelfAttention attention;
    private readonly LayerNorm sa_layer_norm;
    private readonly DistilBertFFN ffn;
    private readonly LayerNorm output_layer_norm;

    private readonly MixedPrecision _precision;

    public DistilBertTransformerBlock(DistilBertConfig config, MixedPrecision precision) : base(nameof(DistilBertTransformerBlock))
    {
        _precision = precision;
        attention = new DistilBertSelfAttention(config, precision);
        sa_layer_norm = nn.LayerNorm(config.Dim, eps: DistilBertEmbeddings.LayerNormEps);
        ffn = new DistilBertFFN(config, precision);
        output_layer_norm = nn.LayerNorm(config.Dim, eps: DistilBertEmbeddings.LayerNormEps);
        RegisterComponents();
    }

    internal DistilBertSelfAttention Attention => attention;

    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        // Under mixed precision the sums mix a bf16 branch with the float32 residual, and LayerNorm runs in float32.
        var attended = _precision.LayerNorm(sa_layer_norm, attention.forward(hidden, additiveMask) + hidden);
        return _precision.LayerNorm(output_layer_norm, ffn.forward(attended) + attended).MoveToOuterDisposeScope();
    }
}

/// <summary>transformers' <c>Transformer</c>: the stack of blocks, under the state-dict name <c>layer</c>.</summary>
public sealed class DistilBertTransformer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly ModuleList<DistilBertTransformerBlock> layer;

    public DistilBertTransformer(DistilBertConfig config, MixedPrecision precision) : base(nameof(DistilBertTransformer))
    {
        layer = nn.ModuleList(Enumerable.Range(0, config.NLayers).Select(_ => new DistilBertTransformerBlock(config, precision)).ToArray());
        RegisterComponents();
    }

    /// <summary>The last block's attention weights, after running the blocks before it.</summary>
    internal Tensor LastLayerAttentions(Tensor hidden, Tensor? additiveMask)
    {
        for (var i = 0; i < layer.Count - 1; i++)
            hidden = layer[i].forward(hidden, additiveMask);
        return layer[layer.Count - 1].Attention.AttentionProbabilities(hidden, additiveMask);
    }

    public override Tensor forward(Tensor hidden, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        // Each block's output is all the next one needs; the one before it is released as soon as it has been used.
        var current = hidden;
        foreach (var block in layer)
        {
            var next = block.forward(current, additiveMask);
            if (!ReferenceEquals(current, hidden)) current.Dispose();
            current = next;
        }
        return current.MoveToOuterDisposeScope();
    }
}

using BertSharp.Tokenization;

namespace BertSharp.Modeling;

/// <summary>
/// Checks that a tokenizer can feed a model. A vocab.txt with more tokens than the model has embedding rows loaded
/// fine and then failed inside the forward pass on the first text with a high token id (a native index error: the
/// server answered 500, the CLI aborted); it is one error when the two are loaded together instead.
/// </summary>
public static class TokenizerCompatibility
{
    /// <summary>Throws when <paramref name="tokenizer"/> can produce a token id that <paramref name="config"/>'s model has no embedding for.</summary>
    /// <param name="tokenizer">The tokenizer that will encode the model's inputs.</param>
    /// <param name="config">The model's config.</param>
    /// <param name="source">The model folder or Hub id, named first in the message.</param>
    /// <exception cref="InvalidDataException">The tokenizer's vocabulary is larger than the model's <c>vocab_size</c>.</exception>
    public static void Ensure(BertTokenizer tokenizer, PretrainedConfig config, string source) =>
        Ensure(tokenizer, config.VocabSize, "vocab_size", source);

    /// <summary>The check for any model whose embedding table has <paramref name="vocabSize"/> rows (set by the config field <paramref name="field"/>).</summary>
    public static void Ensure(BertTokenizer tokenizer, int vocabSize, string field, string source)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        // Fewer tokens than rows is normal (vocabularies are often padded to a multiple of 8); more is not.
        if (tokenizer.VocabSize <= vocabSize) return;
        throw new InvalidDataException(
            $"{source}: the tokenizer has {tokenizer.VocabSize.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} tokens but the model's " +
            $"'{field}' = {vocabSize} embedding rows, so token ids {vocabSize} and above have no embedding; the tokenizer and the model must come from the same checkpoint.");
    }
}

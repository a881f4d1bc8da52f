using System.Runtime.CompilerServices;

// The tests reach a few internals (the tokenizer's normalizer, chunked tensor copies, the notebook chart hook, the
// pipeline's length batching) rather than widening the public API for them.
[assembly: InternalsVisibleTo("BertSharp.Tests")]

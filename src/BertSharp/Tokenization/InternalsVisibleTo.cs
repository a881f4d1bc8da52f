using System.Runtime.CompilerServices;

// The tests compare the normalizer and pre-tokenizer with Hugging Face's output directly.
[assembly: InternalsVisibleTo("BertSharp.Tests")]

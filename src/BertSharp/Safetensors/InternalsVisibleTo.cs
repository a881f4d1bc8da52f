using System.Runtime.CompilerServices;

// The tests drive TensorBytes' multi-chunk path with small chunks: real tensors past 2 GiB are too big for CI.
[assembly: InternalsVisibleTo("BertSharp.Tests")]

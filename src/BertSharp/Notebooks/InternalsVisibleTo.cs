using System.Runtime.CompilerServices;

// The tests check the chart formatter's reflection with a stand-in renderer.
[assembly: InternalsVisibleTo("BertSharp.Tests")]

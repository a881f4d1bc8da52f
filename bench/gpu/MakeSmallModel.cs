#:project ../../src/BertSharp/BertSharp.csproj
#:property PublishAot=false
// A small random BertForSequenceClassification with bert-base-uncased's vocabulary and tokenizer files, saved as
// save_pretrained would: the model bench/gpu/run.sh fine-tunes with `bertsharp train` and loads in transformers
// (4 MB instead of the stand-in's 18, so the GPU call's files stay under 64 MiB).
//   dotnet run bench/gpu/MakeSmallModel.cs -- TOKENIZER_DIR OUT_DIR
using BertSharp.Modeling;
using BertSharp.Tokenization;
using static TorchSharp.torch;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: MakeSmallModel.cs TOKENIZER_DIR OUT_DIR");
    return 2;
}
var tokenizer = BertTokenizer.FromDirectory(args[0]);
manual_seed(42);
using var model = new BertForSequenceClassification(new BertConfig
{
    VocabSize = tokenizer.VocabSize, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, NumLabels = 2,
});
model.SavePretrained(args[1]);
tokenizer.SavePretrained(args[1]);
Console.WriteLine($"{args[1]}: {model.parameters().Sum(p => p.numel()):N0} parameters");
return 0;

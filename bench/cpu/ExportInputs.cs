#:project ../../src/BertSharp/BertSharp.csproj
#:property PublishAot=false
// Writes the token ids that `bertsharp bench` feeds its model, so torch_side.py runs PyTorch on the very same inputs:
// the first N reviews of a split in dataset.shuffle(seed=42) order (bench's --samples), truncated to --max-length.
//   dotnet run bench/cpu/ExportInputs.cs -- DATASET SPLIT SAMPLES MAX_LENGTH TOKENIZER_DIR OUT.json
using System.Text.Json;
using BertSharp.Data;
using BertSharp.Tokenization;

if (args.Length != 6)
{
    Console.Error.WriteLine("usage: ExportInputs.cs DATASET SPLIT SAMPLES MAX_LENGTH TOKENIZER_DIR OUT.json");
    return 2;
}
var (dataset, split, samples, maxLength, tokenizerDir, output) = (args[0], args[1], int.Parse(args[2]), int.Parse(args[3]), args[4], args[5]);
var data = DatasetLoader.Load(dataset, split).Shuffle(42).Take(samples);
var tokenizer = AutoTokenizer.FromPretrained(tokenizerDir);
var rows = data.Select(e => new { input_ids = tokenizer.Encode(e.Text, maxLength: maxLength).InputIds, label = e.Label }).ToList();
File.WriteAllText(output, JsonSerializer.Serialize(new { dataset, split, samples, max_length = maxLength, pad_token_id = tokenizer.PadTokenId, rows }));
Console.WriteLine($"{output}: {rows.Count} reviews, {rows.Sum(r => r.input_ids.Length)} tokens");
return 0;

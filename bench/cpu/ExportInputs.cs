#:project ../../src/BertSharp/BertSharp.csproj
#:property PublishAot=false
// Writes the token ids that `bertsharp bench` feeds its model, so torch_side.py runs PyTorch on the very same inputs:
// the first N reviews of a split in dataset.shuffle(seed=42) order (bench's --samples), truncated to --max-length,
// and the batches BertSharp's evaluation makes of them for BATCH_SIZE (longest first, cut where padding would dominate).
//   dotnet run bench/cpu/ExportInputs.cs -- DATASET SPLIT SAMPLES MAX_LENGTH TOKENIZER_DIR OUT.json [BATCH_SIZE]
using System.Text.Json;
using BertSharp.Data;
using BertSharp.Tokenization;

if (args.Length is not (6 or 7))
{
    Console.Error.WriteLine("usage: ExportInputs.cs DATASET SPLIT SAMPLES MAX_LENGTH TOKENIZER_DIR OUT.json [BATCH_SIZE]");
    return 2;
}
var (dataset, split, samples, maxLength, tokenizerDir, output) = (args[0], args[1], int.Parse(args[2]), int.Parse(args[3]), args[4], args[5]);
var batchSize = args.Length == 7 ? int.Parse(args[6]) : 16;
var data = DatasetLoader.Load(dataset, split).Shuffle(42).Take(samples);
var tokenizer = AutoTokenizer.FromPretrained(tokenizerDir);
var rows = data.Select(e => new { input_ids = tokenizer.Encode(e.Text, maxLength: maxLength).InputIds, label = e.Label }).ToList();
var evalBatches = BatchSampler.LengthSortedBatches(rows.Select(r => r.input_ids.Length).ToArray(), batchSize);
// bench eval warms up on the first two batches' worth of rows, batched the same way.
var warmupBatches = BatchSampler.LengthSortedBatches(rows.Take(2 * batchSize).Select(r => r.input_ids.Length).ToArray(), batchSize);
File.WriteAllText(output, JsonSerializer.Serialize(new { dataset, split, samples, max_length = maxLength, pad_token_id = tokenizer.PadTokenId, eval_batch_size = batchSize, eval_batches = evalBatches, warmup_batches = warmupBatches, rows }));
Console.WriteLine($"{output}: {rows.Count} reviews, {rows.Sum(r => r.input_ids.Length)} tokens, {evalBatches.Count} evaluation batches of up to {batchSize}");
return 0;

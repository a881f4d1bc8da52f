using System.CommandLine;
using System.Globalization;
using BertSharp.Data;
using BertSharp.Hub;
using BertSharp.Inference;
using BertSharp.Modeling;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp bench explain</c>: the faithfulness of attributions (<see cref="Faithfulness"/>) on test reviews —
/// the drop of the predicted label's probability after deleting the top-k words by Integrated Gradients, by
/// gradient × input and at random, k = 1…K, with the AOPC — printed as JSON, and as a table on stderr.
/// </summary>
internal sealed class ExplainBench
{
    private readonly Option<int> _steps = new("--steps") { Description = "explain: Integrated Gradients steps.", DefaultValueFactory = _ => 50 };
    private readonly Option<int> _maxWords = new("--max-words") { Description = "explain: the curves run k = 1 to this many deleted words.", DefaultValueFactory = _ => 10 };
    private readonly Option<int> _randomDraws = new("--random-draws") { Description = "explain: random deletion orders per review, averaged.", DefaultValueFactory = _ => 5 };

    public ExplainBench(Command bench)
    {
        foreach (var option in new Option[] { _steps, _maxWords, _randomDraws })
            bench.Options.Add(option);
    }

    public object Run(ParseResult parse, string model, TextClassificationDataset data, int? maxLength, HubClient hub)
    {
        var steps = SharedOptions.CheckAtLeast(parse.GetValue(_steps), 1, "--steps");
        var maxWords = SharedOptions.CheckAtLeast(parse.GetValue(_maxWords), 1, "--max-words");
        var draws = SharedOptions.CheckAtLeast(parse.GetValue(_randomDraws), 1, "--random-draws");
        using var pipeline = TextClassificationPipeline.FromPretrained(model, new PretrainedOptions { Hub = hub }, maxLength);
        var texts = data.Select(e => e.Text).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = Faithfulness.Run(pipeline, texts, maxWords, steps, draws, seed: 42,
            progress: (done, all) => { if (done % 20 == 0 || done == all) Console.Error.WriteLine($"explained {done}/{all} reviews ({clock.Elapsed.TotalSeconds:F0} s)"); });
        PrintTable(result);
        return new
        {
            task = "explain",
            model,
            samples = result.Texts,
            max_length = pipeline.MaxLength,
            steps = result.Steps,
            integration = "gauss_legendre",
            random_draws = result.RandomDraws,
            threads = TorchSharp.torch.get_num_threads(),
            mean_probability = result.MeanProbability,
            mean_relative_delta = result.MeanRelativeDelta,
            max_relative_delta = result.MaxRelativeDelta,
            seconds_per_explanation = result.SecondsPerExplanation,
            seconds = clock.Elapsed.TotalSeconds,
            curves = result.Curves.ToDictionary(c => c.Method, c => new { probability_drop = c.ProbabilityDrop, aopc = c.Aopc }),
        };
    }

    private static void PrintTable(FaithfulnessResult result)
    {
        var i = CultureInfo.InvariantCulture;
        var error = Console.Error;
        error.WriteLine($"mean probability drop after deleting the top-k words ({result.Texts} reviews; AOPC in brackets):");
        error.WriteLine("  k  " + string.Join("  ", result.Curves.Select(c => c.Method.PadLeft(24))));
        for (var k = 0; k < result.MaxWords; k++)
            error.WriteLine($" {k + 1,2}  " + string.Join("  ", result.Curves.Select(c =>
                $"{c.ProbabilityDrop[k].ToString("0.0000", i)} ({c.Aopc[k].ToString("0.0000", i)})".PadLeft(24))));
    }
}

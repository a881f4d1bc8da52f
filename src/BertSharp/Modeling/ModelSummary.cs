using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>One row of a model summary: a module path, its parameter count and the shapes it holds directly.</summary>
public sealed record ModuleParameters(string Module, long Parameters, double Share);

/// <summary>Parameter counts per module, like the summaries Keras or torchinfo print, grouped to a readable depth.</summary>
public static class ModelSummary
{
    /// <summary>
    /// Parameters grouped by the first <paramref name="depth"/> parts of their names, with repeated encoder layers
    /// (<c>encoder.layer.N</c>) kept apart, so the table shows where the weights are: for bert-base, a fifth sit in
    /// the word embeddings.
    /// </summary>
    public static IReadOnlyList<ModuleParameters> Count(nn.Module model, int depth = 3)
    {
        var total = 0L;
        var groups = new Dictionary<string, long>();
        var order = new List<string>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var parts = name.Split('.');
            var keep = parts.Take(Math.Min(depth + (parts.Contains("layer") ? 1 : 0), parts.Length - 1));
            var key = string.Join('.', keep);
            if (!groups.ContainsKey(key)) order.Add(key);
            groups[key] = groups.GetValueOrDefault(key) + parameter.numel();
            total += parameter.numel();
        }
        return order.Select(k => new ModuleParameters(k, groups[k], (double)groups[k] / total))
            .Append(new ModuleParameters("total", total, 1.0)).ToList();
    }

    public static string ToText(IReadOnlyList<ModuleParameters> rows)
    {
        var width = rows.Max(r => r.Module.Length);
        var text = new StringBuilder();
        foreach (var row in rows)
            text.AppendLine($"{row.Module.PadRight(width)}  {row.Parameters,12:N0}  {row.Share,7:P1}");
        return text.ToString();
    }
}

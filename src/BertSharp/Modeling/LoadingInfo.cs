using System.Text;

namespace BertSharp.Modeling;

/// <summary>
/// What <c>FromPretrained</c> did with the checkpoint's keys, reported the way transformers reports it, so a
/// learner sees that e.g. the classifier is newly initialised and must be trained.
/// </summary>
public sealed record LoadingInfo(
    string Source,
    string ModelClass,
    IReadOnlyList<string> MissingKeys,
    IReadOnlyList<string> UnexpectedKeys,
    IReadOnlyList<string> MismatchedKeys,
    IReadOnlyList<string> RenamedKeys)
{
    public bool IsComplete => MissingKeys.Count == 0 && MismatchedKeys.Count == 0;

    public override string ToString()
    {
        var text = new StringBuilder();
        if (UnexpectedKeys.Count > 0)
            text.AppendLine($"Some weights of the model checkpoint at {Source} were not used when initializing {ModelClass}: [{Join(UnexpectedKeys)}]")
                .AppendLine($"- This IS expected if you are initializing {ModelClass} from the checkpoint of a model trained on another task or with another architecture (e.g. initializing a BertForSequenceClassification model from a BertForPreTraining model).");
        if (MissingKeys.Count > 0)
            text.AppendLine($"Some weights of {ModelClass} were not initialized from the model checkpoint at {Source} and are newly initialized: [{Join(MissingKeys)}]");
        if (MismatchedKeys.Count > 0)
            text.AppendLine($"Some weights of {ModelClass} were not initialized from the model checkpoint at {Source} and are newly initialized because the shapes did not match: [{Join(MismatchedKeys)}]");
        if (!IsComplete)
            text.AppendLine("You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference.");
        if (text.Length == 0)
            text.AppendLine($"All the weights of {ModelClass} were initialized from the model checkpoint at {Source}.");
        return text.ToString().TrimEnd();
    }

    private static string Join(IEnumerable<string> keys) => string.Join(", ", keys.Select(k => $"'{k}'"));
}

namespace BertSharp.Data;

/// <summary>Checks on labels shared by the raw and the tokenised datasets, so both say the same thing the same way.</summary>
internal static class LabelChecks
{
    public static void EnsureLabeled(string source, int count, Func<int, bool> isLabeled)
    {
        var first = -1;
        var unlabeled = 0;
        for (var i = 0; i < count; i++)
        {
            if (isLabeled(i)) continue;
            if (first < 0) first = i;
            unlabeled++;
        }
        if (first >= 0)
            throw new InvalidDataException(
                $"{source} has unlabeled rows: {unlabeled} of {count}, the first at row {first}; use a labelled split (e.g. train or test).");
    }
}

namespace BertSharp.Hub;

/// <summary>
/// A Hub repository id with the revision to read, written <c>org/name</c> or <c>org/name@revision</c> (a branch, tag or
/// commit), as users pass it to every <c>--model</c> and <c>--dataset</c>. The one place that syntax is parsed.
/// </summary>
public readonly record struct RepoReference(string RepoId, string Revision)
{
    public const string DefaultRevision = "main";

    /// <summary>Parses <c>org/name[@revision]</c>; false for anything that is not a valid repo id or has an empty revision.</summary>
    public static bool TryParse(string value, out RepoReference reference)
    {
        reference = default;
        if (string.IsNullOrWhiteSpace(value)) return false;
        var at = value.IndexOf('@');
        var (repoId, revision) = at < 0 ? (value, DefaultRevision) : (value[..at], value[(at + 1)..]);
        if (revision.Length == 0 || !HubClient.IsValidRepoId(repoId)) return false;
        reference = new RepoReference(repoId, revision);
        return true;
    }

    public override string ToString() => Revision == DefaultRevision ? RepoId : $"{RepoId}@{Revision}";
}

namespace BertSharp.Hub;

/// <summary>
/// Turns the "model id or path" that transformers' <c>from_pretrained</c> accepts into a local file, so every
/// loader treats local folders and Hub repos alike.
/// </summary>
public static class Pretrained
{
    /// <summary>
    /// A local folder wins (as in transformers); otherwise <paramref name="modelIdOrPath"/> is a Hub repo id,
    /// optionally pinned as <c>org/name@revision</c>, and the file is downloaded into the shared cache.
    /// </summary>
    /// <param name="modelIdOrPath">A local model folder, or a Hub repo id such as <c>bert-base-uncased</c> or <c>org/name@v1.0</c>.</param>
    /// <param name="filename">The file inside the folder or repo, e.g. <c>config.json</c>.</param>
    /// <param name="hub">The client to download with; null makes one from the environment for this call.</param>
    /// <param name="optional">Return null instead of throwing when the file does not exist (locally or on the Hub).</param>
    /// <param name="progress">Download progress, also told when the file came from the cache.</param>
    /// <returns>The local path, or null only when <paramref name="optional"/> and the file does not exist.</returns>
    public static string? ResolveFile(string modelIdOrPath, string filename, HubClient? hub = null, bool optional = false,
        IProgress<DownloadProgress>? progress = null)
    {
        // Messages without a parameter name: the id comes from a user (--model), and the message is all they see.
        if (string.IsNullOrWhiteSpace(modelIdOrPath))
            throw new ArgumentException("No model was given: the model id or path is empty.");
        ArgumentException.ThrowIfNullOrWhiteSpace(filename);

        if (Directory.Exists(modelIdOrPath))
        {
            var local = Path.GetFullPath(Path.Combine(modelIdOrPath, filename));
            if (File.Exists(local))
                return local;
            if (optional)
                return null;
            throw new FileNotFoundException(
                $"The model folder '{Path.GetFullPath(modelIdOrPath)}' has no '{filename}'.", local);
        }

        if (!RepoReference.TryParse(modelIdOrPath, out var repo))
            throw new ArgumentException(
                $"'{modelIdOrPath}' is neither an existing directory nor a valid Hub repo id ('name', 'org/name' or 'org/name@revision').");
        var (repoId, revision) = repo;

        var owned = hub is null ? new HubClient() : null;
        try
        {
            var client = hub ?? owned!;
            // Task.Run keeps a caller's synchronization context from deadlocking on the continuations.
            return optional
                ? Task.Run(() => client.TryDownloadFileAsync(repoId, filename, RepoType.Model, revision, progress)).GetAwaiter().GetResult()
                : client.DownloadFile(repoId, filename, RepoType.Model, revision, progress);
        }
        finally
        {
            owned?.Dispose();
        }
    }
}

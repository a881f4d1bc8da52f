namespace BertSharp.Hub;

/// <summary>
/// One progress report of <see cref="HubClient"/>. <paramref name="TotalBytes"/> is null when the server did not
/// announce a size; <paramref name="FromCache"/> is true when the file was served from the local cache.
/// </summary>
public sealed record DownloadProgress(string RepoId, string FileName, long BytesDownloaded, long? TotalBytes, bool FromCache);

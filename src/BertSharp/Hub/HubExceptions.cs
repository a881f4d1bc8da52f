using System.Net;

namespace BertSharp.Hub;

/// <summary>Base of every failure the Hub client reports, so callers can catch Hub problems in one place.</summary>
public class HubException : Exception
{
    public HubException(string message, Exception? innerException = null, HttpStatusCode? statusCode = null, string? url = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Url = url;
    }

    /// <summary>The HTTP status the server answered, when the failure came from an answer rather than the network.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The URL that failed, when there was one.</summary>
    public string? Url { get; }
}

/// <summary>The server answered 404: the repository, the revision or the file does not exist.</summary>
public sealed class HubFileNotFoundException : HubException
{
    public HubFileNotFoundException(string message, string repoId, string fileName, string revision, string? url, string? errorCode = null)
        : base(message, null, HttpStatusCode.NotFound, url)
    {
        RepoId = repoId;
        FileName = fileName;
        Revision = revision;
        ErrorCode = errorCode;
    }

    public string RepoId { get; }
    public string FileName { get; }
    public string Revision { get; }

    /// <summary>
    /// The Hub's <c>X-Error-Code</c> (<c>EntryNotFound</c>, <c>RepoNotFound</c>, <c>RevisionNotFound</c>), or null
    /// from servers that do not send one. Only a missing file (not a missing repo or revision) is "optional".
    /// </summary>
    public string? ErrorCode { get; }

    internal bool IsMissingEntry => ErrorCode is null || ErrorCode == "EntryNotFound";
}

/// <summary>The server answered 401 or 403: a private or gated repository, or a missing or invalid token.</summary>
public sealed class HubAuthenticationException : HubException
{
    public HubAuthenticationException(string message, HttpStatusCode statusCode, string? url)
        : base(message, null, statusCode, url)
    {
    }
}

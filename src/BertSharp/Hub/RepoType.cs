namespace BertSharp.Hub;

/// <summary>The kind of Hub repository; it decides both the URL prefix and the cache folder prefix.</summary>
public enum RepoType
{
    Model,
    Dataset,
}

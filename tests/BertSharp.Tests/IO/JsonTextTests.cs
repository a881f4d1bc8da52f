using System.Text;
using System.Text.Json;
using BertSharp.IO;

namespace BertSharp.Tests.IO;

/// <summary>
/// System.Text.Json parses half a surrogate pair or bytes that are not UTF-8 inside a string, and throws
/// InvalidOperationException only when the string is read; JsonText makes that a JsonException naming the string.
/// </summary>
public class JsonTextTests
{
    [Theory]
    [InlineData("{\"text\": \"\\ud800\"}", "'text' is not valid text: it has an unpaired UTF-16 surrogate escape (byte 10).")]
    [InlineData("{\"texts\": [\"ok\", \"\\udc00\"]}", "'texts[1]' is not valid text")]
    [InlineData("{\"a\": [{\"b\": 1}, {\"c\": \"\\ud83d\"}]}", "'a[1].c' is not valid text")]
    [InlineData("{\"\\ud800\": 1}", "a property name is not valid text")]
    [InlineData("{\"outer\": {\"\\ud800\": 1}}", "a property name in 'outer' is not valid text")]
    [InlineData("\"\\ude00\\ud83d\"", "the JSON string is not valid text")]
    [InlineData("{\n  \"x\": 1,\n  \"y\": \"\\ud800\"\n}", "'y' is not valid text: it has an unpaired UTF-16 surrogate escape (line 3, byte 8).")]
    public void HalfASurrogatePairIsAJsonExceptionNamingTheString(string json, string expected)
    {
        var error = Assert.Throws<JsonException>(() => JsonText.ParseDocument(json));
        Assert.Contains(expected, error.Message);
        Assert.Throws<JsonException>(() => JsonText.ParseNode(json));
    }

    [Fact]
    public void BytesThatAreNotUtf8InAStringAreAJsonException()
    {
        byte[] json = [.. Encoding.UTF8.GetBytes("{\"text\": \"caf"), 0xE9, .. Encoding.UTF8.GetBytes("\"}")];
        var error = Assert.Throws<JsonException>(() => JsonText.ParseDocument(json));
        Assert.Contains("'text' is not valid text: it is not valid UTF-8", error.Message);
    }

    [Fact]
    public void ValidTextParsesAsBefore()
    {
        using var doc = JsonText.ParseDocument("{\"emoji\": \"\\ud83d\\ude00\", \"list\": [\"é\", 1, null]}");
        Assert.Equal("😀", doc.RootElement.GetProperty("emoji").GetString());
        Assert.ThrowsAny<JsonException>(() => JsonText.ParseDocument("{\"a\": 1,}"));
        using var trailing = JsonText.ParseDocument("{\"a\": 1,}", new JsonDocumentOptions { AllowTrailingCommas = true });
        Assert.Equal(1, trailing.RootElement.GetProperty("a").GetInt32());
    }
}

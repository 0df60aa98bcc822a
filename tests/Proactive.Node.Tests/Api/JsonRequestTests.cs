using System.Text;
using Proactive.Node.Api;

namespace Proactive.Node.Tests.Api;

/// <summary>Strict JSON request parsing: every refusal names what is wrong, none throws.</summary>
public sealed class JsonRequestTests
{
    [Fact]
    public void A_valid_body_parses()
    {
        Assert.True(Parse("""{ "input": "00ff" }""", out var request, out _));
        Assert.Equal("00ff", request!.Input);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("{", "not valid JSON")]
    [InlineData("{\"input\": \"00\",}", "not valid JSON")]
    [InlineData("{\"input\": '00'}", "not valid JSON")]
    [InlineData("{\"input\": \"00\"} {}", "not valid JSON")]
    [InlineData("\u00ff\u00fe", "not valid JSON")]
    public void Bodies_that_are_not_json_are_malformed(string body, string why)
    {
        Assert.False(Parse(body, out _, out var error));
        Assert.Equal("malformed-json", error!.Kind.Code);
        Assert.Contains(why, error.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_malformed()
    {
        var deep = string.Concat(Enumerable.Repeat("[", JsonRequest.MaxDepth + 1)) + string.Concat(Enumerable.Repeat("]", JsonRequest.MaxDepth + 1));

        Assert.False(Parse($$"""{ "input": {{deep}} }""", out _, out var error));
        Assert.Equal("malformed-json", error!.Kind.Code);
    }

    [Theory]
    [InlineData("[]", "must be a JSON object, not an array")]
    [InlineData("\"00\"", "must be a JSON object, not a string")]
    [InlineData("null", "must be a JSON object, not null")]
    [InlineData("{}", "Missing member 'input'")]
    [InlineData("{\"Input\": \"00\"}", "Unknown member 'Input'")]
    [InlineData("{\"input\": \"00\", \"extra\": 1}", "Unknown member 'extra'; the members are 'input'")]
    [InlineData("{\"input\": \"00\", \"input\": \"01\"}", "'input' is given twice")]
    [InlineData("{\"input\": 12}", "'input' must be a string")]
    [InlineData("{\"input\": [\"00\"]}", "'input' must be a string")]
    [InlineData("{\"input\": null}", "'input' must not be null")]
    public void Objects_of_the_wrong_shape_are_invalid_requests_naming_the_member(string body, string named)
    {
        Assert.False(Parse(body, out _, out var error));
        Assert.Equal("invalid-request", error!.Kind.Code);
        Assert.Equal(400, error.Kind.Status);
        Assert.Contains(named, error.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Proactive.", error.Detail, StringComparison.Ordinal); // no .NET type names
    }

    private static bool Parse(string body, out RandomRequest? request, out ApiError? error) =>
        JsonRequest.TryParse(Encoding.UTF8.GetBytes(body), ApplicationApiJsonContext.Default.RandomRequest, out request, out error);
}

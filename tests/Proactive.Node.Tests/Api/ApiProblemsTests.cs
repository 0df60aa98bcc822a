using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Proactive.Node.Api;

namespace Proactive.Node.Tests.Api;

/// <summary>The problem catalog and its one writer.</summary>
public sealed class ApiProblemsTests
{
    [Fact]
    public void Every_code_is_unique_kebab_case_and_the_last_part_of_its_type()
    {
        var codes = ApiProblems.All.Select(p => p.Code).ToList();

        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(ApiProblems.All, kind =>
        {
            Assert.Matches("^[a-z]+(-[a-z]+)*$", kind.Code);
            Assert.Equal("urn:proactive:problem:" + kind.Code, kind.Type);
            Assert.InRange(kind.Status, 400, 599);
        });

        // The codes of the read-only API keep working.
        Assert.Subset(codes.ToHashSet(), new HashSet<string> { "invalid-query", "not-found", "method-not-allowed", "body-not-accepted", "internal-error" });
    }

    [Fact]
    public async Task A_problem_is_written_with_its_code_and_a_503_says_when_to_come_back()
    {
        var (context, body) = NewContext("/v1/random");

        await ApiProblems.WriteAsync(context, ApiProblems.Busy, "too much waiting", TimeSpan.FromMilliseconds(2500));

        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType?.Split(';')[0]);
        Assert.Equal("3", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
        using var json = JsonDocument.Parse(body.ToArray());
        Assert.Equal(["type", "title", "status", "detail", "instance", "code"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("busy", json.RootElement.GetProperty("code").GetString());
        Assert.Equal("/v1/random", json.RootElement.GetProperty("instance").GetString());
        Assert.Equal("too much waiting", json.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_401_names_the_signature_scheme_and_its_headers()
    {
        var (context, _) = NewContext("/v1/time");

        await new ApiError(ApiProblems.BadSignature, "no").WriteAsync(context);

        Assert.Equal(401, context.Response.StatusCode);
        var challenge = context.Response.Headers.WWWAuthenticate.ToString();
        Assert.StartsWith("Proactive ", challenge, StringComparison.Ordinal);
        Assert.Contains("Proactive-Signature", challenge, StringComparison.Ordinal);
        Assert.True(string.IsNullOrEmpty(context.Response.Headers.RetryAfter));
    }

    private static (DefaultHttpContext Context, MemoryStream Body) NewContext(string path)
    {
        var body = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Response.Body = body;
        return (context, body);
    }
}

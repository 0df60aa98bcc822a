using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Proactive.Node.Api;
using Proactive.Node.StatusPage;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests.StatusPage;

/// <summary>The status page's files on a real loopback API: media types, the security headers, caching, methods, and nothing fetched from elsewhere.</summary>
public sealed partial class StatusPageAssetsTests : IAsyncLifetime, IDisposable
{
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly TempDirectory _temp = new();
    private readonly HttpClient _client = new();
    private AlertLog _log = null!;
    private NodeApi _api = null!;

    public async Task InitializeAsync()
    {
        _log = AlertLog.Open(_temp.Combine("alerts.db"));
        var (writeProtected, description) = NodeStatus.DescribeRom(RomProtection.Writable);
        var status = new NodeStatus(1, NodeState.Operational, 1, null, null, null, null, null, [], 0, writeProtected, description, DateTimeOffset.UnixEpoch, "1.0.0.0");
        _api = new NodeApi(new IPEndPoint(IPAddress.Loopback, 0), () => status, _log);
        await _api.StartAsync();
        _client.BaseAddress = _api.BaseAddress;
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    public void Dispose()
    {
        _client.Dispose();
        _log.Dispose();
        _temp.Dispose();
    }

    [Theory]
    [InlineData("/ui", "text/html")]
    [InlineData("/ui/", "text/html")]
    [InlineData("/ui/index.html", "text/html")]
    [InlineData("/ui/status.js", "text/javascript")]
    [InlineData("/ui/status.css", "text/css")]
    public async Task Each_file_is_served_with_its_media_type_and_the_security_headers(string path, string mediaType)
    {
        using var response = await _client.GetAsync(path);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(Policy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.NotEmpty(body);
    }

    [Fact]
    public async Task The_page_loads_its_own_script_and_styles_by_absolute_path()
    {
        var html = await _client.GetStringAsync("/ui");

        Assert.Contains("<script src=\"/ui/status.js\" defer></script>", html, StringComparison.Ordinal);
        Assert.Contains("<link rel=\"stylesheet\" href=\"/ui/status.css\">", html, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"en\">", html, StringComparison.Ordinal);
        Assert.Contains("name=\"viewport\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void No_file_loads_anything_from_elsewhere_or_holds_inline_script_or_style()
    {
        foreach (var asset in StatusPageAssets.All.Values)
        {
            var text = Encoding.UTF8.GetString(asset.Content);
            // The SVG namespace is a name, not an address the browser fetches.
            var urls = AbsoluteUrl().Matches(text).Select(m => m.Value).Where(u => u != "http://www.w3.org/2000/svg").ToList();
            Assert.True(urls.Count == 0, $"{asset.Name} refers to {string.Join(", ", urls)}");
            Assert.DoesNotContain("@import", text, StringComparison.Ordinal);
            Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
            if (asset.Name.EndsWith(".html", StringComparison.Ordinal))
            {
                Assert.Empty(InlineScript().Matches(text));
                Assert.Empty(InlineHandlerOrStyle().Matches(text));
                Assert.DoesNotContain("<style", text, StringComparison.Ordinal);
            }
        }

        Assert.Equal(["index.html", "status.css", "status.js"], StatusPageAssets.All.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_copy_the_browser_holds_is_confirmed_with_304()
    {
        using var first = await _client.GetAsync("/ui/status.js");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/status.js");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        using var second = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_gives_the_headers_without_the_body()
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/ui"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Other_methods_are_405_and_unknown_files_404_as_problems()
    {
        using var delete = await _client.DeleteAsync("/ui");
        using var missing = await _client.GetAsync("/ui/missing.js");
        using var deep = await _client.GetAsync("/ui/a/b");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        Assert.Equal(["GET", "HEAD"], delete.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(NodeApi.ProblemJson, delete.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(NodeApi.ProblemJson, missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("missing.js", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, deep.StatusCode);
        Assert.Equal(NodeApi.ProblemJson, deep.Content.Headers.ContentType?.MediaType);
    }

    [GeneratedRegex(@"https?://[^\s""'`)<>]+")]
    private static partial Regex AbsoluteUrl();

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>")]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"\s(on[a-z]+|style)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandlerOrStyle();
}

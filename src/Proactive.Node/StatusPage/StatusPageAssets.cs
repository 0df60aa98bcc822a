// References: docs/BRIEF.md section 4 ("Status GUI": a web page served by each server); issue 6 item 1
// (static assets shipped with the server, no CDN, works offline); W3C Content Security Policy Level 3;
// RFC 9110 section 8.8.3 (ETag) and 13.1.2 (If-None-Match).
using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Proactive.Node.StatusPage;

/// <summary>One file of the status page, as served.</summary>
/// <param name="Name">Its name under <c>/ui/</c>.</param>
/// <param name="ContentType">Its media type with charset.</param>
/// <param name="Content">Its bytes.</param>
/// <param name="ETag">A strong validator (quoted hash of the content).</param>
internal sealed record StatusPageAsset(string Name, string ContentType, byte[] Content, string ETag);

/// <summary>
/// The status page's files, embedded in this assembly (<c>StatusPage/Assets/</c>): plain HTML, CSS and
/// JavaScript with no build step and nothing fetched from elsewhere, so the page works offline and a
/// server needs no files beside its program.
/// </summary>
internal static class StatusPageAssets
{
    /// <summary>The page's own document (what <c>/ui</c> answers).</summary>
    public const string IndexName = "index.html";

    /// <summary>
    /// The policy every file is served with: the page's own script, styles and API only (no inline
    /// script or style, no other origin, no frames, no forms), so injected markup could run nothing and
    /// send nothing anywhere. Data URLs are allowed for images only (the empty favicon).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "Proactive.Node.StatusPage.Assets.";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
    }.ToFrozenDictionary();

    private static readonly Lazy<FrozenDictionary<string, StatusPageAsset>> Loaded = new(Load);

    /// <summary>Every file, by name.</summary>
    public static FrozenDictionary<string, StatusPageAsset> All => Loaded.Value;

    /// <summary>The file named <paramref name="name"/>, or null.</summary>
    public static StatusPageAsset? Find(string name) => All.GetValueOrDefault(name);

    private static FrozenDictionary<string, StatusPageAsset> Load()
    {
        var assembly = typeof(StatusPageAssets).Assembly;
        var assets = new Dictionary<string, StatusPageAsset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            var name = resource[ResourcePrefix.Length..];
            if (!ContentTypes.TryGetValue(Path.GetExtension(name), out var contentType))
            {
                throw new InvalidOperationException($"The status page file {name} has no known media type; add its extension to {nameof(StatusPageAssets)}.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 16)) + "\"";
            assets[name] = new StatusPageAsset(name, contentType, content, etag);
        }

        if (!assets.ContainsKey(IndexName))
        {
            throw new InvalidOperationException($"The status page's {IndexName} is not embedded in {assembly.GetName().Name}.");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

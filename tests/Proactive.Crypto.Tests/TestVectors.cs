using System.Text.Json;

namespace Proactive.Crypto.Tests;

/// <summary>
/// Finds the published vectors in <c>shared/vectors</c> beside (or inside) an ancestor of the test
/// binaries, and holds the small helpers every vector and snapshot test uses.
/// </summary>
internal static class TestVectors
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The path of <paramref name="parts"/> under <c>shared/vectors</c>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    /// <summary>The JSON file at <paramref name="parts"/> under <c>shared/vectors</c>; the caller disposes it.</summary>
    public static JsonDocument LoadJson(params string[] parts) => JsonDocument.Parse(File.ReadAllBytes(Path(parts)));

    /// <summary>Bytes from hex (either case), as vectors and snapshots write them.</summary>
    public static byte[] Hex(string hex) => Convert.FromHexString(hex);

    /// <summary>Bytes from a JSON string holding hex.</summary>
    public static byte[] Hex(JsonElement element) => Hex(element.GetString()!);

    /// <summary>Bytes from the hex string in property <paramref name="name"/> of a JSON object.</summary>
    public static byte[] Hex(JsonElement element, string name) => Hex(element.GetProperty(name));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { System.IO.Path.Combine(dir.FullName, "shared", "vectors"), System.IO.Path.Combine(dir.FullName, "..", "shared", "vectors") })
            {
                if (Directory.Exists(candidate))
                {
                    return System.IO.Path.GetFullPath(candidate);
                }
            }
        }

        throw new DirectoryNotFoundException($"No shared/vectors directory above {AppContext.BaseDirectory}.");
    }
}

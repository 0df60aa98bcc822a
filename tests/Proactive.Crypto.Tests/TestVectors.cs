namespace Proactive.Crypto.Tests;

/// <summary>Finds the published vectors in <c>shared/vectors</c> beside (or inside) an ancestor of the test binaries.</summary>
internal static class TestVectors
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The path of <paramref name="parts"/> under <c>shared/vectors</c>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

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

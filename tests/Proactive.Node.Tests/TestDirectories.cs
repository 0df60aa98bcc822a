using System.Runtime.InteropServices;
using Proactive.Node.Provisioning;
using Proactive.Node.Storage;

namespace Proactive.Node.Tests;

/// <summary>A fresh folder under the system temp folder, removed (read-only files included) on dispose.</summary>
internal sealed partial class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "proactive-node-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Provisions server <paramref name="serverId"/> in a subfolder and returns its directory.</summary>
    public ServerDirectory Provision(int serverId = 1, string? name = null, ulong seed = 1)
    {
        var directory = new ServerDirectory(Combine(name ?? $"server{serverId}"));
        Provisioner.Provision(directory, serverId, new SeededRandom(seed + (ulong)serverId));
        return directory;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Makes <paramref name="linkPath"/> a second name of the file at <paramref name="path"/> (link(2)), so a test can read the inode after the first name is deleted.</summary>
    public static void HardLink(string path, string linkPath)
    {
        if (Link(path, linkPath) != 0)
        {
            throw new IOException($"link({path}, {linkPath}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string path, string linkPath);
}

/// <summary>Raw bytes of the files SQLite writes, read while the store is open.</summary>
internal static class RawFiles
{
    public static byte[] Read(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}

// References: docs/BRIEF.md section 4 ("erased for real: ... key files overwritten"); toolkit (seed
// 001) Table 3 ("Erase S_start (VERY IMPORTANT)").
using System.Security.Cryptography;

namespace Proactive.Node.Storage;

/// <summary>
/// Secret key files (S_start, TLS private keys): created owner-only (0600) and durable, read back
/// into arrays the caller wipes, and erased by overwriting the bytes in place before unlinking.
/// </summary>
/// <remarks>
/// Erasure overwrites the file's blocks through the file itself, once with zeros, and fsyncs before
/// the unlink, so the old bytes are gone from every place the file system reaches through this inode
/// (a hard link kept by an attacker reads zeros). One pass is what modern drives need; no number of
/// passes reaches copies a copy-on-write file system (btrfs, ZFS) or an SSD's flash translation layer
/// keeps elsewhere: there, only full-disk encryption whose key is destroyed helps.
/// </remarks>
public static class KeyFile
{
    /// <summary>Key files are small; a larger file is not one of ours.</summary>
    public const int MaxLength = 64 * 1024;

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates <paramref name="path"/> (mode 0600; its folder 0700 if created) holding <paramref name="secret"/>, durable before returning.</summary>
    /// <exception cref="IOException">The file already exists (a key is never overwritten by another), or the write failed.</exception>
    public static void WriteNew(string path, ReadOnlySpan<byte> secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (secret.Length > MaxLength)
        {
            throw new ArgumentException($"A key file holds at most {MaxLength} bytes.", nameof(secret));
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        CreateOwnerOnlyDirectory(folder);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(secret);
            file.Flush(flushToDisk: true);
        }

        NativeFileSystem.TrySyncDirectory(folder);
    }

    /// <summary>The file's bytes, in an array the caller must wipe (<see cref="CryptographicOperations.ZeroMemory"/>).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is larger than <see cref="MaxLength"/>.</exception>
    public static byte[] Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        if (file.Length > MaxLength)
        {
            throw new InvalidDataException($"{path} is {file.Length} bytes; a key file is at most {MaxLength}.");
        }

        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// Overwrites every byte of <paramref name="path"/> with zeros, fsyncs, deletes it and fsyncs its
    /// folder. False when there was no file (erasing twice is not an error: a crash may fall between
    /// the erasure and whatever recorded it).
    /// </summary>
    public static bool Erase(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            return false;
        }

        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            var remaining = file.Length;
            Span<byte> zeros = stackalloc byte[4096];
            zeros.Clear();
            while (remaining > 0)
            {
                var chunk = (int)Math.Min(remaining, zeros.Length);
                file.Write(zeros[..chunk]);
                remaining -= chunk;
            }

            file.Flush(flushToDisk: true);
        }

        File.Delete(path);
        NativeFileSystem.TrySyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return true;
    }

    /// <summary>Creates <paramref name="folder"/> owner-only (0700) if missing; an existing folder is left as it is.</summary>
    internal static void CreateOwnerOnlyDirectory(string folder)
    {
        if (Directory.Exists(folder))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnlyDirectory);
        }
    }
}

// References: docs/NODE.md "Storage" (files in a server directory); docs/BRIEF.md section 8 (a
// volume for the store, a read-only volume for the ROM).
namespace Proactive.Node.Storage;

/// <summary>
/// Where one server keeps its files. Everything lives in <see cref="Root"/> except, optionally, the
/// ROM, which a deployment may put on a read-only volume of its own.
/// </summary>
public sealed class ServerDirectory
{
    /// <summary>The ROM file's name in <see cref="Root"/> when no other path is given.</summary>
    public const string RomFileName = "rom.json";

    /// <summary>The SQLite store's file name (SQLite adds <c>-wal</c> and <c>-shm</c> beside it).</summary>
    public const string StoreFileName = "store.db";

    /// <summary>The folder of secret key files (S_start, TLS private keys).</summary>
    public const string KeysFolderName = "keys";

    /// <summary>S_start's file name in <see cref="KeysDirectory"/>.</summary>
    public const string StartKeyFileName = "start.key";

    /// <summary>A server directory at <paramref name="root"/>, with its ROM at <paramref name="romPath"/> if given (else <c>root/rom.json</c>).</summary>
    public ServerDirectory(string root, string? romPath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Root = Path.GetFullPath(root);
        RomPath = romPath is null ? Path.Combine(Root, RomFileName) : Path.GetFullPath(romPath);
    }

    public string Root { get; }

    /// <summary>V_start and the server id, written once at provisioning, then read-only.</summary>
    public string RomPath { get; }

    /// <summary>Public and private data (one SQLite file, so one step commits atomically).</summary>
    public string StorePath => Path.Combine(Root, StoreFileName);

    /// <summary>SQLite's write-ahead log beside the store.</summary>
    public string StoreWalPath => StorePath + "-wal";

    /// <summary>SQLite's WAL index beside the store (no data, only page locations).</summary>
    public string StoreSharedMemoryPath => StorePath + "-shm";

    /// <summary>Secret key files, owner-only.</summary>
    public string KeysDirectory => Path.Combine(Root, KeysFolderName);

    /// <summary>S_start: made at provisioning, erased at initialization (toolkit Table 3).</summary>
    public string StartKeyPath => Path.Combine(KeysDirectory, StartKeyFileName);

    public override string ToString() => Root;
}

// References: docs/NODE.md "Storage" ("Opening a store; corruption", "Durability").
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Proactive.Node.Storage;

/// <summary>
/// What every SQLite file of a server (the store, the alert log) does the same way when it is opened:
/// refuse a leftover write-ahead log without its database, create the file owner-only, connect without
/// pooling, and insist on the settings durability rests on. The callers wrap failures in their own
/// exception types.
/// </summary>
internal static class SqliteFile
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>A -wal or -shm file of <paramref name="path"/> left without its database (a new file there could replay another database's log), or null.</summary>
    public static string? OrphanedLogOf(string path) =>
        new[] { path + "-wal", path + "-shm" }.FirstOrDefault(File.Exists);

    /// <summary>Creates <paramref name="path"/> empty and owner-only; SQLite treats an empty file as an empty database and gives its -wal and -shm files the same mode.</summary>
    /// <exception cref="IOException">The file exists or cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder refuses it.</exception>
    public static void CreateOwnerOnly(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerReadWrite;
        }

        new FileStream(path, options).Dispose();
    }

    /// <summary>An unopened read-write connection of its own (no pool: closing it closes the file).</summary>
    public static SqliteConnection Connect(string path) => new(new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWrite,
        Cache = SqliteCacheMode.Private,
        Pooling = false,
    }.ToString());

    /// <summary>Runs <paramref name="pragma"/>; when <paramref name="expected"/> is given and SQLite answers otherwise, throws what <paramref name="refused"/> makes of the answer.</summary>
    public static void Require(SqliteConnection connection, string pragma, string? expected, Func<string?, Exception> refused)
    {
        using var command = connection.CreateCommand();
        command.CommandText = pragma;
        var result = Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (expected is not null && !string.Equals(result, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw refused(result);
        }
    }
}

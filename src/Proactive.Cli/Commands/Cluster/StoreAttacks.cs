// References: docs/BRIEF.md section 5 (the demo: a break-in, recovery, stolen shares of different
// periods that do not combine); toolkit (seed 001) section 3.2 (ROM, public and private data).
using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Proactive.Node.Storage;
using Proactive.Protocols.Controller;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// What <c>cluster break-in</c> does to a server's files, as an attacker with the disk would: erase
/// it, scribble over its public or private data, or copy its shares. Straight SQLite on
/// <c>store.db</c>, not through <see cref="NodeStore"/>, because an attacker does not follow the
/// store's rules. The ROM is never touched: it is read-only by design.
/// </summary>
internal static class StoreAttacks
{
    // The table names of NodeStore's schema (private constants there; the tests pin them by
    // attacking a store that NodeStore itself created and reading it back through NodeStore).
    internal const string PublicTable = "public_data";
    internal const string PrivateTable = "private_data";

    /// <summary>
    /// Deletes the server's erasable disk: the store and its WAL files, the keys folder and the alert
    /// log (with its WAL files). The ROM stays. Returns what was deleted.
    /// </summary>
    internal static IReadOnlyList<string> Wipe(ServerDirectory server, string alertsPath)
    {
        var deleted = new List<string>();
        foreach (var file in new[] { server.StorePath, server.StoreWalPath, server.StoreSharedMemoryPath, alertsPath, alertsPath + "-wal", alertsPath + "-shm" })
        {
            if (File.Exists(file))
            {
                File.Delete(file);
                deleted.Add(file);
            }
        }

        if (Directory.Exists(server.KeysDirectory))
        {
            Directory.Delete(server.KeysDirectory, recursive: true);
            deleted.Add(server.KeysDirectory);
        }

        return deleted;
    }

    /// <summary>The public rows the <c>--corrupt-public</c> attack overwrites: the committed public state.</summary>
    internal static int CountPublicState(ServerDirectory server) =>
        CountRows(server, PublicTable, ServerController.PublicStateKey, prefix: true);

    /// <summary>The private row the <c>--corrupt-shares</c> attack overwrites.</summary>
    internal static int CountShares(ServerDirectory server) =>
        CountRows(server, PrivateTable, ServerController.SharesKey, prefix: false);

    /// <summary>Flips every bit of every public row whose key starts with <c>controller/public-state</c>; returns how many rows.</summary>
    internal static int CorruptPublicState(ServerDirectory server) =>
        FlipRows(server, PublicTable, ServerController.PublicStateKey, prefix: true);

    /// <summary>Flips every bit of the private <c>controller/shares</c> row; returns how many rows (0 or 1).</summary>
    internal static int CorruptShares(ServerDirectory server) =>
        FlipRows(server, PrivateTable, ServerController.SharesKey, prefix: false);

    /// <summary>
    /// Copies the server's share vector and committed period through a read-only connection (the node
    /// keeps running and notices nothing), into <c>STOLEN/server-I-period-P.bin</c> (owner-only: they
    /// are secret shares) and a <c>.json</c> description. Null when the server holds no shares yet.
    /// </summary>
    internal static StolenFile? Steal(ServerDirectory server, int serverId, string stolenDirectory, DateTimeOffset now)
    {
        byte[]? shares = null;
        try
        {
            ulong period;
            using (var connection = Open(server, readOnly: true))
            {
                shares = ReadValue(connection, PrivateTable, ServerController.SharesKey);
                var periodBytes = ReadValue(connection, PrivateTable, ServerController.CommittedPeriodKey);
                if (shares is null || periodBytes is not { Length: 8 })
                {
                    return null;
                }

                period = BinaryPrimitives.ReadUInt64BigEndian(periodBytes);
            }

            Directory.CreateDirectory(stolenDirectory);
            var name = $"server-{serverId.ToString(CultureInfo.InvariantCulture)}-period-{period.ToString(CultureInfo.InvariantCulture)}";
            var binary = Path.Combine(stolenDirectory, name + ".bin");
            var description = Path.Combine(stolenDirectory, name + ".json");
            AtomicFile.Write(binary, shares, replace: true, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var stolen = new StolenFile(serverId, period, now, binary);
            AtomicFile.Write(description, stolen.DescriptionJson(), replace: true);
            return stolen;
        }
        finally
        {
            if (shares is not null)
            {
                CryptographicOperations.ZeroMemory(shares);
            }
        }
    }

    private static int CountRows(ServerDirectory server, string table, string key, bool prefix)
    {
        if (!File.Exists(server.StorePath))
        {
            return 0;
        }

        using var connection = Open(server, readOnly: true);
        return Keys(connection, table, key, prefix).Count;
    }

    private static int FlipRows(ServerDirectory server, string table, string key, bool prefix)
    {
        if (!File.Exists(server.StorePath))
        {
            return 0;
        }

        using var connection = Open(server, readOnly: false);
        using var transaction = connection.BeginTransaction();
        var keys = Keys(connection, table, key, prefix, transaction);
        foreach (var row in keys)
        {
            using var read = connection.CreateCommand();
            read.Transaction = transaction;
            read.CommandText = $"SELECT value FROM {table} WHERE key = $key";
            read.Parameters.AddWithValue("$key", row);
            var value = read.ExecuteScalar() as byte[] ?? [];
            for (var i = 0; i < value.Length; i++)
            {
                value[i] = (byte)~value[i];
            }

            using var write = connection.CreateCommand();
            write.Transaction = transaction;
            write.CommandText = $"UPDATE {table} SET value = $value WHERE key = $key";
            write.Parameters.AddWithValue("$key", row);
            write.Parameters.Add("$value", SqliteType.Blob).Value = value;
            write.ExecuteNonQuery();
            CryptographicOperations.ZeroMemory(value);
        }

        transaction.Commit();
        return keys.Count;
    }

    private static List<string> Keys(SqliteConnection connection, string table, string key, bool prefix, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = prefix
            ? $"SELECT key FROM {table} WHERE substr(key, 1, length($key)) = $key ORDER BY key"
            : $"SELECT key FROM {table} WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        using var reader = command.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static byte[]? ReadValue(SqliteConnection connection, string table, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT value FROM {table} WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as byte[];
    }

    private static SqliteConnection Open(ServerDirectory server, bool readOnly)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = server.StorePath,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }
}

/// <summary>A stolen share vector: whose, of which period, when, and where its bytes are.</summary>
internal sealed record StolenFile(int Server, ulong Period, DateTimeOffset StolenAt, string Path)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    internal byte[] DescriptionJson() => JsonSerializer.SerializeToUtf8Bytes(
        new
        {
            server = Server,
            period = Period,
            stolenAt = StolenAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            file = System.IO.Path.GetFileName(Path),
            what = "the server's share vector (controller/shares) as stored; the first share is its share of the network key",
        },
        Indented);
}

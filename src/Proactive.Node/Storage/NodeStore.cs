// References: toolkit (seed 001) section 3.2 "The Pserver Data" (ROM, public, private) and Table 3
// (erase S_start); docs/BRIEF.md section 4 ("Data", "Storage"); SQLite: https://sqlite.org/wal.html,
// https://sqlite.org/pragma.html (secure_delete, synchronous, wal_checkpoint); docs/NODE.md "Storage".
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Storage;

/// <summary>How <see cref="NodeStore.Open"/> treats a missing store file.</summary>
public enum StoreOpenMode
{
    /// <summary>The store must exist (a restart): a missing file is <see cref="StoreError.StoreMissing"/>.</summary>
    OpenExisting,

    /// <summary>
    /// Create an empty store when the file is missing (provisioning, or a server whose disk was wiped
    /// and will recover from its peers). An existing file is opened, never replaced.
    /// </summary>
    CreateIfMissing,
}

/// <summary>
/// One server's storage, in the toolkit's three parts (section 3.2): the ROM (V_start and the server
/// id, a separate file opened read-only, with its real <see cref="RomProtection"/>), public data and
/// private data (two tables of one SQLite file, so that one protocol step commits atomically across
/// both), plus the secret key files (S_start). Thread-safe: one connection, one lock.
/// </summary>
/// <remarks>
/// <para><b>Durability.</b> WAL with <c>synchronous=FULL</c>: <see cref="Commit"/> returns only after
/// the transaction's WAL frames are fsynced, so the driver may send the step's messages then.</para>
/// <para><b>Erasure.</b> <c>secure_delete=ON</c> zeroes deleted content inside database pages; a
/// commit that erased a private row then runs <c>wal_checkpoint(TRUNCATE)</c>, which copies the
/// current pages over the old ones in the database file and truncates the WAL, so no earlier version
/// of a private value stays in either file. An overwrite alone does not force the checkpoint (the
/// agreement state is overwritten at every vote); every step that retires a secret erases something
/// (the controller's commit overwrites <c>controller/shares</c> and erases the staging copies in one
/// step), and <see cref="ScrubResidue"/> forces it at any time.</para>
/// <para><b>Never recreated.</b> A file that is not a Proactive store, has another schema version,
/// belongs to another server or is corrupt is an error (<see cref="NodeStoreException"/>).</para>
/// </remarks>
public sealed class NodeStore : IDisposable
{
    /// <summary>The schema this build reads and writes (SQLite <c>user_version</c>).</summary>
    public const int SchemaVersion = 1;

    /// <summary>SQLite <c>application_id</c> of a Proactive store: "PROA".</summary>
    public const int ApplicationId = 0x50524F41;

    private const string PublicTable = "public_data";
    private const string PrivateTable = "private_data";

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private bool _residuePending;
    private bool _disposed;

    private NodeStore(ServerDirectory directory, RomRecord rom, RomProtection romProtection, KeySpacePolicy policy, SqliteConnection connection)
    {
        Directory = directory;
        Rom = rom;
        RomProtection = romProtection;
        Policy = policy;
        _connection = connection;
    }

    /// <summary>The server's files.</summary>
    public ServerDirectory Directory { get; }

    /// <summary>The ROM as read at open (the file is not kept open).</summary>
    public RomRecord Rom { get; }

    /// <summary>What protects the ROM file, as probed at open (for the status page).</summary>
    public RomProtection RomProtection { get; }

    /// <summary>Which controller keys are public (<see cref="ApplyPersisted"/>).</summary>
    public KeySpacePolicy Policy { get; }

    /// <summary>True when a private erasure's residue could not be scrubbed yet (a reader outside this process held the WAL); retried at every commit.</summary>
    public bool ResiduePending
    {
        get
        {
            lock (_gate)
            {
                return _residuePending;
            }
        }
    }

    /// <summary>Test hook: called with the operation's index before each operation of a commit, inside the transaction.</summary>
    internal Action<int>? BeforeOperation { get; set; }

    /// <summary>
    /// Reads the ROM (read-only) and probes its protection, then opens the store, checking that it is a
    /// Proactive store of <see cref="SchemaVersion"/> that belongs to the server the ROM names and that
    /// SQLite finds it intact (quick_check).
    /// </summary>
    /// <exception cref="NodeStoreException">The ROM or the store cannot be used; <see cref="NodeStoreException.Error"/> says why.</exception>
    public static NodeStore Open(ServerDirectory directory, StoreOpenMode mode = StoreOpenMode.OpenExisting, KeySpacePolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var rom = RomRecord.Read(directory.RomPath);
        var protection = RomProtectionProbe.Probe(directory.RomPath);
        var path = directory.StorePath;
        var create = !File.Exists(path);
        if (create)
        {
            if (mode != StoreOpenMode.CreateIfMissing)
            {
                throw new NodeStoreException(StoreError.StoreMissing, path, $"The store {path} does not exist. A server whose disk was wiped starts with an empty store and recovers from its peers; open it with CreateIfMissing.");
            }

            if (SqliteFile.OrphanedLogOf(path) is { } leftover)
            {
                throw new NodeStoreException(StoreError.OrphanedLog, leftover, $"{leftover} exists but {path} does not: a new store there could replay another database's log. Move the leftover files away first.");
            }

            SqliteFile.CreateOwnerOnly(path);
        }

        var connection = SqliteFile.Connect(path);
        try
        {
            connection.Open();
            if (create)
            {
                Configure(connection, path);
                CreateSchema(connection, rom);
                NativeFileSystem.TrySyncDirectory(directory.Root);
            }
            else
            {
                // Identify the file before changing anything in it (journal_mode would write its header).
                CheckIdentity(connection, path);
                Configure(connection, path);
                CheckIntegrity(connection, path);
                CheckOwner(connection, path, rom);
            }

            return new NodeStore(directory, rom, protection, policy ?? KeySpacePolicy.Default, connection);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw e.SqliteErrorCode is 11 or 26 // SQLITE_CORRUPT, SQLITE_NOTADB
                ? new NodeStoreException(StoreError.Corrupt, path, $"{path} is not a readable SQLite database ({e.Message}). Move it away; the server then recovers from its peers.", e)
                : new NodeStoreException(StoreError.Io, path, $"{path} could not be opened: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Applies one controller step's <see cref="Outbox.Persisted"/> writes (every outbox of the step) as
    /// one durable transaction, with the simulator's semantics: writes first, in the space
    /// <see cref="Policy"/> gives their key, then the <c>erase:K</c> tombstones.
    /// </summary>
    public StoreCommitResult ApplyPersisted(IEnumerable<PersistRequest> persisted)
    {
        using var batch = StoreBatch.FromPersisted(persisted, Policy);
        return Commit(batch);
    }

    /// <summary>Applies every write of <paramref name="step"/>'s outboxes (<see cref="ApplyPersisted"/>).</summary>
    public StoreCommitResult ApplyStep(ControllerStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return ApplyPersisted(step.Outputs.SelectMany(output => output.Outbox.Persisted));
    }

    /// <summary>
    /// Applies <paramref name="batch"/> in one transaction, durable (fsynced) before returning; on any
    /// failure nothing of it is applied. If it erased a private row, the erased bytes are then scrubbed
    /// from the database file and the WAL (<see cref="ScrubResidue"/>).
    /// </summary>
    public StoreCommitResult Commit(StoreBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (batch.Operations.Count == 0 && !_residuePending)
            {
                // Most steps persist nothing (a vote received, a timer): no transaction to open and sync.
                return default;
            }

            int written = 0, erasedPrivate = 0, erasedPublic = 0;
            using (var transaction = _connection.BeginTransaction())
            {
                var operations = batch.Operations;
                for (var i = 0; i < operations.Count; i++)
                {
                    BeforeOperation?.Invoke(i);
                    var operation = operations[i];
                    switch (operation.Kind)
                    {
                        case StoreOperationKind.Put:
                            Execute(transaction, $"INSERT INTO {TableOf(operation.Space)} (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value", operation.Key, operation.Value);
                            var moved = Execute(transaction, $"DELETE FROM {TableOf(Other(operation.Space))} WHERE key = $key", operation.Key);
                            Count(Other(operation.Space), moved, ref erasedPrivate, ref erasedPublic);
                            written++;
                            break;
                        case StoreOperationKind.Erase:
                            Count(operation.Space, Execute(transaction, $"DELETE FROM {TableOf(operation.Space)} WHERE key = $key", operation.Key), ref erasedPrivate, ref erasedPublic);
                            break;
                        case StoreOperationKind.ErasePrefix:
                            foreach (var key in KeysWithPrefix(transaction, operation.Space, operation.Key))
                            {
                                Count(operation.Space, Execute(transaction, $"DELETE FROM {TableOf(operation.Space)} WHERE key = $key", key), ref erasedPrivate, ref erasedPublic);
                            }

                            break;
                        default:
                            throw new InvalidOperationException($"Unknown store operation {operation.Kind}.");
                    }
                }

                transaction.Commit();
            }

            if (erasedPrivate > 0)
            {
                _residuePending = true;
            }

            if (_residuePending)
            {
                _residuePending = !Checkpoint();
            }

            return new StoreCommitResult(written, erasedPrivate, erasedPublic, _residuePending);
        }
    }

    /// <summary>
    /// Checkpoints the WAL into the database file and truncates it to zero bytes, so that no earlier
    /// version of any page (an overwritten or deleted private value) remains in either file. True when
    /// it completed; false when a reader outside this process holds an old snapshot (retried at the
    /// next commit).
    /// </summary>
    public bool ScrubResidue()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _residuePending = !Checkpoint();
            return !_residuePending;
        }
    }

    /// <summary>The value under <paramref name="key"/> in <paramref name="space"/>. A private value is the caller's to wipe.</summary>
    public bool TryGet(DataSpace space, string key, [NotNullWhen(true)] out byte[]? value)
    {
        StoreBatch.CheckKey(key);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT value FROM {TableOf(space)} WHERE key = $key";
            command.Parameters.AddWithValue("$key", key);
            using var reader = command.ExecuteReader();
            value = reader.Read() ? ReadValue(reader, 0) : null;
            return value is not null;
        }
    }

    /// <summary>Every entry of <paramref name="space"/> whose key starts with <paramref name="prefix"/>, in key order (UTF-8 byte order).</summary>
    public IReadOnlyList<StoreEntry> ReadPrefix(DataSpace space, string prefix)
    {
        StoreBatch.CheckKey(prefix, nameof(prefix));
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var entries = new List<StoreEntry>();
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT key, value FROM {TableOf(space)} WHERE key >= $prefix ORDER BY key";
            command.Parameters.AddWithValue("$prefix", prefix);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var key = reader.GetString(0);
                if (!key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    break; // keys with the prefix are contiguous in the index's byte order
                }

                entries.Add(new StoreEntry(key, ReadValue(reader, 1)));
            }

            return entries;
        }
    }

    /// <summary>Every key of both spaces, for <c>ServerController.Restore</c>; dispose it after the restore to wipe the values.</summary>
    public StoreSnapshot ReadAll()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var space in new[] { DataSpace.Public, DataSpace.Private })
            {
                using var command = _connection.CreateCommand();
                command.CommandText = $"SELECT key, value FROM {TableOf(space)}";
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    // A put removes the key from the other space, so one key is never in both; if a
                    // damaged file has it twice anyway, the private copy (read last) wins: it is this
                    // server's own, where the public copy is what peers can restore.
                    entries[reader.GetString(0)] = ReadValue(reader, 1);
                }
            }

            return new StoreSnapshot(entries);
        }
    }

    /// <summary>Entries and bytes per space and the files' sizes, for the status page.</summary>
    public StoreUsage Usage()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var (publicEntries, publicBytes) = CountRows(PublicTable);
            var (privateEntries, privateBytes) = CountRows(PrivateTable);
            return new StoreUsage(publicEntries, publicBytes, privateEntries, privateBytes, FileLength(Directory.StorePath) + FileLength(Directory.StoreWalPath));
        }
    }

    /// <summary>
    /// S_start, when it has not been erased yet (before initialization completes). Null when the file
    /// is gone. The caller owns (and disposes) the key.
    /// </summary>
    /// <exception cref="NodeStoreException">The file is not a 32-byte seed, or its public key is not the ROM's V_start (a swapped file).</exception>
    public Ed25519PrivateKey? LoadStartKey()
    {
        var path = Directory.StartKeyPath;
        if (!File.Exists(path))
        {
            return null;
        }

        var seed = KeyFile.Read(path);
        try
        {
            if (seed.Length != Ed25519PrivateKey.SeedLength)
            {
                throw new NodeStoreException(StoreError.Io, path, $"{path} is {seed.Length} bytes; S_start is a {Ed25519PrivateKey.SeedLength}-byte Ed25519 seed.");
            }

            var key = Ed25519PrivateKey.FromSeed(seed);
            if (!key.PublicKey.Equals(Rom.StartPublicKey))
            {
                key.Dispose();
                throw new NodeStoreException(StoreError.IdentityMismatch, path, $"{path} is not the start key of this server: its public key differs from V_start in the ROM.");
            }

            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Erases S_start (toolkit Table 3: "Erase S_start (VERY IMPORTANT)"): overwritten, fsynced, deleted. False when it was already gone.</summary>
    public bool EraseStartKey() => KeyFile.Erase(Directory.StartKeyPath);

    /// <summary>Closes the connection (SQLite checkpoints and removes the WAL when it closes the last one).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _connection.Dispose();
        }
    }

    private static void Configure(SqliteConnection connection, string path)
    {
        Require(connection, path, "PRAGMA journal_mode = WAL", "wal", "journal_mode=WAL (commits would not be durable and atomic as designed)");
        Require(connection, path, "PRAGMA synchronous = FULL", null, null);
        Require(connection, path, "PRAGMA synchronous", "2", "synchronous=FULL (a commit would not be fsynced before returning)");
        Require(connection, path, "PRAGMA secure_delete = ON", "1", "secure_delete=ON (deleted private data would stay in the file)");
        Require(connection, path, "PRAGMA foreign_keys = ON", null, null);
        Require(connection, path, "PRAGMA cell_size_check = ON", null, null);
    }

    private static void Require(SqliteConnection connection, string path, string pragma, string? expected, string? what) =>
        SqliteFile.Require(connection, pragma, expected, result => new NodeStoreException(StoreError.UnsupportedSetting, path, $"SQLite refused {what} for {path} (got '{result}')."));

    private static void CreateSchema(SqliteConnection connection, RomRecord rom)
    {
        using var transaction = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"""
                CREATE TABLE store_info (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE {PublicTable} (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
                CREATE TABLE {PrivateTable} (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
                INSERT INTO store_info (name, value) VALUES ('server_id', $server), ('start_public_key', $key);
                PRAGMA application_id = {ApplicationId};
                PRAGMA user_version = {SchemaVersion};
                """;
            command.Parameters.AddWithValue("$server", rom.ServerId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$key", StartKeyText.Format(rom.StartPublicKey));
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static void CheckIdentity(SqliteConnection connection, string path)
    {
        var applicationId = ScalarInt(connection, "PRAGMA application_id");
        var version = ScalarInt(connection, "PRAGMA user_version");
        if (applicationId != ApplicationId)
        {
            var empty = applicationId == 0 && version == 0 && ScalarInt(connection, "SELECT count(*) FROM sqlite_schema") == 0;
            throw new NodeStoreException(StoreError.NotAProactiveStore, path, empty
                ? $"{path} is an empty database (its creation was interrupted?). Nothing is lost by removing it; the server then starts empty and recovers from its peers."
                : $"{path} is an SQLite database but not a Proactive store (application_id {applicationId}, expected {ApplicationId}). It is left untouched.");
        }

        if (version != SchemaVersion)
        {
            throw new NodeStoreException(StoreError.SchemaVersionMismatch, path, $"{path} has schema version {version}; this build reads version {SchemaVersion}. Run the matching build (or its migration); the file is left untouched.");
        }
    }

    private static void CheckIntegrity(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA quick_check";
        using var reader = command.ExecuteReader();
        var problems = new List<string>();
        while (reader.Read() && problems.Count < 5)
        {
            problems.Add(reader.GetString(0));
        }

        if (problems is not ["ok"])
        {
            throw new NodeStoreException(StoreError.Corrupt, path, $"{path} failed SQLite's integrity check: {string.Join("; ", problems)}. Move it away; the server then recovers from its peers.");
        }
    }

    private static void CheckOwner(SqliteConnection connection, string path, RomRecord rom)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, value FROM store_info";
        using var reader = command.ExecuteReader();
        var info = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            info[reader.GetString(0)] = reader.GetString(1);
        }

        var server = rom.ServerId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var key = StartKeyText.Format(rom.StartPublicKey);
        if (info.GetValueOrDefault("server_id") != server || info.GetValueOrDefault("start_public_key") != key)
        {
            throw new NodeStoreException(StoreError.IdentityMismatch, path, $"{path} belongs to server {info.GetValueOrDefault("server_id") ?? "?"} with V_start {info.GetValueOrDefault("start_public_key") ?? "?"}, but the ROM names server {server} with V_start {key}. Directories were mixed up; nothing was changed.");
        }
    }

    private static long ScalarInt(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string TableOf(DataSpace space) => space switch
    {
        DataSpace.Public => PublicTable,
        DataSpace.Private => PrivateTable,
        _ => throw new ArgumentOutOfRangeException(nameof(space), space, "Unknown data space."),
    };

    private static DataSpace Other(DataSpace space) => space == DataSpace.Public ? DataSpace.Private : DataSpace.Public;

    private static void Count(DataSpace space, int rows, ref int erasedPrivate, ref int erasedPublic)
    {
        if (space == DataSpace.Private)
        {
            erasedPrivate += rows;
        }
        else
        {
            erasedPublic += rows;
        }
    }

    private static byte[] ReadValue(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? [] : (byte[])reader.GetValue(ordinal);

    private static long FileLength(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private int Execute(SqliteTransaction transaction, string sql, string key, byte[]? value = null)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$key", key);
        if (value is not null)
        {
            command.Parameters.Add("$value", SqliteType.Blob).Value = value;
        }

        return command.ExecuteNonQuery();
    }

    private List<string> KeysWithPrefix(SqliteTransaction transaction, DataSpace space, string prefix)
    {
        var keys = new List<string>();
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT key FROM {TableOf(space)} WHERE key >= $prefix ORDER BY key";
        command.Parameters.AddWithValue("$prefix", prefix);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var key = reader.GetString(0);
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                break;
            }

            keys.Add(key);
        }

        return keys;
    }

    private (long Entries, long Bytes) CountRows(string table)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT count(*), coalesce(sum(length(value)), 0) FROM {table}";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>wal_checkpoint(TRUNCATE): true when every frame was copied back and the WAL is now empty.</summary>
    private bool Checkpoint()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var reader = command.ExecuteReader();
        return reader.Read() && reader.GetInt64(0) == 0;
    }
}

/// <summary>What a commit did: keys written, rows erased per space, and whether erased private bytes may still sit in the files.</summary>
public readonly record struct StoreCommitResult(int Written, int ErasedPrivate, int ErasedPublic, bool ResiduePending);

/// <summary>One stored entry.</summary>
public sealed record StoreEntry(string Key, byte[] Value);

/// <summary>Store counts for the status page.</summary>
public readonly record struct StoreUsage(long PublicEntries, long PublicBytes, long PrivateEntries, long PrivateBytes, long FileBytes);

// References: docs/BRIEF.md section 4 ("Alerts": every detection is an alert with a type, the
// evidence and the period; kept in the store, exposed on the API); docs/API.md "/v1/alerts";
// SQLite: https://sqlite.org/wal.html, https://sqlite.org/pragma.html (synchronous, quick_check),
// https://sqlite.org/autoinc.html (ids never reused).
using System.Globalization;
using Microsoft.Data.Sqlite;
using Proactive.Node.Storage;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Api;

/// <summary>Why an alert log could not be opened or written; the message says what to do about it.</summary>
public enum AlertLogError
{
    /// <summary>The file is not an SQLite database, or SQLite reports it corrupt (quick_check failed).</summary>
    Corrupt,

    /// <summary>The file is an SQLite database but not an alert log (wrong application id).</summary>
    NotAnAlertLog,

    /// <summary>The log was written by a different schema version than this build reads.</summary>
    SchemaVersionMismatch,

    /// <summary>A WAL or shared-memory file lies next to a missing log file: a new log there could replay another database's log.</summary>
    OrphanedLog,

    /// <summary>SQLite refused a setting the log's durability depends on (WAL, synchronous=FULL).</summary>
    UnsupportedSetting,

    /// <summary>Any other I/O failure (missing folder, permissions, a full disk).</summary>
    Io,
}

/// <summary>
/// The alert log cannot be used as it is. Never answered by recreating the file: alerts are the
/// evidence of misbehaviour, so an operator decides what to do with a damaged log.
/// </summary>
public sealed class AlertLogException : Exception
{
    public AlertLogException(AlertLogError error, string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Path = path;
    }

    /// <summary>What went wrong.</summary>
    public AlertLogError Error { get; }

    /// <summary>The file concerned.</summary>
    public string Path { get; }
}

/// <summary>One stored alert, as <c>GET /v1/alerts</c> returns it and the webhook posts it.</summary>
/// <param name="Id">The log's id: increasing, never reused.</param>
/// <param name="DetectedAt">When it was first detected.</param>
/// <param name="LastDetectedAt">When the last duplicate was detected (equal to <paramref name="DetectedAt"/> when <paramref name="Count"/> is 1).</param>
/// <param name="Reporter">The server that detected it (this server).</param>
/// <param name="Type">The <see cref="AlertType"/> name, e.g. <c>ImpersonationDetected</c> (a string, so that a log written by a newer build still reads).</param>
/// <param name="Culprit">The server blamed; 0 when nobody is.</param>
/// <param name="Period">The period it was detected in.</param>
/// <param name="Instance">The protocol instance (<see cref="InstanceId.ToString"/>), or null.</param>
/// <param name="Detail">Human-readable detail.</param>
/// <param name="Evidence">The evidence, at most <see cref="AlertLog.MaxEvidenceBytes"/> bytes (base64 in JSON).</param>
/// <param name="EvidenceLength">The evidence's length before truncation.</param>
/// <param name="EvidenceTruncated">True when <paramref name="Evidence"/> is only the first <see cref="AlertLog.MaxEvidenceBytes"/> bytes.</param>
/// <param name="Count">How many identical detections this row stands for (<see cref="AlertLog"/> suppresses duplicates).</param>
public sealed record StoredAlert(
    long Id,
    DateTimeOffset DetectedAt,
    DateTimeOffset LastDetectedAt,
    int Reporter,
    string Type,
    int Culprit,
    ulong Period,
    string? Instance,
    string Detail,
    byte[] Evidence,
    int EvidenceLength,
    bool EvidenceTruncated,
    long Count);

/// <summary>One page of <see cref="AlertLog.Query"/>: the alerts (oldest first), how many match the filters in all, and the id to poll after.</summary>
/// <param name="Alerts">The page, in id order (newest last).</param>
/// <param name="Count">How many stored alerts match the type and period filters (ignoring <c>after</c> and the limit).</param>
/// <param name="Next">The id to pass as <c>after</c> to get what follows: the page's last id, else the <c>after</c> given, else 0.</param>
public sealed record AlertPage(IReadOnlyList<StoredAlert> Alerts, long Count, long Next);

/// <summary>
/// The durable record of this server's detections, in an SQLite file of its own (apart from
/// <see cref="NodeStore"/>: alerts are written outside the protocol's steps, may grow much larger than
/// the protocol state, and a damaged alert log must not stop the server from recovering its shares).
/// Thread-safe: the node's loop writes while the API's threads read; one connection, one lock.
/// </summary>
/// <remarks>
/// <para><b>Durability.</b> WAL with <c>synchronous=FULL</c>: <see cref="Record"/> returns after the
/// alert is fsynced. A file that is not an alert log, has another schema version or is corrupt is an
/// <see cref="AlertLogException"/>; the log is never recreated over existing data.</para>
/// <para><b>Duplicates.</b> A Byzantine peer can make this server detect the same misbehaviour again
/// and again. Detections identical in (type, culprit, period, instance, detail) are stored once, and
/// the row's count and last detection time go up. The index that finds the earlier row is bounded
/// (<see cref="DuplicateIndexCapacity"/> most recent distinct alerts, reloaded from the file at open),
/// so memory stays bounded too; a duplicate of an alert evicted from it is stored again.</para>
/// <para><b>Evidence</b> is capped at <see cref="MaxEvidenceBytes"/>; longer evidence keeps its first
/// bytes, with its real length and a truncation flag.</para>
/// </remarks>
public sealed class AlertLog : IDisposable
{
    /// <summary>The schema this build reads and writes (SQLite <c>user_version</c>).</summary>
    public const int SchemaVersion = 1;

    /// <summary>SQLite <c>application_id</c> of an alert log: "PRAL".</summary>
    public const int ApplicationId = 0x5052414C;

    /// <summary>Evidence kept per alert: signed messages are far smaller; more is a peer's padding.</summary>
    public const int MaxEvidenceBytes = 64 * 1024;

    /// <summary>Most alerts one <see cref="Query"/> returns.</summary>
    public const int MaxQueryLimit = 1000;

    /// <summary>
    /// Evidence bytes one page carries at most (a page of <see cref="MaxQueryLimit"/> alerts of full
    /// evidence would be 64 MiB); a page that reaches it ends early, at least one alert long, and
    /// <see cref="AlertPage.Next"/> continues after it.
    /// </summary>
    public const int MaxPageEvidenceBytes = 4 * 1024 * 1024;

    /// <summary>Distinct recent alerts the duplicate index remembers.</summary>
    public const int DuplicateIndexCapacity = 4096;

    private const string Columns = "id, detected_at, last_detected_at, reporter, type, culprit, period, instance, detail, evidence, evidence_length, count";

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly Dictionary<DuplicateKey, long> _recent = [];
    private readonly Queue<DuplicateKey> _recentOrder = new();
    private long _rows;
    private bool _disposed;

    private AlertLog(string path, SqliteConnection connection)
    {
        Path = path;
        _connection = connection;
    }

    /// <summary>
    /// Raised after a new alert was stored (not for a duplicate that only raised a count), outside the
    /// log's lock, on the thread that called <see cref="Record"/>. Handlers must not throw or block
    /// (<see cref="AlertWebhook.Post"/> does neither).
    /// </summary>
    public event Action<StoredAlert>? Recorded;

    /// <summary>The log file.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens the log at <paramref name="path"/>, creating it (owner-only) when the file is missing or
    /// empty. An existing file must be an alert log of <see cref="SchemaVersion"/> that SQLite finds
    /// intact (quick_check); otherwise it is left untouched.
    /// </summary>
    /// <exception cref="AlertLogException">The file cannot be used; <see cref="AlertLogException.Error"/> says why.</exception>
    public static AlertLog Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        path = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
        {
            throw new AlertLogException(AlertLogError.Io, path, $"The folder of the alert log {path} does not exist.");
        }

        // An empty file is what an interrupted creation leaves: nothing to lose by initializing it.
        var exists = File.Exists(path);
        var create = !exists || new FileInfo(path).Length == 0;
        if (!exists)
        {
            if (SqliteFile.OrphanedLogOf(path) is { } leftover)
            {
                throw new AlertLogException(AlertLogError.OrphanedLog, leftover, $"{leftover} exists but {path} does not: a new alert log there could replay another database's log. Move the leftover files away first.");
            }

            CreateEmptyFile(path);
        }

        var connection = SqliteFile.Connect(path);
        try
        {
            connection.Open();
            if (create)
            {
                Configure(connection, path);
                CreateSchema(connection);
                NativeFileSystem.TrySyncDirectory(folder);
            }
            else
            {
                // Identify the file before changing anything in it (journal_mode would write its header).
                CheckIdentity(connection, path);
                Configure(connection, path);
                CheckIntegrity(connection, path);
            }

            var log = new AlertLog(path, connection);
            log.Load();
            return log;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw Wrap(e, path, "could not be opened");
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stores <paramref name="alert"/>, durably, and returns its id; a duplicate of a recent alert
    /// (same type, culprit, period, instance and detail) raises that alert's count instead and returns
    /// its id.
    /// </summary>
    /// <param name="alert">The detection, as a protocol reported it.</param>
    /// <param name="reporter">This server's id.</param>
    /// <param name="detectedAt">When the driver received it.</param>
    /// <exception cref="AlertLogException">SQLite could not write (a full disk, an I/O error).</exception>
    public long Record(Alert alert, int reporter, DateTimeOffset detectedAt)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(alert.Detail, nameof(alert));
        ArgumentNullException.ThrowIfNull(alert.Evidence, nameof(alert));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(reporter);
        ArgumentOutOfRangeException.ThrowIfNegative(alert.Culprit, nameof(alert));
        if (!Enum.IsDefined(alert.Type))
        {
            throw new ArgumentOutOfRangeException(nameof(alert), alert.Type, "Unknown alert type.");
        }

        var key = new DuplicateKey(alert.Type.ToString(), alert.Culprit, alert.Period, alert.Instance?.ToString(), alert.Detail);
        StoredAlert? added;
        long id;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                if (_recent.TryGetValue(key, out id) && CountDuplicate(id, detectedAt))
                {
                    return id;
                }

                added = Insert(key, reporter, detectedAt, alert.Evidence);
                id = added.Id;
                Remember(key, id);
                _rows++;
            }
            catch (SqliteException e)
            {
                throw Wrap(e, Path, "could not store an alert");
            }
        }

        Recorded?.Invoke(added);
        return id;
    }

    /// <summary>
    /// A page of alerts in id order (newest last). With <paramref name="afterId"/>, the first
    /// <paramref name="limit"/> alerts after it (paging forward, polling); without, the latest
    /// <paramref name="limit"/>. A page also ends early at <see cref="MaxPageEvidenceBytes"/> of evidence.
    /// </summary>
    /// <param name="afterId">Only alerts with a greater id; null for the latest.</param>
    /// <param name="limit">1 to <see cref="MaxQueryLimit"/>.</param>
    /// <param name="type">Only alerts of this type; null for all.</param>
    /// <param name="period">Only alerts of this period; null for all.</param>
    public AlertPage Query(long? afterId, int limit, AlertType? type = null, ulong? period = null)
    {
        if (afterId is { } after)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(after, nameof(afterId));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxQueryLimit);
        if (type is { } t && !Enum.IsDefined(t))
        {
            throw new ArgumentOutOfRangeException(nameof(type), t, "Unknown alert type.");
        }

        var filter = "1 = 1";
        if (type is not null)
        {
            filter += " AND type = $type";
        }

        if (period is not null)
        {
            filter += " AND period = $period";
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                using var count = _connection.CreateCommand();
                count.CommandText = $"SELECT count(*) FROM alerts WHERE {filter}";
                Bind(count, null, limit, type, period);
                var total = Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture);

                using var select = _connection.CreateCommand();
                select.CommandText = afterId is null
                    ? $"SELECT {Columns} FROM alerts WHERE {filter} ORDER BY id DESC LIMIT $limit"
                    : $"SELECT {Columns} FROM alerts WHERE id > $after AND {filter} ORDER BY id ASC LIMIT $limit";
                Bind(select, afterId, limit, type, period);
                var alerts = new List<StoredAlert>();
                long evidenceBytes = 0;
                using (var reader = select.ExecuteReader())
                {
                    while (reader.Read())
                    {
                        var alert = Read(reader);
                        evidenceBytes += alert.Evidence.Length;
                        if (alerts.Count > 0 && evidenceBytes > MaxPageEvidenceBytes)
                        {
                            break;
                        }

                        alerts.Add(alert);
                    }
                }

                if (afterId is null)
                {
                    alerts.Reverse(); // read newest first so that a full page keeps the newest; returned oldest first
                }

                var next = alerts.Count > 0 ? alerts[^1].Id : afterId ?? 0;
                return new AlertPage(alerts, total, next);
            }
            catch (SqliteException e)
            {
                throw Wrap(e, Path, "could not be read");
            }
        }
    }

    /// <summary>The alert stored under <paramref name="id"/>, or null.</summary>
    public StoredAlert? Get(long id)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                return Find(id);
            }
            catch (SqliteException e)
            {
                throw Wrap(e, Path, "could not be read");
            }
        }
    }

    /// <summary>How many alerts are stored (rows: a suppressed duplicate is not counted again).</summary>
    public long Count()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _rows;
        }
    }

    /// <summary>Closes the file (SQLite checkpoints and removes the WAL when it closes the last connection).</summary>
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

    private static void CreateEmptyFile(string path)
    {
        try
        {
            SqliteFile.CreateOwnerOnly(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AlertLogException(AlertLogError.Io, path, $"The alert log {path} could not be created: {e.Message}", e);
        }
    }

    private static void Configure(SqliteConnection connection, string path)
    {
        Require(connection, path, "PRAGMA journal_mode = WAL", "wal", "journal_mode=WAL");
        Require(connection, path, "PRAGMA synchronous = FULL", null, null);
        Require(connection, path, "PRAGMA synchronous", "2", "synchronous=FULL (an alert would not be fsynced before Record returns)");
        Require(connection, path, "PRAGMA cell_size_check = ON", null, null);
    }

    private static void Require(SqliteConnection connection, string path, string pragma, string? expected, string? what) =>
        SqliteFile.Require(connection, pragma, expected, result => new AlertLogException(AlertLogError.UnsupportedSetting, path, $"SQLite refused {what} for {path} (got '{result}')."));

    private static void CreateSchema(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;

            // AUTOINCREMENT: ids never go back, even after the newest row was removed by hand, so a
            // client polling with after=ID never misses an alert.
            command.CommandText = $"""
                CREATE TABLE alerts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    detected_at TEXT NOT NULL,
                    last_detected_at TEXT NOT NULL,
                    reporter INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    culprit INTEGER NOT NULL,
                    period INTEGER NOT NULL,
                    instance TEXT,
                    detail TEXT NOT NULL,
                    evidence BLOB NOT NULL,
                    evidence_length INTEGER NOT NULL,
                    count INTEGER NOT NULL);
                CREATE INDEX alerts_by_type ON alerts (type, id);
                CREATE INDEX alerts_by_period ON alerts (period, id);
                PRAGMA application_id = {ApplicationId};
                PRAGMA user_version = {SchemaVersion};
                """;
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
            throw new AlertLogException(AlertLogError.NotAnAlertLog, path, $"{path} is an SQLite database but not a Proactive alert log (application_id {applicationId}, expected {ApplicationId}). It is left untouched; give the alert log another path.");
        }

        if (version != SchemaVersion)
        {
            throw new AlertLogException(AlertLogError.SchemaVersionMismatch, path, $"{path} has alert log schema version {version}; this build reads version {SchemaVersion}. Run the matching build; the file is left untouched.");
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
            throw new AlertLogException(AlertLogError.Corrupt, path, $"{path} failed SQLite's integrity check: {string.Join("; ", problems)}. Move it away (keep it: it is evidence); the server then starts a new alert log.");
        }
    }

    private static long ScalarInt(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static AlertLogException Wrap(SqliteException e, string path, string what) =>
        e.SqliteErrorCode is 11 or 26 // SQLITE_CORRUPT, SQLITE_NOTADB
            ? new AlertLogException(AlertLogError.Corrupt, path, $"The alert log {path} is not a readable SQLite database ({e.Message}). Move it away (keep it: it is evidence); the server then starts a new alert log.", e)
            : new AlertLogException(AlertLogError.Io, path, $"The alert log {path} {what}: {e.Message}", e);

    private static void Bind(SqliteCommand command, long? afterId, int limit, AlertType? type, ulong? period)
    {
        command.Parameters.AddWithValue("$after", afterId ?? 0);
        command.Parameters.AddWithValue("$limit", limit);
        command.Parameters.AddWithValue("$type", type?.ToString() ?? string.Empty);
        command.Parameters.AddWithValue("$period", unchecked((long)(period ?? 0)));
    }

    private static string FormatTime(DateTimeOffset time) => time.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.None);

    private static StoredAlert Read(SqliteDataReader reader)
    {
        var evidence = reader.IsDBNull(9) ? [] : (byte[])reader.GetValue(9);
        var evidenceLength = reader.GetInt32(10);
        return new StoredAlert(
            Id: reader.GetInt64(0),
            DetectedAt: ParseTime(reader.GetString(1)),
            LastDetectedAt: ParseTime(reader.GetString(2)),
            Reporter: reader.GetInt32(3),
            Type: reader.GetString(4),
            Culprit: reader.GetInt32(5),
            Period: unchecked((ulong)reader.GetInt64(6)),
            Instance: reader.IsDBNull(7) ? null : reader.GetString(7),
            Detail: reader.GetString(8),
            Evidence: evidence,
            EvidenceLength: evidenceLength,
            EvidenceTruncated: evidenceLength > evidence.Length,
            Count: reader.GetInt64(11));
    }

    /// <summary>Counts the rows and refills the duplicate index with the newest distinct alerts.</summary>
    private void Load()
    {
        _rows = ScalarInt(_connection, "SELECT count(*) FROM alerts");
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id, type, culprit, period, instance, detail FROM alerts ORDER BY id DESC LIMIT $capacity";
        command.Parameters.AddWithValue("$capacity", DuplicateIndexCapacity);
        var newestFirst = new List<(DuplicateKey Key, long Id)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var key = new DuplicateKey(reader.GetString(1), reader.GetInt32(2), unchecked((ulong)reader.GetInt64(3)), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5));
                newestFirst.Add((key, reader.GetInt64(0)));
            }
        }

        for (var i = newestFirst.Count - 1; i >= 0; i--)
        {
            Remember(newestFirst[i].Key, newestFirst[i].Id);
        }
    }

    private void Remember(DuplicateKey key, long id)
    {
        if (_recent.TryAdd(key, id))
        {
            _recentOrder.Enqueue(key);
            while (_recentOrder.Count > DuplicateIndexCapacity)
            {
                _recent.Remove(_recentOrder.Dequeue());
            }
        }
        else
        {
            _recent[key] = id;
        }
    }

    private bool CountDuplicate(long id, DateTimeOffset detectedAt)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "UPDATE alerts SET count = count + 1, last_detected_at = $time WHERE id = $id";
        command.Parameters.AddWithValue("$time", FormatTime(detectedAt));
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery() == 1;
    }

    private StoredAlert Insert(DuplicateKey key, int reporter, DateTimeOffset detectedAt, byte[] evidence)
    {
        var kept = evidence.Length > MaxEvidenceBytes ? evidence.AsSpan(0, MaxEvidenceBytes).ToArray() : (byte[])evidence.Clone();
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO alerts (detected_at, last_detected_at, reporter, type, culprit, period, instance, detail, evidence, evidence_length, count)
            VALUES ($time, $time, $reporter, $type, $culprit, $period, $instance, $detail, $evidence, $length, 1);
            SELECT last_insert_rowid();
            """;
        command.Parameters.AddWithValue("$time", FormatTime(detectedAt));
        command.Parameters.AddWithValue("$reporter", reporter);
        command.Parameters.AddWithValue("$type", key.Type);
        command.Parameters.AddWithValue("$culprit", key.Culprit);
        command.Parameters.AddWithValue("$period", unchecked((long)key.Period));
        command.Parameters.AddWithValue("$instance", (object?)key.Instance ?? DBNull.Value);
        command.Parameters.AddWithValue("$detail", key.Detail);
        command.Parameters.Add("$evidence", SqliteType.Blob).Value = kept;
        command.Parameters.AddWithValue("$length", evidence.Length);
        var id = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        return new StoredAlert(id, detectedAt, detectedAt, reporter, key.Type, key.Culprit, key.Period, key.Instance, key.Detail, kept, evidence.Length, evidence.Length > kept.Length, 1);
    }

    private StoredAlert? Find(long id)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM alerts WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    /// <summary>What makes two detections the same alert.</summary>
    private readonly record struct DuplicateKey(string Type, int Culprit, ulong Period, string? Instance, string Detail);
}

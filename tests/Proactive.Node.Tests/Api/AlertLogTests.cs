using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Proactive.Node.Api;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Tests.Api;

/// <summary>The alert log: durable, deduplicated, queryable, and never silently replaced.</summary>
public sealed class AlertLogTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    internal static Alert Sample(AlertType type = AlertType.Equivocation, int culprit = 2, ulong period = 5, string detail = "two votes", byte[]? evidence = null, bool withInstance = true) =>
        new(type, culprit, period, withInstance ? new InstanceId(ProtocolKind.Refresh, period, 0) : null, detail, evidence ?? [1, 2, 3]);

    [Fact]
    public void A_recorded_alert_reads_back_with_every_field()
    {
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        var id = log.Record(Sample(AlertType.ImpersonationDetected, culprit: 0, period: 7, detail: "not in the KeyTable", evidence: [9, 8]), reporter: 3, T0);

        var alert = Assert.Single(log.Query(null, 10).Alerts);
        Assert.Equal(id, alert.Id);
        Assert.Equal(T0, alert.DetectedAt);
        Assert.Equal(T0, alert.LastDetectedAt);
        Assert.Equal(3, alert.Reporter);
        Assert.Equal("ImpersonationDetected", alert.Type);
        Assert.Equal(0, alert.Culprit);
        Assert.Equal(7UL, alert.Period);
        Assert.Equal("Refresh/p7/#0", alert.Instance);
        Assert.Equal("not in the KeyTable", alert.Detail);
        Assert.Equal([9, 8], alert.Evidence);
        Assert.Equal(2, alert.EvidenceLength);
        Assert.False(alert.EvidenceTruncated);
        Assert.Equal(1, alert.Count);
        Assert.Equal(alert, log.Get(id)! with { Evidence = alert.Evidence });
        Assert.Equal(1, log.Count());
    }

    [Fact]
    public void Alerts_survive_a_restart_and_ids_keep_increasing()
    {
        var path = _temp.Combine("alerts.db");
        long first;
        using (var log = AlertLog.Open(path))
        {
            first = log.Record(Sample(detail: "a"), 1, T0);
            log.Record(Sample(detail: "b", withInstance: false), 1, T0);
        }

        using var reopened = AlertLog.Open(path);
        Assert.Equal(2, reopened.Count());
        var page = reopened.Query(null, 10);
        Assert.Equal(["a", "b"], page.Alerts.Select(a => a.Detail));
        Assert.Null(page.Alerts[1].Instance);
        var third = reopened.Record(Sample(detail: "c"), 1, T0);
        Assert.True(third > page.Alerts[1].Id);
        Assert.True(page.Alerts[1].Id > first);
    }

    [Fact]
    public void Identical_detections_are_stored_once_with_a_count_also_after_a_restart()
    {
        var path = _temp.Combine("alerts.db");
        long id;
        using (var log = AlertLog.Open(path))
        {
            id = log.Record(Sample(), 1, T0);
            Assert.Equal(id, log.Record(Sample(), 1, T0.AddSeconds(1)));
            Assert.Equal(id, log.Record(Sample(evidence: [7, 7]), 1, T0.AddSeconds(2))); // evidence is not part of the identity
            Assert.NotEqual(id, log.Record(Sample(period: 6), 1, T0)); // another period is another alert
            Assert.NotEqual(id, log.Record(Sample(culprit: 3), 1, T0));
            Assert.NotEqual(id, log.Record(Sample(detail: "other"), 1, T0));
        }

        using var reopened = AlertLog.Open(path);
        Assert.Equal(id, reopened.Record(Sample(), 1, T0.AddSeconds(3)));
        var alert = reopened.Get(id)!;
        Assert.Equal(4, alert.Count);
        Assert.Equal(T0, alert.DetectedAt);
        Assert.Equal(T0.AddSeconds(3), alert.LastDetectedAt);
        Assert.Equal([1, 2, 3], alert.Evidence); // the first detection's evidence is kept
        Assert.Equal(4, reopened.Count());
    }

    [Fact]
    public void Only_new_alerts_are_announced_not_duplicates()
    {
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        var announced = new List<StoredAlert>();
        log.Recorded += announced.Add;

        var id = log.Record(Sample(), 1, T0);
        log.Record(Sample(), 1, T0);

        Assert.Equal(id, Assert.Single(announced).Id);
    }

    [Fact]
    public void Evidence_beyond_64_KiB_is_truncated_with_its_real_length()
    {
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        var evidence = RandomNumberGenerator.GetBytes(AlertLog.MaxEvidenceBytes + 10);
        var id = log.Record(Sample(evidence: evidence), 1, T0);

        var alert = log.Get(id)!;
        Assert.True(alert.EvidenceTruncated);
        Assert.Equal(evidence.Length, alert.EvidenceLength);
        Assert.Equal(evidence.AsSpan(0, AlertLog.MaxEvidenceBytes).ToArray(), alert.Evidence);
    }

    [Fact]
    public void Queries_filter_by_type_and_period_page_forward_and_return_the_latest_without_after()
    {
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(log.Record(Sample(i % 2 == 0 ? AlertType.Replay : AlertType.InvalidShare, period: (ulong)(i / 3), detail: $"#{i}"), 1, T0));
        }

        var latest = log.Query(null, 2);
        Assert.Equal(ids[4..], latest.Alerts.Select(a => a.Id));
        Assert.Equal(6, latest.Count);
        Assert.Equal(ids[5], latest.Next);

        var forward = log.Query(ids[1], 3);
        Assert.Equal(ids[2..5], forward.Alerts.Select(a => a.Id));
        Assert.Equal(ids[4], forward.Next);

        var replays = log.Query(0, 10, AlertType.Replay);
        Assert.Equal([ids[0], ids[2], ids[4]], replays.Alerts.Select(a => a.Id));
        Assert.Equal(3, replays.Count);

        var period1Shares = log.Query(null, 10, AlertType.InvalidShare, period: 1);
        Assert.Equal([ids[3], ids[5]], period1Shares.Alerts.Select(a => a.Id));
        Assert.Equal(2, period1Shares.Count);

        var nothingNew = log.Query(ids[5], 10);
        Assert.Empty(nothingNew.Alerts);
        Assert.Equal(ids[5], nothingNew.Next);

        Assert.Throws<ArgumentOutOfRangeException>(() => log.Query(null, AlertLog.MaxQueryLimit + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Query(null, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Query(-1, 10));
    }

    [Fact]
    public void A_page_ends_early_when_its_evidence_reaches_the_page_budget()
    {
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        var perAlert = AlertLog.MaxPageEvidenceBytes / AlertLog.MaxEvidenceBytes;
        for (var i = 0; i < perAlert + 2; i++)
        {
            log.Record(Sample(detail: $"#{i}", evidence: new byte[AlertLog.MaxEvidenceBytes]), 1, T0);
        }

        var page = log.Query(0, AlertLog.MaxQueryLimit);
        Assert.Equal(perAlert, page.Alerts.Count);
        Assert.Equal(page.Alerts[^1].Id, page.Next);
        Assert.Equal(2, log.Query(page.Next, AlertLog.MaxQueryLimit).Alerts.Count);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_and_left_untouched()
    {
        var path = _temp.Combine("alerts.db");
        File.WriteAllBytes(path, RandomNumberGenerator.GetBytes(8192));
        var before = File.ReadAllBytes(path);

        var error = Assert.Throws<AlertLogException>(() => AlertLog.Open(path));
        Assert.Equal(AlertLogError.Corrupt, error.Error);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Another_database_or_schema_version_is_refused_and_left_untouched()
    {
        var other = _temp.Combine("other.db");
        RawSql(other, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
        Assert.Equal(AlertLogError.NotAnAlertLog, Assert.Throws<AlertLogException>(() => AlertLog.Open(other)).Error);

        var newer = _temp.Combine("alerts.db");
        AlertLog.Open(newer).Dispose();
        RawSql(newer, "PRAGMA user_version = 2");
        var error = Assert.Throws<AlertLogException>(() => AlertLog.Open(newer));
        Assert.Equal(AlertLogError.SchemaVersionMismatch, error.Error);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_leftover_log_next_to_a_missing_file_and_a_missing_folder_are_refused()
    {
        var path = _temp.Combine("alerts.db");
        File.WriteAllBytes(path + "-wal", [1]);
        Assert.Equal(AlertLogError.OrphanedLog, Assert.Throws<AlertLogException>(() => AlertLog.Open(path)).Error);
        Assert.False(File.Exists(path));

        Assert.Equal(AlertLogError.Io, Assert.Throws<AlertLogException>(() => AlertLog.Open(_temp.Combine("missing", "alerts.db"))).Error);
    }

    [Fact]
    public void A_new_log_is_owner_only_in_WAL_mode_with_full_sync()
    {
        var path = _temp.Combine("alerts.db");
        using var log = AlertLog.Open(path);
        log.Record(Sample(), 1, T0);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.True(File.Exists(path + "-wal"));
    }

    [Fact]
    public async Task Writers_and_readers_on_several_threads_see_a_consistent_log()
    {
        using var log = AlertLog.Open(_temp.Combine("alerts.db"));
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 20; i++)
            {
                log.Record(Sample(detail: $"#{i}"), 1, T0);
            }
        });
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            while (!writer.IsCompleted)
            {
                var page = log.Query(null, 100);
                Assert.True(page.Alerts.Count <= page.Count);
                Assert.Equal(page.Alerts.OrderBy(a => a.Id).Select(a => a.Id), page.Alerts.Select(a => a.Id));
            }
        })).ToArray();

        await Task.WhenAll([writer, .. readers]);
        Assert.Equal(20, log.Count());
    }

    private static void RawSql(string path, string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

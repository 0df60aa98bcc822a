// References: docs/BRIEF.md section 4 ("Status GUI": last refresh and its duration, keys and
// fingerprints, registered applications, storage counts); issue 6 item 1 (a chart of refresh durations
// over recent periods, share age); docs/API.md "/v1/status" (the field names are a contract).
using Proactive.Node.StatusPage;

namespace Proactive.Node.Api;

/// <summary>The history the status page draws (<see cref="StatusHistory"/>): public, nothing secret.</summary>
public sealed partial record NodeStatus
{
    /// <summary>The period of the shares this server holds (its last committed refresh); null before the first.</summary>
    public ulong? SharesPeriod { get; init; }

    /// <summary>
    /// When this process saw its shares committed (the last refresh, or the recovery that ended in one); null
    /// when it has not seen one since it started (restarted servers learn it at their next refresh).
    /// </summary>
    public DateTimeOffset? SharesRefreshedAt { get; init; }

    /// <summary>The latest refreshes this process saw commit, oldest first (at most <see cref="StatusHistory.MaxRefreshes"/>).</summary>
    public IReadOnlyList<RefreshRecord> Refreshes { get; init; } = [];

    /// <summary>The latest KeyTables this process decided, oldest first (at most <see cref="StatusHistory.MaxKeyTables"/>).</summary>
    public IReadOnlyList<KeyTableRecord> KeyTables { get; init; } = [];

    /// <summary>What the agreed application state holds, by count; null while this server does not follow the ledger (not operational, or behind).</summary>
    public ApplicationCounts? Applications { get; init; }
}

/// <summary>One refresh as this server saw it commit.</summary>
/// <param name="Period">The period it refreshed the shares for.</param>
/// <param name="StartedAt">When this server started the period (null when it joined the refresh without starting the period itself).</param>
/// <param name="CommittedAt">When the new shares were durable here.</param>
/// <param name="DurationMs">From the period's start here to the commit, in milliseconds (what <see cref="NodeStatus.LastRefreshDurationMs"/> reports).</param>
public sealed record RefreshRecord(ulong Period, DateTimeOffset? StartedAt, DateTimeOffset CommittedAt, double DurationMs);

/// <summary>One decided KeyTable: what servers compare to see that they agree on the period's keys.</summary>
/// <param name="Period">Its period.</param>
/// <param name="DecidedAt">When this server decided it.</param>
/// <param name="Fingerprint">SHA-256 of the table's canonical encoding, lowercase hex (<see cref="NodeStatus.Fingerprint"/>): equal at servers that agree.</param>
/// <param name="OwnKeysFingerprint">SHA-256 of this server's K_i in it (its public V_i, E_i and TLS certificate fingerprint), lowercase hex; null when the table has no entry for it.</param>
public sealed record KeyTableRecord(ulong Period, DateTimeOffset DecidedAt, string Fingerprint, string? OwnKeysFingerprint);

/// <summary>The agreed application state by count (the same at every server that follows the ledger).</summary>
/// <param name="Applications">Registered applications.</param>
/// <param name="Instances">Registered instances (handles): one per centralized application, up to n per distributed one.</param>
/// <param name="DataEntries">Stored entries (public and secret) across applications.</param>
/// <param name="Secrets">Secret entries ever stored (their shares are refreshed with the network key's).</param>
/// <param name="Keys">Signing keys applications generated.</param>
public sealed record ApplicationCounts(int Applications, int Instances, int DataEntries, ulong Secrets, ulong Keys);

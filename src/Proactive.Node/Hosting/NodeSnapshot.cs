// References: issue 4 item 7 (GET /v1/status); docs/API.md.
namespace Proactive.Node.Hosting;

/// <summary>
/// What the node's loop publishes after every unit of work, for other threads (the API, the CLI):
/// immutable, replaced as a whole.
/// </summary>
public sealed record NodeSnapshot(
    int ServerId,
    string State,
    ulong Period,
    ulong? CommittedPeriod,
    DateTimeOffset? PeriodStartedAt,
    DateTimeOffset? NextRefreshAt,
    double? LastRefreshDurationMs,
    string? NetworkKey,
    string? KeyTableFingerprint,
    long AlertCount,
    DateTimeOffset StartedAt,
    IReadOnlyDictionary<string, long> Refused)
{
    /// <summary>Before the loop runs.</summary>
    public static NodeSnapshot Starting(int serverId, DateTimeOffset now) =>
        new(serverId, "starting", 0, null, null, null, null, null, null, 0, now, new Dictionary<string, long>());
}

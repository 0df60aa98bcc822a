// References: docs/BRIEF.md section 4 ("Status GUI": period and time to the next refresh, last
// refresh and its duration, alerts, keys and fingerprints; "Data": whether the ROM is really
// write-protected); docs/API.md "/v1/status" (the field names are a contract: renaming one breaks clients).
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Proactive.Node.Storage;

namespace Proactive.Node.Api;

/// <summary>Where the node is in its life; the JSON names are lowercase.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeState>))]
public enum NodeState
{
    /// <summary>Before the first KeyTable is decided (toolkit Table 3), or while restoring from the store.</summary>
    [JsonStringEnumMemberName("initializing")]
    Initializing,

    /// <summary>Holding valid shares and keys for the current period: serving.</summary>
    [JsonStringEnumMemberName("operational")]
    Operational,

    /// <summary>Recovering its shares or certificate from its peers (toolkit Table 2).</summary>
    [JsonStringEnumMemberName("recovering")]
    Recovering,

    /// <summary>Shutting down.</summary>
    [JsonStringEnumMemberName("stopping")]
    Stopping,
}

/// <summary>One peer as this server sees it.</summary>
/// <param name="Id">The peer's server id.</param>
/// <param name="Reachable">Whether the last attempt to reach it succeeded.</param>
/// <param name="LastContactAt">When it last answered or sent a batch; null when never.</param>
public sealed record PeerStatus(int Id, bool Reachable, DateTimeOffset? LastContactAt);

/// <summary>
/// The body of <c>GET /v1/status</c>: what an operator or a monitor needs to know about one server,
/// no secrets. Built by the node's driver on demand (<see cref="NodeApi"/> calls it per request).
/// </summary>
/// <param name="ServerId">This server's id.</param>
/// <param name="State">Where the node is in its life.</param>
/// <param name="Period">The current period.</param>
/// <param name="PeriodStartedAt">When the current period began; null before initialization.</param>
/// <param name="NextRefreshAt">When the next refresh is due; null when none is scheduled.</param>
/// <param name="LastRefreshDurationMs">How long the last refresh took, in milliseconds; null before the first.</param>
/// <param name="NetworkKey">The network's public key, lowercase hex; null before initialization.</param>
/// <param name="KeyTableFingerprint">SHA-256 of the decided KeyTable's encoding, lowercase hex (<see cref="Fingerprint"/>); null before one is decided.</param>
/// <param name="Peers">Every other server, by id.</param>
/// <param name="AlertCount">Alerts stored in the alert log (<see cref="AlertLog.Count"/>; <see cref="NodeApi"/> fills it in).</param>
/// <param name="RomWriteProtected">Whether a write to the ROM file was refused (<see cref="RomProtection"/> is not Writable).</param>
/// <param name="RomProtection">What protects the ROM, for a human (<see cref="DescribeRom"/>).</param>
/// <param name="StartedAt">When this process started.</param>
/// <param name="Version">The node's software version (<see cref="NodeAssembly.Version"/>).</param>
public sealed partial record NodeStatus(
    int ServerId,
    NodeState State,
    ulong Period,
    DateTimeOffset? PeriodStartedAt,
    DateTimeOffset? NextRefreshAt,
    double? LastRefreshDurationMs,
    string? NetworkKey,
    string? KeyTableFingerprint,
    IReadOnlyList<PeerStatus> Peers,
    long AlertCount,
    bool RomWriteProtected,
    string RomProtection,
    DateTimeOffset StartedAt,
    string Version)
{
    /// <summary>How many of <see cref="Peers"/> are reachable (derived, so it always agrees with the list).</summary>
    public int PeersReachable => Peers.Count(peer => peer.Reachable);

    /// <summary>Peer frames this server refused or dropped, by reason (bad signatures, wrong periods, replays, malformed frames...).</summary>
    public IReadOnlyDictionary<string, long> Refused { get; init; } = new Dictionary<string, long>();

    /// <summary>The <see cref="KeyTableFingerprint"/> of an encoded KeyTable: SHA-256, lowercase hex.</summary>
    public static string Fingerprint(ReadOnlySpan<byte> encodedKeyTable) =>
        Convert.ToHexStringLower(SHA256.HashData(encodedKeyTable));

    /// <summary><see cref="RomWriteProtected"/> and <see cref="RomProtection"/> for what <see cref="RomProtectionProbe"/> found.</summary>
    public static (bool WriteProtected, string Description) DescribeRom(Storage.RomProtection protection) => protection switch
    {
        Storage.RomProtection.ReadOnlyMount => (true, "read-only mount: a write was refused and changing the ROM needs a remount (root on this machine can still remount)"),
        Storage.RomProtection.FileModeOnly => (true, "file mode only: a write was refused, but the file's owner or root can lift the protection"),
        Storage.RomProtection.Writable => (false, "writable: this process could open the ROM for writing, so an intruder in it could change V_start"),
        _ => throw new ArgumentOutOfRangeException(nameof(protection), protection, "Unknown ROM protection."),
    };
}

/// <summary>The body of <c>GET /v1/health</c> (200 when <see cref="Ok"/>, 503 otherwise).</summary>
/// <param name="Ok">True when the node is operational.</param>
/// <param name="State">The node's state.</param>
public sealed record HealthReport(bool Ok, NodeState State);

/// <summary>Source-generated JSON for the API's bodies and the webhook's (camelCase, no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(StoredAlert))]
[JsonSerializable(typeof(AlertPage))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(ApiProblem))]
public sealed partial class NodeApiJsonContext : JsonSerializerContext;

// References: docs/BRIEF.md section 4 ("Status GUI": the whole network from any server, no secrets);
// issue 6 item 1; docs/API.md "GET /v1/network/status" (the field names are a contract).
using System.Text.Json.Serialization;
using Proactive.Node.Api;

namespace Proactive.Node.StatusPage;

/// <summary>How a server looks from the server that built the view; the JSON names are lowercase.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NetworkServerState>))]
public enum NetworkServerState
{
    /// <summary>It answered: before its first KeyTable, or restoring.</summary>
    [JsonStringEnumMemberName("initializing")]
    Initializing,

    /// <summary>It answered: serving with valid shares and keys.</summary>
    [JsonStringEnumMemberName("operational")]
    Operational,

    /// <summary>It answered: recovering its shares or its certificate.</summary>
    [JsonStringEnumMemberName("recovering")]
    Recovering,

    /// <summary>It answered: shutting down.</summary>
    [JsonStringEnumMemberName("stopping")]
    Stopping,

    /// <summary>Its API port refused the connection: its host is up, no server process listens.</summary>
    [JsonStringEnumMemberName("down")]
    Down,

    /// <summary>No usable answer: a timeout, a network error, an error status or a body that is not a status.</summary>
    [JsonStringEnumMemberName("unreachable")]
    Unreachable,
}

/// <summary>How the view's server got (or did not get) another server's status; the JSON names are lowercase.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Reachability>))]
public enum Reachability
{
    /// <summary>The server that built the view (no request).</summary>
    [JsonStringEnumMemberName("self")]
    Self,

    /// <summary>It answered with a status.</summary>
    [JsonStringEnumMemberName("answered")]
    Answered,

    /// <summary>The connection was refused.</summary>
    [JsonStringEnumMemberName("refused")]
    Refused,

    /// <summary>No answer within the timeout.</summary>
    [JsonStringEnumMemberName("timeout")]
    Timeout,

    /// <summary>Another network or HTTP failure (an error status, an answer too large, no API address).</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>It answered something that is not a status of the server asked.</summary>
    [JsonStringEnumMemberName("malformed")]
    Malformed,
}

/// <summary>
/// The body of <c>GET /v1/network/status</c>: every server's status and latest alerts as one server
/// gathered them (its own directly, its peers' from their public <c>/v1/status</c> and
/// <c>/v1/alerts</c>), for the status page. Public and nothing secret: the same data the peers' APIs
/// serve to anyone.
/// </summary>
/// <param name="GeneratedAt">When this view was gathered (the page measures ages from it, not from the browser's clock).</param>
/// <param name="Self">The id of the server that gathered it.</param>
/// <param name="Network">The network's description (as <c>GET /v1/cluster</c>); null when this API serves no application services.</param>
/// <param name="Servers">Every server, by id.</param>
public sealed record NetworkStatusBody(DateTimeOffset GeneratedAt, int Self, ClusterBody? Network, IReadOnlyList<NetworkServerBody> Servers);

/// <summary>One server in <see cref="NetworkStatusBody"/>.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Api">Its API's address from the configuration; null when it has none.</param>
/// <param name="State">Its state: its own when it answered, else <c>down</c> or <c>unreachable</c>.</param>
/// <param name="Reachability">How its status was obtained.</param>
/// <param name="Problem">Why there is no status (or no usable one), for a human; null when it answered.</param>
/// <param name="AnsweredInMs">How long its <c>/v1/status</c> took, in milliseconds; null for the view's own server and when it did not answer.</param>
/// <param name="Status">Its status as it answered it; null when it did not.</param>
/// <param name="Alerts">Its latest alerts, oldest first (evidence shortened).</param>
/// <param name="AlertsProblem">Why its alerts are missing while its status is there; null otherwise.</param>
public sealed record NetworkServerBody(
    int Id,
    string? Api,
    NetworkServerState State,
    Reachability Reachability,
    string? Problem,
    double? AnsweredInMs,
    NodeStatus? Status,
    IReadOnlyList<NetworkAlertBody> Alerts,
    string? AlertsProblem);

/// <summary>One alert in <see cref="NetworkServerBody.Alerts"/>: a stored alert with its evidence in hex and shortened.</summary>
/// <param name="Id">Its id in the reporter's alert log.</param>
/// <param name="DetectedAt">When it was first detected.</param>
/// <param name="LastDetectedAt">When it was last detected.</param>
/// <param name="Reporter">The server that detected it (the one whose log it is).</param>
/// <param name="Type">The alert type's name.</param>
/// <param name="Culprit">The server blamed; 0 when nobody is.</param>
/// <param name="Period">The period it was detected in.</param>
/// <param name="Instance">The protocol instance, or null.</param>
/// <param name="Detail">Human-readable detail (shortened to <see cref="NetworkStatusOptions.MaxDetailLength"/> characters).</param>
/// <param name="Count">How many identical detections it stands for.</param>
/// <param name="Evidence">The first bytes of the evidence (at most <see cref="NetworkStatusOptions.MaxEvidenceBytes"/>), lowercase hex.</param>
/// <param name="EvidenceLength">The evidence's whole length in bytes (more than <paramref name="Evidence"/> holds when it was shortened here or in the log).</param>
public sealed record NetworkAlertBody(
    long Id,
    DateTimeOffset DetectedAt,
    DateTimeOffset LastDetectedAt,
    int Reporter,
    string Type,
    int Culprit,
    ulong Period,
    string? Instance,
    string Detail,
    long Count,
    string Evidence,
    int EvidenceLength);

/// <summary>Source-generated JSON for the network view (camelCase, no reflection).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(NetworkStatusBody))]
public sealed partial class StatusPageJsonContext : JsonSerializerContext;

/// <summary>
/// Reads peers' answers strictly: a missing constructor member or a null where the type allows none is
/// malformed, not a half-filled status (the members added later, as init properties, stay optional so
/// that an older peer still reads).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(NodeStatus))]
[JsonSerializable(typeof(AlertPage))]
internal sealed partial class PeerAnswerJsonContext : JsonSerializerContext;

using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// Reads a node's loopback API (<c>GET /v1/status</c>, <c>GET /v1/alerts</c>). Lenient on purpose: the
/// CLI shows what a node reports, so a field it does not know is kept as is and a missing one is shown
/// as unknown; a node that does not answer in time, or answers something that is not a JSON object,
/// is "not answering".
/// </summary>
internal sealed class NodeStatusClient : IDisposable
{
    private readonly HttpClient _http;

    internal NodeStatusClient(TimeSpan timeout)
    {
        _http = new HttpClient { Timeout = timeout };
    }

    internal static string ApiUrl(int apiPort) => $"http://127.0.0.1:{apiPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The node's status object, or null when it does not answer.</summary>
    internal async Task<NodeStatus?> StatusAsync(int apiPort, CancellationToken cancel)
    {
        var json = await GetObjectAsync(ApiUrl(apiPort) + "/v1/status", cancel).ConfigureAwait(false);
        return json is null ? null : new NodeStatus(json);
    }

    /// <summary>The node's alerts (empty when it does not answer).</summary>
    internal async Task<IReadOnlyList<NodeAlert>> AlertsAsync(int apiPort, CancellationToken cancel)
    {
        var json = await GetObjectAsync(ApiUrl(apiPort) + "/v1/alerts", cancel).ConfigureAwait(false);
        if (json?["alerts"] is not JsonArray alerts)
        {
            return [];
        }

        return [.. alerts.OfType<JsonObject>().Select(a => new NodeAlert(a))];
    }

    public void Dispose() => _http.Dispose();

    private async Task<JsonObject?> GetObjectAsync(string url, CancellationToken cancel)
    {
        try
        {
            return await _http.GetFromJsonAsync<JsonObject>(url, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or NotSupportedException or InvalidOperationException)
        {
            if (cancel.IsCancellationRequested)
            {
                throw;
            }

            return null;
        }
    }
}

/// <summary>One <c>/v1/status</c> answer; every accessor tolerates a missing or mistyped field.</summary>
internal sealed class NodeStatus(JsonObject json)
{
    internal const string Operational = "operational";

    internal JsonObject Json { get; } = json;

    internal string State => Text("state") ?? "unknown";

    internal long? Period => Number("period") is { } p ? (long)p : null;

    internal string? NetworkKey => Text("networkKey");

    internal DateTimeOffset? NextRefreshAt => Time("nextRefreshAt");

    internal double? LastRefreshDurationMs => Number("lastRefreshDurationMs");

    internal int? PeersReachable => Number("peersReachable") is { } p ? (int)p : null;

    /// <summary>The peer count when the node lists its peers (for "reachable of total").</summary>
    internal int? PeerCount => Json["peers"] is JsonArray peers ? peers.Count : null;

    internal long? AlertCount => Number("alertCount") is { } c ? (long)c : null;

    internal bool IsOperational => State == Operational;

    internal string? Text(string name) =>
        Json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    internal double? Number(string name) =>
        Json[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<double>(out var number) ? number : null;

    internal DateTimeOffset? Time(string name) =>
        DateTimeOffset.TryParse(Text(name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}

/// <summary>One alert of <c>/v1/alerts</c>, leniently read.</summary>
internal sealed class NodeAlert(JsonObject json)
{
    internal JsonObject Json { get; } = json;

    internal DateTimeOffset? DetectedAt =>
        DateTimeOffset.TryParse(Text("detectedAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    internal string Type => Text("type") ?? "?";

    internal string Reporter => Raw("reporter");

    internal string Culprit => Raw("culprit");

    internal string Period => Raw("period");

    internal string Detail => Text("detail") ?? string.Empty;

    private string? Text(string name) =>
        Json[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private string Raw(string name) => Json[name] is JsonValue value ? value.ToString() : "?";
}

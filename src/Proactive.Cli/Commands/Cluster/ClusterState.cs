using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Proactive.Cli.Commands.Cluster;

/// <summary>
/// <c>cluster-state.json</c>: what <c>cluster up</c> started, so that <c>status</c>, <c>down</c> and
/// <c>break-in</c> find the processes again. Written atomically (a reader sees the old file or the new
/// one); ports are also in <c>cluster.json</c>, repeated here so the state file alone describes the
/// running cluster.
/// </summary>
internal sealed record ClusterState
{
    internal const string FormatTag = "proactive-local-cluster-v1";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string Format { get; init; } = FormatTag;

    public ClusterRunState State { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public IReadOnlyList<ServerProcessState> Servers { get; init; } = [];

    /// <summary>Server <paramref name="id"/>'s entry, or null.</summary>
    internal ServerProcessState? Server(int id) => Servers.FirstOrDefault(s => s.Id == id);

    /// <summary>This state with the entry of <paramref name="server"/>'s id replaced.</summary>
    internal ClusterState WithServer(ServerProcessState server) =>
        this with { Servers = [.. Servers.Select(s => s.Id == server.Id ? server : s)], UpdatedAt = DateTimeOffset.UtcNow };

    internal byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Parses the file's bytes; false for anything that is not a state file of this format (a damaged file must not throw).</summary>
    internal static bool TryDecode(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out ClusterState? state)
    {
        state = null;
        try
        {
            var parsed = JsonSerializer.Deserialize<ClusterState>(utf8Json, Json);
            if (parsed is null || parsed.Format != FormatTag || parsed.Servers is null || parsed.Servers.Any(s => s is null || s.Id < 1 || s.Command is null))
            {
                return false;
            }

            state = parsed;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads <paramref name="path"/>; null when it is missing or not a state file.</summary>
    internal static ClusterState? Load(string path)
    {
        try
        {
            return TryDecode(File.ReadAllBytes(path), out var state) ? state : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Writes <paramref name="path"/> atomically, replacing it.</summary>
    internal void Save(string path) => AtomicFile.Write(path, Encode(), replace: true);
}

/// <summary>Whether <c>cluster up</c> left the servers running or <c>cluster down</c> stopped them.</summary>
internal enum ClusterRunState
{
    Stopped,
    Running,
}

/// <summary>One server as started: its process id (null once stopped), its ports and the command that starts it again.</summary>
internal sealed record ServerProcessState
{
    public int Id { get; init; }

    public int? Pid { get; init; }

    public int PeerPort { get; init; }

    public int ApiPort { get; init; }

    /// <summary>The program and its arguments, as started (a break-in restarts the server with the same command).</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    public DateTimeOffset? StartedAt { get; init; }
}

// References: docs/BRIEF.md section 3 ("Initialization": C holds each server's id, address and
// V_start); issue 4 item 1 (--server I=HOST:PORT:VSTART).
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Proactive.Crypto.Signing;
using Proactive.Node.Storage;
using Proactive.Protocols.Cluster;

namespace Proactive.Node.Configuration;

/// <summary>
/// One server in the constants C: its id, where its peers reach it (<see cref="Host"/>,
/// <see cref="PeerPort"/>), optionally the port of its application API, and V_start, which
/// binds the entry to the machine that was provisioned (its M_i is verified with it).
/// </summary>
public sealed record ClusterServer
{
    public ClusterServer(int id, string host, int peerPort, int? apiPort, Ed25519PublicKey startPublicKey)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(startPublicKey);
        Id = id;
        Host = host;
        PeerPort = peerPort;
        ApiPort = apiPort;
        StartPublicKey = startPublicKey;
    }

    /// <summary>The server's id in 1..n.</summary>
    public int Id { get; }

    /// <summary>A DNS name or an IP address (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>The port of the peer transport (HTTP/2 over TLS).</summary>
    public int PeerPort { get; }

    /// <summary>The port of the application API on <see cref="Host"/>, if the configuration publishes it (clients and <c>cluster status</c> use it).</summary>
    public int? ApiPort { get; }

    /// <summary>V_start: the key in the server's ROM.</summary>
    public Ed25519PublicKey StartPublicKey { get; }

    /// <summary>host:port for the peer transport, with brackets around an IPv6 address.</summary>
    public string PeerEndpoint => Endpoint(PeerPort);

    /// <summary>host:port of the API, or null.</summary>
    public string? ApiEndpoint => ApiPort is { } port ? Endpoint(port) : null;

    /// <summary>
    /// Parses the command-line form <c>I=HOST:PORT:VSTART</c> or <c>I=HOST:PORT:APIPORT:VSTART</c>
    /// (an IPv6 host in brackets: <c>2=[::1]:7002:VSTART</c>). Only the syntax is checked here; the
    /// rules between servers (ids 1..n, no shared endpoint or key) are <see cref="ClusterConfig"/>'s.
    /// </summary>
    public static bool TryParse(string? spec, [NotNullWhen(true)] out ClusterServer? server, [NotNullWhen(false)] out string? error)
    {
        server = null;
        const string Form = "expected I=HOST:PORT:VSTART or I=HOST:PORT:APIPORT:VSTART";
        if (string.IsNullOrWhiteSpace(spec))
        {
            error = $"empty server ({Form}).";
            return false;
        }

        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            error = $"'{spec}': no server id ({Form}).";
            return false;
        }

        if (!int.TryParse(spec.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1 || id > ClusterParameters.MaxServers)
        {
            error = $"'{spec}': the server id must be a number between 1 and {ClusterParameters.MaxServers}.";
            return false;
        }

        var rest = spec[(equals + 1)..];
        string host;
        string[] parts;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= rest.Length || rest[close + 1] != ':')
            {
                error = $"'{spec}': a bracketed IPv6 host must be followed by ':PORT' ({Form}).";
                return false;
            }

            host = rest[1..close];
            parts = rest[(close + 2)..].Split(':');
        }
        else
        {
            var all = rest.Split(':');
            if (all.Length > 4)
            {
                error = $"'{spec}': too many ':'; put an IPv6 host in brackets, e.g. {id}=[::1]:7001:VSTART.";
                return false;
            }

            host = all[0];
            parts = all[1..];
        }

        if (parts.Length is not (2 or 3))
        {
            error = $"'{spec}': {Form}.";
            return false;
        }

        if (!TryParsePort(parts[0], out var peerPort))
        {
            error = $"'{spec}': the peer port '{parts[0]}' must be a number between 1 and 65535.";
            return false;
        }

        int? apiPort = null;
        if (parts.Length == 3)
        {
            if (!TryParsePort(parts[1], out var api))
            {
                error = $"'{spec}': the API port '{parts[1]}' must be a number between 1 and 65535.";
                return false;
            }

            apiPort = api;
        }

        if (!StartKeyText.TryParse(parts[^1], out var key))
        {
            error = $"'{spec}': '{parts[^1]}' is not a valid V_start ({StartKeyText.Length} hex digits of an Ed25519 public key, as 'proactive provision' prints it).";
            return false;
        }

        if (CheckHost(host) is { } hostError)
        {
            error = $"'{spec}': {hostError}";
            return false;
        }

        server = new ClusterServer(id, host.ToLowerInvariant(), peerPort, apiPort, key);
        error = null;
        return true;
    }

    /// <summary>Null when <paramref name="host"/> is a DNS name or an IP address, else why not.</summary>
    internal static string? CheckHost(string host)
    {
        if (host.Length is 0 or > 253 || !host.All(char.IsAscii))
        {
            return $"the host '{host}' must be 1 to 253 ASCII characters (an IDN host in its xn-- form).";
        }

        return Uri.CheckHostName(host) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6
            ? null
            : $"the host '{host}' is not a DNS name or an IP address.";
    }

    internal static bool IsValidPort(int port) => port is >= 1 and <= 65535;

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && IsValidPort(port);

    private string Endpoint(int port) =>
        (Uri.CheckHostName(Host) == UriHostNameType.IPv6 ? $"[{Host}]" : Host) + ":" + port.ToString(CultureInfo.InvariantCulture);
}

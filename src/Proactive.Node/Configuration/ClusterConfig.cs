// References: toolkit (seed 001) section 4 ("the proactive server needs some constants configuration
// information such as IP addresses of other servers, cryptographic parameters ... We denote this set
// of these (public) constants by C") and Tables 2-3 (M_i = Sign_S_start(V_cert, C)); docs/BRIEF.md
// sections 1 (n, t, f and their rules; the period), 3 ("Initialization": what C holds) and 8.
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Frost;
using Proactive.Node.Storage;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;

namespace Proactive.Node.Configuration;

/// <summary>
/// The constants C of one network: its servers (id, peer address, optional API port, V_start), the
/// thresholds n, t, f, the ciphersuite, the period length L and optionally the genesis time. Every
/// server runs with the same C; each signs it in M_i at initialization, so a server that later finds
/// its copy corrupted recovers C from M.
/// </summary>
/// <remarks>
/// <para><b>Network id.</b> Derived from the content: the first 16 bytes of
/// SHA-256("proactive-network-id-v1" || <see cref="EncodeCanonical"/> with a zero id). So the same
/// constants always name the same network, a hand-edited file whose id no longer matches its content
/// is refused on load, and two networks differ whenever their constants do. Two networks can never
/// share constants for long: V_start identifies a provisioned machine and its S_start is erased at
/// initialization, so building a second network needs newly provisioned servers, hence new keys.</para>
/// <para><b>Genesis.</b> Optional: when present, period p starts at genesis + p * L. When absent the
/// node decides at initialization (and the file does not change).</para>
/// <para><b>File.</b> Indented JSON (see <see cref="ToJson"/>); parsing is strict (unknown fields,
/// wrong types, a format tag of another version are errors) and collects every problem, each naming
/// its rule, so an operator fixes the file in one pass.</para>
/// </remarks>
public sealed class ClusterConfig
{
    /// <summary>The format tag, first in the file.</summary>
    public const string FormatTag = "proactive-cluster-v1";

    /// <summary>A configuration of 255 servers is about 40 KB; a file much larger is not one.</summary>
    public const int MaxFileLength = 1024 * 1024;

    /// <summary>Version byte of <see cref="EncodeCanonical"/>.</summary>
    public const byte EncodingVersion = 1;

    /// <summary>The suite names a configuration accepts, in the order the CLI lists them.</summary>
    public static readonly IReadOnlyList<string> SuiteNames = ["ed25519", "ristretto255", "p256"];

    private static readonly byte[] NetworkIdLabel = Encoding.ASCII.GetBytes("proactive-network-id-v1");

    private ClusterConfig(string suiteName, ClusterParameters parameters, TimeSpan period, DateTimeOffset? genesis, IReadOnlyList<ClusterServer> servers)
    {
        SuiteName = suiteName;
        Suite = SuiteFromName(suiteName)!;
        Parameters = parameters;
        Period = period;
        Genesis = genesis;
        Servers = servers;
        NetworkId = NetworkId.FromBytes(SHA256.HashData([.. NetworkIdLabel, .. Encode(withNetworkId: false)]).AsSpan(0, NetworkId.Length));
    }

    /// <summary>Derived from the content (see remarks).</summary>
    public NetworkId NetworkId { get; }

    /// <summary>"ed25519", "ristretto255" or "p256".</summary>
    public string SuiteName { get; }

    /// <summary>The FROST ciphersuite (and with it the group) of the network key and the long-lived secrets.</summary>
    public Ciphersuite Suite { get; }

    /// <summary>n, t, f, validated by the rules of BRIEF section 1.</summary>
    public ClusterParameters Parameters { get; }

    /// <summary>L.</summary>
    public TimeSpan Period { get; }

    /// <summary>The start of period 0 (UTC, whole seconds), or null when the node decides at initialization.</summary>
    public DateTimeOffset? Genesis { get; }

    /// <summary>Servers 1..n in id order.</summary>
    public IReadOnlyList<ClusterServer> Servers { get; }

    /// <summary>Server <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such server.</exception>
    public ClusterServer Server(int id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(id, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(id, Servers.Count);
        return Servers[id - 1];
    }

    /// <summary>
    /// Builds C from its parts (<c>proactive config new</c>). <paramref name="threshold"/> and
    /// <paramref name="faults"/> default to BRIEF section 1's t = floor((n-1)/2), f = floor((n-1)/3).
    /// False with every problem found, each naming its rule.
    /// </summary>
    public static bool TryCreate(
        IReadOnlyList<ClusterServer> servers,
        int? threshold,
        int? faults,
        TimeSpan period,
        string suite,
        DateTimeOffset? genesis,
        [NotNullWhen(true)] out ClusterConfig? config,
        out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(suite);
        var problems = new List<string>();
        var n = servers.Count;
        var t = threshold ?? (n - 1) / 2;
        var f = faults ?? (n - 1) / 3;
        config = null;

        CheckServers(servers, problems);
        ClusterParameters? parameters = null;
        if (n == 0)
        {
            problems.Add("servers: a network needs at least one server.");
        }
        else if (!ClusterParameters.TryCreate(n, t, f, out parameters, out var rule))
        {
            problems.Add(rule);
        }

        if (!PeriodLength.Check(period, out _, out var periodError))
        {
            problems.Add($"period: {periodError}");
        }

        if (SuiteFromName(suite) is null)
        {
            problems.Add($"suite: '{suite}' is unknown; use one of {string.Join(", ", SuiteNames)}.");
        }

        if (genesis is { } g && (g.Offset != TimeSpan.Zero || g.Ticks % TimeSpan.TicksPerSecond != 0 || g.ToUnixTimeSeconds() < 0))
        {
            problems.Add("genesis: must be a UTC time in whole seconds, after 1970.");
        }

        if (problems.Count > 0 || parameters is null)
        {
            errors = problems;
            return false;
        }

        config = new ClusterConfig(suite, parameters, period, genesis, [.. servers.OrderBy(s => s.Id)]);
        errors = [];
        return true;
    }

    /// <summary>Parses a configuration file's bytes; false with every problem found (a damaged file must not throw).</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Json, [NotNullWhen(true)] out ClusterConfig? config, out IReadOnlyList<string> errors)
    {
        config = null;
        if (utf8Json.Length > MaxFileLength)
        {
            errors = [$"the file is {utf8Json.Length} bytes; a cluster configuration is at most {MaxFileLength}."];
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            errors = [$"not valid JSON: {e.Message}"];
            return false;
        }

        using (document)
        {
            try
            {
                return TryRead(document.RootElement, out config, out errors);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Strings that are not valid UTF-8 once unescaped (DecoderFallbackException is an ArgumentException).
                errors = [$"the file is not valid UTF-8 text ({e.Message})."];
                return false;
            }
        }
    }

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="ClusterConfigException">The file cannot be read or is not a valid configuration; the message lists every problem.</exception>
    public static ClusterConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (file.Length > MaxFileLength)
            {
                throw new ClusterConfigException(path, [$"the file is {file.Length} bytes; a cluster configuration is at most {MaxFileLength}."]);
            }

            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterConfigException(path, [$"cannot read the file: {e.Message}"], e);
        }

        return TryParse(bytes, out var config, out var errors) ? config : throw new ClusterConfigException(path, errors);
    }

    /// <summary>The file's bytes: indented JSON, fields in a fixed order, a final newline.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FormatTag);
            writer.WriteString("networkId", NetworkId.ToString());
            writer.WriteString("suite", SuiteName);
            writer.WriteNumber("threshold", Parameters.Threshold);
            writer.WriteNumber("faults", Parameters.Faults);
            writer.WriteNumber("periodSeconds", (long)Period.TotalSeconds);
            if (Genesis is { } genesis)
            {
                writer.WriteString("genesis", FormatGenesis(genesis));
            }

            writer.WriteStartArray("servers");
            foreach (var server in Servers)
            {
                writer.WriteStartObject();
                writer.WriteNumber("id", server.Id);
                writer.WriteString("host", server.Host);
                writer.WriteNumber("peerPort", server.PeerPort);
                if (server.ApiPort is { } api)
                {
                    writer.WriteNumber("apiPort", api);
                }

                writer.WriteString("startPublicKey", StartKeyText.Format(server.StartPublicKey));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>
    /// The one canonical binary encoding of C, which M_i = Sign_S_start(V_cert, C) signs (toolkit
    /// Table 3). Big-endian: version byte 1, suite (group id byte), n, t, f (u16 each), period seconds
    /// (u64), genesis flag (u8) and genesis Unix seconds (i64) if set, network id (16 bytes), then per
    /// server in id order: id (u16), host length (u8) and ASCII host, peer port (u16), API port (u16, 0
    /// when absent), V_start (32 bytes).
    /// </summary>
    public byte[] EncodeCanonical() => Encode(withNetworkId: true);

    /// <summary>The genesis as the file writes it: "yyyy-MM-ddTHH:mm:ssZ".</summary>
    public static string FormatGenesis(DateTimeOffset genesis) =>
        genesis.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses "yyyy-MM-ddTHH:mm:ssZ" exactly (the file's form).</summary>
    public static bool TryParseGenesis(string? text, out DateTimeOffset genesis) =>
        DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out genesis);

    internal static Ciphersuite? SuiteFromName(string name) => name switch
    {
        "ed25519" => Ciphersuite.Ed25519,
        "ristretto255" => Ciphersuite.Ristretto255,
        "p256" => Ciphersuite.P256,
        _ => null,
    };

    private byte[] Encode(bool withNetworkId)
    {
        using var buffer = new MemoryStream();
        Span<byte> scratch = stackalloc byte[8];
        buffer.WriteByte(EncodingVersion);
        buffer.WriteByte((byte)Suite.Id);
        WriteU16(buffer, Parameters.ServerCount);
        WriteU16(buffer, Parameters.Threshold);
        WriteU16(buffer, Parameters.Faults);
        BinaryPrimitives.WriteUInt64BigEndian(scratch, (ulong)Period.TotalSeconds);
        buffer.Write(scratch);
        buffer.WriteByte(Genesis is null ? (byte)0 : (byte)1);
        if (Genesis is { } genesis)
        {
            BinaryPrimitives.WriteInt64BigEndian(scratch, genesis.ToUnixTimeSeconds());
            buffer.Write(scratch);
        }

        buffer.Write(withNetworkId ? NetworkId.ToArray() : new byte[NetworkId.Length]);
        foreach (var server in Servers)
        {
            WriteU16(buffer, server.Id);
            var host = Encoding.ASCII.GetBytes(server.Host);
            buffer.WriteByte((byte)host.Length);
            buffer.Write(host);
            WriteU16(buffer, server.PeerPort);
            WriteU16(buffer, server.ApiPort ?? 0);
            buffer.Write(server.StartPublicKey.Bytes);
        }

        return buffer.ToArray();

        static void WriteU16(MemoryStream stream, int value)
        {
            Span<byte> bytes = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(bytes, checked((ushort)value));
            stream.Write(bytes);
        }
    }

    /// <summary>The rules between servers: ids exactly 1..n, valid hosts and ports, no endpoint or V_start used twice.</summary>
    private static void CheckServers(IReadOnlyList<ClusterServer> servers, List<string> problems)
    {
        var n = servers.Count;
        var ids = new HashSet<int>();
        foreach (var server in servers)
        {
            if (server.Id < 1 || server.Id > n)
            {
                problems.Add($"server ids are 1..n: id {server.Id} is outside 1..{n} (n = {n} servers).");
            }
            else if (!ids.Add(server.Id))
            {
                problems.Add($"server ids are 1..n: id {server.Id} appears more than once.");
            }

            if (ClusterServer.CheckHost(server.Host) is { } hostError)
            {
                problems.Add($"server {server.Id}: {hostError}");
            }

            if (!ClusterServer.IsValidPort(server.PeerPort))
            {
                problems.Add($"server {server.Id}: peerPort {server.PeerPort} is outside 1..65535.");
            }

            if (server.ApiPort is { } api && !ClusterServer.IsValidPort(api))
            {
                problems.Add($"server {server.Id}: apiPort {api} is outside 1..65535.");
            }
        }

        // n distinct ids within 1..n are exactly 1..n; a duplicate or an id out of range leaves a gap.
        var missing = Enumerable.Range(1, n).Where(id => !ids.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"server ids are 1..n: missing {string.Join(", ", missing)}.");
        }

        // Every (host, port) a server listens on is used once in the whole network.
        var endpoints = new Dictionary<(string Host, int Port), string>();
        foreach (var server in servers)
        {
            Claim(server.Host, server.PeerPort, $"server {server.Id}'s peer port");
            if (server.ApiPort is { } api)
            {
                Claim(server.Host, api, $"server {server.Id}'s API port");
            }
        }

        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var server in servers)
        {
            var key = StartKeyText.Format(server.StartPublicKey);
            if (keys.TryGetValue(key, out var other))
            {
                problems.Add($"start keys are unique: servers {other} and {server.Id} have the same V_start (each server has its own, printed by 'proactive provision'; a copy-paste mistake?).");
            }
            else
            {
                keys[key] = server.Id;
            }
        }

        void Claim(string host, int port, string what)
        {
            var endpoint = (host.ToLowerInvariant(), port);
            if (endpoints.TryGetValue(endpoint, out var owner))
            {
                problems.Add($"endpoints are unique: {what} and {owner} are both {host}:{port}.");
            }
            else
            {
                endpoints[endpoint] = what;
            }
        }
    }

    private static bool TryRead(JsonElement root, [NotNullWhen(true)] out ClusterConfig? config, out IReadOnlyList<string> errors)
    {
        config = null;
        var problems = new List<string>();
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors = ["the configuration must be a JSON object."];
            return false;
        }

        var fields = Fields(root, "configuration", ["format", "networkId", "suite", "threshold", "faults", "periodSeconds", "genesis", "servers"], problems);
        var format = ReadString(fields, "format", "configuration", problems);
        if (format is not null && format != FormatTag)
        {
            errors = [$"format is \"{format}\"; this build reads \"{FormatTag}\"."];
            return false;
        }

        var networkIdText = ReadString(fields, "networkId", "configuration", problems);
        var suite = ReadString(fields, "suite", "configuration", problems);
        if (suite is not null && SuiteFromName(suite) is null)
        {
            problems.Add($"suite: '{suite}' is unknown; use one of {string.Join(", ", SuiteNames)}.");
        }

        var threshold = ReadInt(fields, "threshold", "configuration", problems);
        var faults = ReadInt(fields, "faults", "configuration", problems);
        var periodSeconds = ReadLong(fields, "periodSeconds", "configuration", problems);
        DateTimeOffset? genesis = null;
        if (fields.TryGetValue("genesis", out var genesisElement))
        {
            if (genesisElement.ValueKind != JsonValueKind.String || !TryParseGenesis(genesisElement.GetString(), out var parsedGenesis))
            {
                problems.Add("genesis: must be a UTC time written yyyy-MM-ddTHH:mm:ssZ.");
            }
            else
            {
                genesis = parsedGenesis;
            }
        }

        var servers = new List<ClusterServer>();
        if (!fields.TryGetValue("servers", out var serversElement))
        {
            problems.Add("configuration: missing field 'servers'.");
        }
        else if (serversElement.ValueKind != JsonValueKind.Array)
        {
            problems.Add("servers: must be an array.");
        }
        else if (serversElement.GetArrayLength() > ClusterParameters.MaxServers)
        {
            problems.Add($"servers: at most {ClusterParameters.MaxServers}.");
        }
        else
        {
            var index = 0;
            foreach (var element in serversElement.EnumerateArray())
            {
                index++;
                if (ReadServer(element, $"servers[{index - 1}]", problems) is { } server)
                {
                    servers.Add(server);
                }
            }
        }

        if (problems.Count > 0 || suite is null || threshold is null || faults is null || periodSeconds is null || networkIdText is null)
        {
            errors = problems;
            return false;
        }

        var period = periodSeconds.Value is > 0 and <= int.MaxValue ? TimeSpan.FromSeconds(periodSeconds.Value) : TimeSpan.Zero;
        if (!TryCreate(servers, threshold, faults, period, suite, genesis, out config, out errors))
        {
            return false;
        }

        if (config.NetworkId.ToString() != networkIdText)
        {
            errors = [$"networkId: the file says {networkIdText}, its content gives {config.NetworkId}. The file was edited after 'proactive config new'; make it again with that command."];
            config = null;
            return false;
        }

        return true;
    }

    private static ClusterServer? ReadServer(JsonElement element, string where, List<string> problems)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: must be an object.");
            return null;
        }

        // Name the server by its id when it has one, so that every problem points at the right entry.
        if (element.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt32(out var known))
        {
            where = $"server {known}";
        }

        var before = problems.Count;
        var fields = Fields(element, where, ["id", "host", "peerPort", "apiPort", "startPublicKey"], problems);
        var id = ReadInt(fields, "id", where, problems);

        var host = ReadString(fields, "host", where, problems);
        var peerPort = ReadInt(fields, "peerPort", where, problems);
        int? apiPort = fields.ContainsKey("apiPort") ? ReadInt(fields, "apiPort", where, problems) : null;
        var keyText = ReadString(fields, "startPublicKey", where, problems);
        var key = default(Crypto.Signing.Ed25519PublicKey);
        if (keyText is not null && !StartKeyText.TryParse(keyText, out key))
        {
            problems.Add($"{where}: startPublicKey is not a valid V_start ({StartKeyText.Length} hex digits of an Ed25519 public key).");
        }

        return problems.Count == before && id is not null && host is not null && peerPort is not null && key is not null
            ? new ClusterServer(id.Value, host, peerPort.Value, apiPort, key)
            : null;
    }

    /// <summary>The object's fields by name; unknown and repeated fields are problems.</summary>
    private static Dictionary<string, JsonElement> Fields(JsonElement element, string where, string[] known, List<string> problems)
    {
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name, StringComparer.Ordinal))
            {
                problems.Add($"{where}: unknown field '{property.Name}'.");
            }
            else if (!fields.TryAdd(property.Name, property.Value))
            {
                problems.Add($"{where}: field '{property.Name}' appears twice.");
            }
        }

        return fields;
    }

    private static string? ReadString(Dictionary<string, JsonElement> fields, string name, string where, List<string> problems)
    {
        if (!fields.TryGetValue(name, out var value))
        {
            problems.Add($"{where}: missing field '{name}'.");
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{where}: '{name}' must be a string.");
            return null;
        }

        return value.GetString();
    }

    private static int? ReadInt(Dictionary<string, JsonElement> fields, string name, string where, List<string> problems)
    {
        var value = ReadLong(fields, name, where, problems);
        if (value is { } v && v is < int.MinValue or > int.MaxValue)
        {
            problems.Add($"{where}: '{name}' is out of range.");
            return null;
        }

        return (int?)value;
    }

    private static long? ReadLong(Dictionary<string, JsonElement> fields, string name, string where, List<string> problems)
    {
        if (!fields.TryGetValue(name, out var value))
        {
            problems.Add($"{where}: missing field '{name}'.");
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            problems.Add($"{where}: '{name}' must be an integer.");
            return null;
        }

        return number;
    }
}

/// <summary>A cluster configuration file that cannot be used; <see cref="Errors"/> lists every problem, each naming its rule.</summary>
public sealed class ClusterConfigException(string path, IReadOnlyList<string> errors, Exception? innerException = null)
    : Exception($"{path} is not a valid cluster configuration:{string.Concat(errors.Select(e => $"{Environment.NewLine}  - {e}"))}", innerException)
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}

// References: toolkit (seed 001) section 5.1 (registration: centralized Reg(name, uniqueId) with a
// handle and a quota; distributed by password or by one-time certificates from a CA common to the
// application's clients, Figure 3; a request served only when a majority of instances asked for it) and
// section 5.2, Table 4 (the data types, StoreUntil); docs/BRIEF.md section 5; docs/API.md "Applications";
// docs/PROTOCOLS.md "Registration by certificate".
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Signing;

namespace Proactive.Protocols.Application;

/// <summary>What applying one agreed request did: the HTTP answer the server that received it gives.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Problem">The stable problem code when the request was refused, else null.</param>
/// <param name="Detail">What happened, in words.</param>
/// <param name="Body">The JSON answer of a success (null for a refusal).</param>
public sealed record ApplyResult(int Status, string? Problem, string Detail, byte[]? Body)
{
    public static ApplyResult Refused(int status, string problem, string detail) => new(status, problem, detail, null);

    /// <summary>The data key's shares a stored or written secret carried, one sealed to each server (null when it carried none).</summary>
    public DealtShares? Dealt { get; init; }
}

/// <summary>
/// A secret's data-key shares carried in its store or write request: share i sealed (HPKE, info
/// <see cref="DataKeySharing.DealtShareInfo"/>) to server i's encryption key of <see cref="Period"/>. Every
/// server that applies the request opens its own and keeps it as a dealt share in the same durable step,
/// so the shares are held wherever the entry is, without a round of hand-overs before the request.
/// </summary>
public sealed record DealtShares(string ApplicationIdHex, string Handle, byte[] Dealing, ulong Period, IReadOnlyList<byte[]> Sealed)
{
    /// <summary>Largest sealed share taken (HPKE enc, a scalar and the tag, with room for larger groups).</summary>
    public const int MaxSealedLength = 256;
}

/// <summary>What a batch is applied in: the network and the period whose ledger decided it.</summary>
/// <param name="NetworkHex">The network id in lowercase hex (requests are signed for it).</param>
/// <param name="ServerCount">n.</param>
/// <param name="Period">The ledger's period.</param>
/// <param name="PeriodStart">Unix milliseconds at which the period starts by the schedule.</param>
/// <param name="PeriodLength">The period length in milliseconds.</param>
public sealed record LedgerContext(string NetworkHex, int ServerCount, ulong Period, ulong PeriodStart, ulong PeriodLength)
{
    /// <summary>How far a request's timestamp may be from the period's window (the API allows 120 s of skew).</summary>
    public const ulong Skew = 5 * 60 * 1000;

    /// <summary>Whether a request signed at <paramref name="timestamp"/> may be applied in this period's ledger.</summary>
    public bool IsTimely(ulong timestamp) =>
        timestamp + Skew + PeriodLength >= PeriodStart && timestamp <= PeriodStart + (2 * PeriodLength) + Skew;
}

/// <summary>
/// The applications' state every server holds and changes only by applying agreed requests in ledger
/// order: registrations, stored data, pending quorum requests, the requests already applied. Deterministic:
/// the same requests in the same order give every honest server the same state and the same answers.
/// </summary>
/// <remarks>
/// <para>Durable form: one key per record (<see cref="ApplicationKeys"/>); <see cref="Apply"/> lists the
/// writes a request caused, which the controller persists with the batch.</para>
/// <para>Not here: authentication of the request's signature (checked when a batch is judged, see
/// <see cref="CheckAuthentic"/>) and the HTTP layer's timestamp and nonce checks.</para>
/// </remarks>
public sealed class ApplicationState
{
    /// <summary>Largest number of registered applications.</summary>
    public const int MaxApplications = 100_000;

    private static readonly byte[] CentralizedIdLabel = "proactive/app-id/v1/centralized"u8.ToArray();
    private static readonly byte[] DistributedIdLabel = "proactive/app-id/v1/distributed"u8.ToArray();
    private static readonly byte[] QuorumLabel = "proactive/quorum-request/v1"u8.ToArray();

    private readonly Dictionary<string, ApplicationRecord> _applications = new(StringComparer.Ordinal);
    private readonly Dictionary<(string App, string Data), DataRecord> _data = [];
    private readonly Dictionary<string, SortedSet<int>> _approvals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _applied = new(StringComparer.Ordinal);
    private readonly List<(string App, string Data)> _secretsByOrdinal = [];
    private readonly Dictionary<(string App, string Key), KeyRecord> _keys = [];
    private readonly List<(string App, string Key)> _keysByOrdinal = [];
    private readonly HashSet<string> _signApprovals = new(StringComparer.Ordinal);
    private readonly Dictionary<(string App, string Serial), int> _certificates = [];

    /// <summary>Registered applications.</summary>
    public int ApplicationCount => _applications.Count;

    /// <summary>Stored entries across applications.</summary>
    public int DataCount => _data.Count;

    /// <summary>The instance a certificate with serial <paramref name="serialHex"/> registered for application <paramref name="appIdHex"/>, or null when none did.</summary>
    public int? CertificateUse(string appIdHex, string serialHex) => _certificates.TryGetValue((appIdHex, serialHex), out var instance) ? instance : null;

    /// <summary>The application with id <paramref name="idHex"/>.</summary>
    public ApplicationRecord? Application(string idHex) => _applications.GetValueOrDefault(idHex);

    /// <summary>The entry <paramref name="dataId"/> of application <paramref name="appIdHex"/>.</summary>
    public DataRecord? Data(string appIdHex, string dataId) => _data.GetValueOrDefault((appIdHex, dataId));

    /// <summary>How many secrets the network has stored (the next secret's ordinal).</summary>
    public ulong SecretCount => (ulong)_secretsByOrdinal.Count;

    /// <summary>The secret with ordinal <paramref name="ordinal"/>: its application and record.</summary>
    public (string AppIdHex, DataRecord Record) SecretAt(ulong ordinal)
    {
        var (app, data) = _secretsByOrdinal[checked((int)ordinal)];
        return (app, _data[(app, data)]);
    }

    /// <summary>How many signing keys applications generated (the next key's ordinal).</summary>
    public ulong KeyCount => (ulong)_keysByOrdinal.Count;

    /// <summary>The key <paramref name="keyId"/> of application <paramref name="appIdHex"/>.</summary>
    public KeyRecord? Key(string appIdHex, string keyId) => _keys.GetValueOrDefault((appIdHex, keyId));

    /// <summary>The key with ordinal <paramref name="ordinal"/>.</summary>
    public (string AppIdHex, KeyRecord Record) KeyAt(ulong ordinal)
    {
        var (app, key) = _keysByOrdinal[checked((int)ordinal)];
        return (app, _keys[(app, key)]);
    }

    /// <summary>Whether a quorum of the application's instances approved signing <paramref name="message"/> with its key <paramref name="keyId"/>.</summary>
    public bool IsSigningApproved(string appIdHex, string keyId, ReadOnlySpan<byte> message) => _signApprovals.Contains(SignApprovalKey(appIdHex, keyId, message));

    /// <summary>
    /// Whether <paramref name="request"/> is an application's authentic request to sign a message with
    /// one of its keys (and, for a distributed application, one a quorum of its instances approved):
    /// every signer checks this itself before it contributes a signature share.
    /// </summary>
    public bool TryAuthorizeSigning(SignedRequest request, string networkHex, out ulong ordinal, out IReadOnlyList<byte[]> messages, out string problem)
    {
        ArgumentNullException.ThrowIfNull(request);
        ordinal = 0;
        messages = [];
        const string Prefix = "/v1/keys/";
        const string Single = "/sign";
        const string Batch = "/sign-batch";
        var path = request.PathAndQuery;
        var suffix = path.EndsWith(Batch, StringComparison.Ordinal) ? Batch : Single;
        if (request.Method != "POST" || !path.StartsWith(Prefix, StringComparison.Ordinal) || !path.EndsWith(suffix, StringComparison.Ordinal) || path.Length <= Prefix.Length + suffix.Length)
        {
            problem = "not a signing request";
            return false;
        }

        if (!CheckAuthentic(request, networkHex) || !Handles.TryParse(request.Handle, out var appHex, out _) || !_applications.TryGetValue(appHex, out var app))
        {
            problem = "the request is not signed by a registered instance";
            return false;
        }

        var keyId = Uri.UnescapeDataString(path[Prefix.Length..^suffix.Length]);
        if (!_keys.TryGetValue((appHex, keyId), out var key) || key.IsJointSecret)
        {
            problem = $"no key '{keyId}' here (yet)";
            return false;
        }

        try
        {
            using var body = JsonDocument.Parse(request.Body);
            messages = suffix == Batch
                ? new RequestReader(body.RootElement, "messages").Base64List("messages", KeyRecord.MaxBatchMessages, KeyRecord.MaxMessageLength)
                : [new RequestReader(body.RootElement, "message").Base64("message", KeyRecord.MaxMessageLength)];
        }
        catch (Exception e) when (e is JsonException or RequestShapeException)
        {
            problem = suffix == Batch
                ? $"the body is not {{ \"messages\": [1 to {KeyRecord.MaxBatchMessages} base64 strings] }}"
                : "the body is not { \"message\": base64 }";
            return false;
        }

        if (app.Kind != ApplicationKind.Centralized && messages.Any(message => !IsSigningApproved(appHex, keyId, message)))
        {
            problem = "a quorum of the application's instances has not approved this message";
            return false;
        }

        ordinal = key.Ordinal;
        problem = string.Empty;
        return true;
    }

    // Instance keys decoded so far (at most one per registered instance: keys come from registrations).
    private readonly Dictionary<string, Ed25519PublicKey> _decodedKeys = new(StringComparer.Ordinal);

    /// <summary>Every registered application.</summary>
    public IEnumerable<ApplicationRecord> Applications => _applications.Values;

    /// <summary>Whether the request with this id was applied already (a replay).</summary>
    public bool WasApplied(byte[] requestId) => _applied.ContainsKey(Convert.ToHexStringLower(requestId));

    /// <summary>The instance key a handle names, or null for a handle no registration made.</summary>
    public Ed25519PublicKey? KeyOf(string handle)
    {
        if (!Handles.TryParse(handle, out var appHex, out var instance)
            || !_applications.TryGetValue(appHex, out var app) || !app.Instances.TryGetValue(instance, out var key))
        {
            return null;
        }

        // Decoding checks the point (about a signature verification's cost): once per key, not per request.
        var hex = Convert.ToHexStringLower(key);
        if (_decodedKeys.TryGetValue(hex, out var known))
        {
            return known;
        }

        if (!Ed25519PublicKey.TryDecode(key, out var decoded))
        {
            return null;
        }

        _decodedKeys[hex] = decoded;
        return decoded;
    }

    /// <summary>
    /// Whether the request is signed by the key it claims (its handle's registered key, or for a
    /// registration the key in its body) for this network. A batch with a request that fails this is
    /// not acceptable: an honest server never forwards one.
    /// </summary>
    public bool CheckAuthentic(SignedRequest request, string networkHex)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = request.Handle == SignedRequest.NewHandle ? RegistrationKey(request) : KeyOf(request.Handle);
        return key is not null && request.Verify(networkHex, key);
    }

    /// <summary>Applies one agreed request; returns the answer and appends the durable writes to <paramref name="writes"/> (null value: erase).</summary>
    public ApplyResult Apply(SignedRequest request, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(writes);
        var idHex = Convert.ToHexStringLower(request.Id);
        if (_applied.ContainsKey(idHex))
        {
            return ApplyResult.Refused(409, "replayed-request", "This exact request was applied already.");
        }

        _applied[idHex] = context.Period;
        writes.Add(new(ApplicationKeys.Applied(idHex), BigEndian(context.Period)));
        if (!context.IsTimely(request.Timestamp))
        {
            return ApplyResult.Refused(401, "stale-request", "The request's timestamp is too far from the time the network applied it.");
        }

        var path = request.PathAndQuery;
        if (path.Contains('?', StringComparison.Ordinal))
        {
            return ApplyResult.Refused(400, "invalid-request", "Operations take no query string.");
        }

        try
        {
            return (request.Method, path) switch
            {
                ("POST", "/v1/apps") => Register(request, context, writes),
                ("POST", "/v1/data") => WithApplication(request, app => Store(app, request, context, writes)),
                ("POST", "/v1/data/batch") => WithApplication(request, app => StoreBatch(app, request, context, writes)),
                ("PUT", _) when path.StartsWith("/v1/data/", StringComparison.Ordinal) => WithApplication(request, app => Write(app, request, path["/v1/data/".Length..], context, writes)),
                ("POST", "/v1/keys") => WithApplication(request, app => GenerateKey(app, request, context, writes, jointSecret: false)),
                ("POST", "/v1/joint-secrets") => WithApplication(request, app => GenerateKey(app, request, context, writes, jointSecret: true)),
                ("POST", _) when path.StartsWith("/v1/keys/", StringComparison.Ordinal) && path.EndsWith("/approve", StringComparison.Ordinal)
                    => WithApplication(request, app => ApproveSigning(app, request, path["/v1/keys/".Length..^"/approve".Length], context, writes)),
                ("POST", _) when path.StartsWith("/v1/data/", StringComparison.Ordinal) && path.EndsWith("/release", StringComparison.Ordinal)
                    => WithApplication(request, app => Release(app, request, path["/v1/data/".Length..^"/release".Length], context, writes)),
                _ => ApplyResult.Refused(404, "not-found", $"No operation {request.Method} {path}."),
            };
        }
        catch (JsonException e)
        {
            return ApplyResult.Refused(400, "malformed-json", $"The body is not valid JSON: {e.Message}");
        }
        catch (RequestShapeException e)
        {
            return ApplyResult.Refused(400, "invalid-request", e.Message);
        }
    }

    /// <summary>Every record under its durable key, in key order: what a peer restores and what <see cref="Digest"/> covers.</summary>
    public IEnumerable<KeyValuePair<string, byte[]>> Records()
    {
        var records = new List<KeyValuePair<string, byte[]>>(_applications.Count + _data.Count + _approvals.Count + _applied.Count);
        records.AddRange(_applications.Values.Select(a => new KeyValuePair<string, byte[]>(ApplicationKeys.Application(a.IdHex), a.Encode())));
        records.AddRange(_data.Select(d => new KeyValuePair<string, byte[]>(ApplicationKeys.Data(d.Key.App, d.Key.Data), d.Value.Encode())));
        records.AddRange(_approvals.Select(a => new KeyValuePair<string, byte[]>(ApplicationKeys.Approval(a.Key), a.Value.Select(i => (byte)i).ToArray())));
        records.AddRange(_applied.Select(a => new KeyValuePair<string, byte[]>(ApplicationKeys.Applied(a.Key), BigEndian(a.Value))));
        records.AddRange(_keys.Select(k => new KeyValuePair<string, byte[]>(ApplicationKeys.Key(k.Key.App, k.Key.Key), k.Value.Encode())));
        records.AddRange(_signApprovals.Select(a => new KeyValuePair<string, byte[]>(ApplicationKeys.SignApproval(a), [1])));
        records.AddRange(_certificates.Select(c => new KeyValuePair<string, byte[]>(ApplicationKeys.Certificate(c.Key.App, c.Key.Serial), CertificateUseValue(c.Value))));
        records.AddRange(_secretsByOrdinal.Select((s, o) => new KeyValuePair<string, byte[]>(ApplicationKeys.SecretOrdinal((ulong)o), Encoding.UTF8.GetBytes(s.App + "/" + s.Data))));
        records.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
        return records;
    }

    /// <summary>SHA-256 over every record (length-prefixed key and value, in key order): equal at two servers exactly when their states are.</summary>
    public byte[] Digest()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("proactive/application-state/v1"u8);
        foreach (var (key, value) in Records())
        {
            var keyBytes = Encoding.UTF8.GetBytes(key);
            hash.AppendData(BigEndian((ulong)keyBytes.Length));
            hash.AppendData(keyBytes);
            hash.AppendData(BigEndian((ulong)value.Length));
            hash.AppendData(value);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>Forgets applied-request ids older than the period before <paramref name="period"/>: requests that old are refused by their timestamps anyway.</summary>
    public void PruneApplied(ulong period, List<KeyValuePair<string, byte[]?>> writes)
    {
        foreach (var (id, applied) in _applied.Where(a => a.Value + 2 <= period).ToList())
        {
            _applied.Remove(id);
            writes.Add(new(ApplicationKeys.Applied(id), null));
        }
    }

    /// <summary>Loads a record from its durable key (restart); false for a key or value that is not one.</summary>
    public bool TryLoad(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.StartsWith(ApplicationKeys.ApplicationPrefix, StringComparison.Ordinal) && ApplicationRecord.TryDecode(value, out var app))
        {
            _applications[app.IdHex] = app;
            return true;
        }

        if (key.StartsWith(ApplicationKeys.DataPrefix, StringComparison.Ordinal) && DataRecord.TryDecode(value, out var data))
        {
            var appHex = key[ApplicationKeys.DataPrefix.Length..].Split('/')[0];
            _data[(appHex, data.Id)] = data;
            return true;
        }

        if (key.StartsWith(ApplicationKeys.AppliedPrefix, StringComparison.Ordinal) && value.Length == 8)
        {
            _applied[key[ApplicationKeys.AppliedPrefix.Length..]] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(value);
            return true;
        }

        if (key.StartsWith(ApplicationKeys.KeyPrefix, StringComparison.Ordinal) && KeyRecord.TryDecode(value, out var keyRecord))
        {
            var appHex = key[ApplicationKeys.KeyPrefix.Length..].Split('/')[0];
            _keys[(appHex, keyRecord.Id)] = keyRecord;
            while ((ulong)_keysByOrdinal.Count <= keyRecord.Ordinal)
            {
                _keysByOrdinal.Add((string.Empty, string.Empty));
            }

            _keysByOrdinal[(int)keyRecord.Ordinal] = (appHex, keyRecord.Id);
            return true;
        }

        if (key.StartsWith(ApplicationKeys.CertificatePrefix, StringComparison.Ordinal) && value.Length == 2
            && key[ApplicationKeys.CertificatePrefix.Length..].Split('/') is [var certifiedApp, var serial]
            && TryHex(certifiedApp, ApplicationRecord.IdLength, out _) && TryHex(serial, ApplicationCertificate.SerialLength, out _))
        {
            _certificates[(certifiedApp, serial)] = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(value);
            return true;
        }

        if (key.StartsWith(ApplicationKeys.SignApprovalPrefix, StringComparison.Ordinal))
        {
            _signApprovals.Add(key[ApplicationKeys.SignApprovalPrefix.Length..]);
            return true;
        }

        if (key.StartsWith(ApplicationKeys.SecretOrdinalPrefix, StringComparison.Ordinal)
            && ulong.TryParse(key[ApplicationKeys.SecretOrdinalPrefix.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal)
            && Encoding.UTF8.GetString(value).Split('/') is [var owner, var dataId])
        {
            while ((ulong)_secretsByOrdinal.Count <= ordinal)
            {
                _secretsByOrdinal.Add((string.Empty, string.Empty));
            }

            _secretsByOrdinal[(int)ordinal] = (owner, dataId);
            return true;
        }

        if (key.StartsWith(ApplicationKeys.ApprovalPrefix, StringComparison.Ordinal))
        {
            _approvals[key[ApplicationKeys.ApprovalPrefix.Length..]] = [.. value.Select(b => (int)b)];
            return true;
        }

        return false;
    }

    /// <summary>The id of a centralized application: its name and unique id hashed (so the same pair always names the same application).</summary>
    public static byte[] CentralizedId(string name, string uniqueId) => IdOf(CentralizedIdLabel, name, uniqueId);

    /// <summary>The id of a distributed application: its name hashed.</summary>
    public static byte[] DistributedId(string name) => IdOf(DistributedIdLabel, name, string.Empty);

    private static byte[] IdOf(byte[] label, string name, string unique)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(label);
        foreach (var part in new[] { name, unique })
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            hash.AppendData(BigEndian((ulong)bytes.Length));
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset()[..ApplicationRecord.IdLength];
    }

    private static Ed25519PublicKey? RegistrationKey(SignedRequest request)
    {
        try
        {
            using var body = JsonDocument.Parse(request.Body);
            return body.RootElement.ValueKind == JsonValueKind.Object
                && body.RootElement.TryGetProperty("publicKey", out var key) && key.ValueKind == JsonValueKind.String
                && TryHex(key.GetString(), ApplicationRecord.KeyLength, out var bytes)
                && Ed25519PublicKey.TryDecode(bytes, out var decoded) ? decoded : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private ApplyResult WithApplication(SignedRequest request, Func<(ApplicationRecord App, int Instance), ApplyResult> action)
    {
        if (!Handles.TryParse(request.Handle, out var appHex, out var instance) || !_applications.TryGetValue(appHex, out var app) || !app.Instances.ContainsKey(instance))
        {
            return ApplyResult.Refused(401, "unknown-handle", "No application instance has this handle.");
        }

        return action((app, instance));
    }

    private ApplyResult Register(SignedRequest request, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        using var body = JsonDocument.Parse(request.Body);
        var json = new RequestReader(body.RootElement, "publicKey", "name", "uniqueId", "password", "certificate", "instance", "maxEntries", "maxBytes");
        var publicKey = json.Hex("publicKey", ApplicationRecord.KeyLength);
        var name = json.Text("name", 1, ApplicationRecord.MaxNameLength);
        var uniqueId = json.OptionalText("uniqueId", 1, 256);
        var password = json.OptionalHex("password", 32);
        var certificate = json.OptionalVariableHex("certificate", ApplicationCertificate.MaxEncodedLength);
        var quota = new ApplicationQuota(
            Math.Min(json.OptionalNumber("maxEntries") ?? ApplicationQuota.Default.MaxEntries, ApplicationQuota.Default.MaxEntries),
            Math.Min(json.OptionalNumber("maxBytes") ?? ApplicationQuota.Default.MaxBytes, ApplicationQuota.Default.MaxBytes));
        if ((uniqueId is null ? 0 : 1) + (password is null ? 0 : 1) + (certificate is null ? 0 : 1) != 1)
        {
            throw new RequestShapeException("Give exactly one of 'uniqueId' (a centralized application), 'password' or 'certificate' (an instance of a distributed application).");
        }

        if (uniqueId is not null)
        {
            var id = CentralizedId(name, uniqueId);
            var hex = Convert.ToHexStringLower(id);
            if (_applications.ContainsKey(hex))
            {
                return ApplyResult.Refused(409, "already-registered", $"The application '{name}' with this unique id is registered already.");
            }

            if (_applications.Count >= MaxApplications)
            {
                return ApplyResult.Refused(507, "quota-exceeded", "The network holds as many applications as it accepts.");
            }

            var app = new ApplicationRecord(id, name, ApplicationKind.Centralized, null, quota, context.Period);
            app.Instances[0] = publicKey;
            _applications[hex] = app;
            writes.Add(new(ApplicationKeys.Application(hex), app.Encode()));
            return Registered(app, 0);
        }

        var instanceNumber = json.OptionalNumber("instance") ?? throw new RequestShapeException("'instance' (the server id 1..n the instance runs at) is required with 'password' or 'certificate'.");
        if (instanceNumber < 1 || instanceNumber > (ulong)context.ServerCount)
        {
            throw new RequestShapeException($"'instance' must be a server id from 1 to {context.ServerCount}.");
        }

        var instance = (int)instanceNumber;
        if (certificate is not null)
        {
            return RegisterByCertificate(request, context, writes, publicKey, name, instance, certificate, quota);
        }

        var check = SHA256.HashData(password!);
        var distributedId = DistributedId(name);
        var distributedHex = Convert.ToHexStringLower(distributedId);
        if (!_applications.TryGetValue(distributedHex, out var existing))
        {
            if (_applications.Count >= MaxApplications)
            {
                return ApplyResult.Refused(507, "quota-exceeded", "The network holds as many applications as it accepts.");
            }

            existing = new ApplicationRecord(distributedId, name, ApplicationKind.DistributedPassword, check, quota, context.Period);
            _applications[distributedHex] = existing;
        }
        else if (existing.Kind != ApplicationKind.DistributedPassword)
        {
            return ApplyResult.Refused(409, "wrong-registration-kind", $"The distributed application '{name}' registers its instances by certificate, not by password.");
        }
        else if (existing.PasswordCheck is null || !CryptographicOperations.FixedTimeEquals(existing.PasswordCheck, check))
        {
            return ApplyResult.Refused(403, "bad-password", $"The distributed application '{name}' is registered with another password.");
        }
        else if (existing.Instances.ContainsKey(instance))
        {
            return ApplyResult.Refused(409, "already-registered", $"Instance {instance} of '{name}' is registered already.");
        }

        existing.Instances[instance] = publicKey;
        writes.Add(new(ApplicationKeys.Application(distributedHex), existing.Encode()));
        return Registered(existing, instance);
    }

    /// <summary>
    /// Toolkit 5.1 option 2: instance i registers with its one-time certificate from the application's CA.
    /// The request itself is the proof of possession: it is signed with the key it registers (checked
    /// before the batch is accepted), which must be the certificate's subject key, over a fresh timestamp
    /// and nonce. The first certificate registration of a name creates the application and fixes its CA
    /// key; every later one must be issued by that key. A serial registers once.
    /// </summary>
    private ApplyResult RegisterByCertificate(
        SignedRequest request, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes, byte[] publicKey, string name, int instance, byte[] encoded, ApplicationQuota quota)
    {
        if (!ApplicationCertificate.TryDecode(encoded, out var certificate))
        {
            throw new RequestShapeException("'certificate' is not an application certificate (docs/API.md \"Registration by certificate\" gives its encoding).");
        }

        if (certificate.Network.ToString() != context.NetworkHex)
        {
            return ApplyResult.Refused(403, "certificate-mismatch", $"The certificate was issued for the network {certificate.Network}, not this one ({context.NetworkHex}).");
        }

        var mismatch = certificate.Name != name ? $"it certifies an instance of '{certificate.Name}', not of '{name}'"
            : !certificate.SubjectKey.SequenceEqual(publicKey) ? "it certifies another key than the one the request registers"
            : certificate.Instance != instance || certificate.ServerId != instance
                ? $"it is for instance {certificate.Instance} at server {certificate.ServerId}, and this request registers instance {instance} (instance i registers at server i)"
            : null;
        if (mismatch is not null)
        {
            return ApplyResult.Refused(403, "certificate-mismatch", $"The certificate does not fit the request: {mismatch}.");
        }

        if (!certificate.VerifySignature())
        {
            return ApplyResult.Refused(403, "bad-certificate", "The certificate's signature does not verify under its issuer key.");
        }

        if (request.Timestamp > certificate.NotAfter)
        {
            return ApplyResult.Refused(403, "certificate-expired", $"The certificate expired at {Iso(certificate.NotAfter)}, before the request was signed ({Iso(request.Timestamp)}).");
        }

        if (request.Timestamp < certificate.NotBefore)
        {
            return ApplyResult.Refused(403, "certificate-not-yet-valid", $"The certificate is valid from {Iso(certificate.NotBefore)}, after the request was signed ({Iso(request.Timestamp)}).");
        }

        var id = DistributedId(name);
        var hex = Convert.ToHexStringLower(id);
        var issuer = certificate.IssuerKey.ToArray();
        var serial = Convert.ToHexStringLower(certificate.Serial);
        if (_applications.TryGetValue(hex, out var existing))
        {
            if (existing.Kind != ApplicationKind.DistributedCertificate)
            {
                return ApplyResult.Refused(409, "wrong-registration-kind", $"The distributed application '{name}' registers its instances by password, not by certificate.");
            }

            var authority = existing.CertificateAuthority!;
            if (!authority.AsSpan().SequenceEqual(issuer))
            {
                return ApplyResult.Refused(403, "wrong-certificate-authority", $"The application '{name}' was created with another Certificate Authority's key ({Convert.ToHexStringLower(authority)}).");
            }

            if (_certificates.TryGetValue((hex, serial), out var used))
            {
                return ApplyResult.Refused(409, "certificate-used", $"The certificate with serial {serial} registered instance {used} already; a certificate registers once.");
            }

            if (existing.Instances.ContainsKey(instance))
            {
                return ApplyResult.Refused(409, "already-registered", $"Instance {instance} of '{name}' is registered already.");
            }
        }
        else
        {
            if (_applications.Count >= MaxApplications)
            {
                return ApplyResult.Refused(507, "quota-exceeded", "The network holds as many applications as it accepts.");
            }

            existing = new ApplicationRecord(id, name, ApplicationKind.DistributedCertificate, issuer, quota, context.Period);
            _applications[hex] = existing;
        }

        existing.Instances[instance] = publicKey;
        _certificates[(hex, serial)] = instance;
        writes.Add(new(ApplicationKeys.Application(hex), existing.Encode()));
        writes.Add(new(ApplicationKeys.Certificate(hex, serial), CertificateUseValue(instance)));
        return Registered(existing, instance);
    }

    private static byte[] CertificateUseValue(int instance)
    {
        var bytes = new byte[2];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)instance);
        return bytes;
    }

    private static string Iso(ulong unixMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(unixMilliseconds, (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())).ToString("O", CultureInfo.InvariantCulture);

    private static ApplyResult Registered(ApplicationRecord app, int instance) => new(201, null, "registered", Json(w =>
    {
        w.WriteString("handle", app.HandleOf(instance));
        w.WriteString("applicationId", app.IdHex);
        w.WriteString("name", app.Name);
        w.WriteNumber("instance", instance);
        w.WriteString("kind", app.Kind == ApplicationKind.Centralized ? "centralized" : "distributed");
        w.WriteStartObject("quota");
        w.WriteNumber("maxEntries", app.Quota.MaxEntries);
        w.WriteNumber("maxBytes", app.Quota.MaxBytes);
        w.WriteEndObject();
        w.WriteNumber("registeredPeriod", app.RegisteredPeriod);
    }));

    private ApplyResult Store((ApplicationRecord App, int Instance) caller, SignedRequest request, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        using var body = JsonDocument.Parse(request.Body);
        var json = new RequestReader(body.RootElement, "id", "type", "value", "until", "dealing", "shares", "sharesPeriod");
        var id = DataId(json.Text("id", 1, DataRecord.MaxIdLength));
        var type = DataTypes.Parse(json.Text("type", 1, 40));
        var value = json.Base64("value", DataRecord.MaxValueLength);
        var until = json.OptionalNumber("until") ?? 0;
        var dealing = json.OptionalHex("dealing", DataRecord.DealingLength);
        var app = caller.App;
        var secret = type is DataType.SecretSingle or DataType.SecretDistributedReader or DataType.SecretDistributed;
        if (secret != dealing is not null)
        {
            throw new RequestShapeException(secret
                ? "A secret needs 'dealing': the id of its data key's dealing (shares in 'shares', or handed over before with PUT /v1/dealings/{dealing})."
                : "'dealing' belongs to secrets only.");
        }

        var shares = CarriedShares(json, dealing, context);

        if (until != 0 && type is not (DataType.SecretDistributedReader or DataType.SecretDistributed))
        {
            throw new RequestShapeException("'until' (StoreUntil) applies to secret-distributed-reader and secret-distributed data.");
        }

        if (_data.ContainsKey((app.IdHex, id)))
        {
            return ApplyResult.Refused(409, "already-exists", $"'{id}' is stored already; write it (read/write types) or pick another id.");
        }

        // Table 4: write-once data is stored at the request of one instance, read/write data at a quorum's.
        if (DataRecord.IsReadWrite(type) && !ApproveQuorum(app, caller.Instance, request, context.ServerCount, writes, out var approvals))
        {
            return Pending(id, approvals, app.Quorum(context.ServerCount));
        }

        if (app.UsedEntries + 1 > app.Quota.MaxEntries || app.UsedBytes + (ulong)value.Length > app.Quota.MaxBytes)
        {
            return ApplyResult.Refused(403, "quota-exceeded", $"Storing '{id}' would exceed the application's quota ({app.Quota.MaxEntries} entries, {app.Quota.MaxBytes} bytes).");
        }

        if (shares is { Period: var sealedFor } && sealedFor != context.Period)
        {
            return StaleShares(sealedFor, context);
        }

        var record = secret
            ? new DataRecord(id, type, value, 1, until, context.Period, dealing, NextOrdinal(app.IdHex, id, writes))
            : new DataRecord(id, type, value, 1, until, context.Period);
        _data[(app.IdHex, id)] = record;
        app.UsedEntries++;
        app.UsedBytes += (ulong)value.Length;
        writes.Add(new(ApplicationKeys.Data(app.IdHex, id), record.Encode()));
        writes.Add(new(ApplicationKeys.Application(app.IdHex), app.Encode()));
        return new ApplyResult(201, null, "stored", Json(w => DescribeData(w, record))) { Dealt = shares is null ? null : shares with { ApplicationIdHex = app.IdHex, Handle = request.Handle } };
    }

    /// <summary>
    /// The shares a secret's request carries ("shares": one base64 HPKE message per server, in server order,
    /// sealed to the keys of period "sharesPeriod"), or null when it carries none (dealt before by
    /// PUT /v1/dealings).
    /// </summary>
    private static DealtShares? CarriedShares(RequestReader json, byte[]? dealing, LedgerContext context)
    {
        var period = json.OptionalNumber("sharesPeriod");
        if (!json.Has("shares"))
        {
            return period is null ? null : throw new RequestShapeException("'sharesPeriod' belongs with 'shares'.");
        }

        if (dealing is null || period is null)
        {
            throw new RequestShapeException("'shares' belong to a secret's request, with its 'dealing' and 'sharesPeriod'.");
        }

        var sealedShares = json.Base64List("shares", context.ServerCount, DealtShares.MaxSealedLength);
        if (sealedShares.Count != context.ServerCount || sealedShares.Any(s => s.Length == 0))
        {
            throw new RequestShapeException($"'shares' must hold one sealed share for each of the {context.ServerCount} servers, in server order.");
        }

        return new DealtShares(string.Empty, string.Empty, dealing, period.Value, sealedShares);
    }

    private static ApplyResult StaleShares(ulong sealedFor, LedgerContext context) => ApplyResult.Refused(409, "stale-period",
        $"The shares are sealed to the servers' keys of period {sealedFor}, but the request was agreed in the ledger of period {context.Period}: seal them to the keys of period {context.Period} and send it again.");

    /// <summary>Most entries one batch store takes.</summary>
    public const int MaxBatchEntries = 4096;

    /// <summary>
    /// Many write-once entries at once (bulk import: one agreed request instead of thousands): all are
    /// stored or none (a taken or repeated id, a bad entry or the quota refuses the whole batch).
    /// </summary>
    private ApplyResult StoreBatch((ApplicationRecord App, int Instance) caller, SignedRequest request, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        using var body = JsonDocument.Parse(request.Body);

        // Refuses members other than 'entries' (the reader checks on construction).
        _ = new RequestReader(body.RootElement, "entries");
        if (!body.RootElement.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new RequestShapeException("'entries' (an array of { id, type, value, dealing?, until? }) is required.");
        }

        var count = entries.GetArrayLength();
        if (count is 0 or > MaxBatchEntries)
        {
            throw new RequestShapeException($"'entries' holds 1 to {MaxBatchEntries} entries.");
        }

        var app = caller.App;
        var parsed = new List<(string Id, DataType Type, byte[] Value, ulong Until, byte[]? Dealing)>(count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        ulong bytes = 0;
        var index = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var json = new RequestReader(entry, "id", "type", "value", "until", "dealing");
            var id = DataId(json.Text("id", 1, DataRecord.MaxIdLength));
            var type = DataTypes.Parse(json.Text("type", 1, 40));
            var value = json.Base64("value", DataRecord.MaxValueLength);
            var until = json.OptionalNumber("until") ?? 0;
            var dealing = json.OptionalHex("dealing", DataRecord.DealingLength);
            var secret = type is DataType.SecretSingle or DataType.SecretDistributedReader or DataType.SecretDistributed;
            if (DataRecord.IsReadWrite(type))
            {
                throw new RequestShapeException($"entry {index}: a batch stores write-once data only (read/write data needs each write agreed by a quorum).");
            }

            if (secret != dealing is not null || (until != 0 && type != DataType.SecretDistributedReader))
            {
                throw new RequestShapeException($"entry {index}: a secret needs 'dealing' (and only secrets have one); 'until' applies to secret-distributed-reader data.");
            }

            if (!ids.Add(id) || _data.ContainsKey((app.IdHex, id)))
            {
                return ApplyResult.Refused(409, "already-exists", $"entry {index}: '{id}' is stored already or repeated in the batch; nothing was stored.");
            }

            bytes += (ulong)value.Length;
            parsed.Add((id, type, value, until, dealing));
            index++;
        }

        if (app.UsedEntries + (ulong)count > app.Quota.MaxEntries || app.UsedBytes + bytes > app.Quota.MaxBytes)
        {
            return ApplyResult.Refused(403, "quota-exceeded", $"Storing {count} entries would exceed the application's quota ({app.Quota.MaxEntries} entries, {app.Quota.MaxBytes} bytes); nothing was stored.");
        }

        var stored = new List<DataRecord>(count);
        foreach (var (id, type, value, until, dealing) in parsed)
        {
            var record = dealing is not null
                ? new DataRecord(id, type, value, 1, until, context.Period, dealing, NextOrdinal(app.IdHex, id, writes))
                : new DataRecord(id, type, value, 1, until, context.Period);
            _data[(app.IdHex, id)] = record;
            writes.Add(new(ApplicationKeys.Data(app.IdHex, id), record.Encode()));
            stored.Add(record);
        }

        app.UsedEntries += (ulong)count;
        app.UsedBytes += bytes;
        writes.Add(new(ApplicationKeys.Application(app.IdHex), app.Encode()));
        return new ApplyResult(201, null, "stored", Json(w =>
        {
            w.WriteNumber("stored", count);
            w.WriteStartArray("entries");
            foreach (var record in stored)
            {
                w.WriteStartObject();
                DescribeData(w, record);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }));
    }

    private ApplyResult Write((ApplicationRecord App, int Instance) caller, SignedRequest request, string escapedId, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        var id = DataId(Uri.UnescapeDataString(escapedId));
        using var body = JsonDocument.Parse(request.Body);
        var json = new RequestReader(body.RootElement, "value", "version", "dealing", "shares", "sharesPeriod");
        var value = json.Base64("value", DataRecord.MaxValueLength);
        var expected = json.OptionalNumber("version") ?? throw new RequestShapeException("'version' (the version this write replaces) is required.");
        var dealing = json.OptionalHex("dealing", DataRecord.DealingLength);
        var shares = CarriedShares(json, dealing, context);
        var app = caller.App;
        if (!_data.TryGetValue((app.IdHex, id), out var current))
        {
            return ApplyResult.Refused(404, "unknown-data", $"No entry '{id}'.");
        }

        if (current.Type is not (DataType.PublicReadWrite or DataType.SecretDistributed))
        {
            return ApplyResult.Refused(409, "write-once", $"'{id}' is {DataTypes.Name(current.Type)}: it cannot be changed.");
        }

        if (current.Version != expected)
        {
            return ApplyResult.Refused(409, "version-mismatch", $"'{id}' is at version {current.Version}, not {expected}.");
        }

        if (!ApproveQuorum(app, caller.Instance, request, context.ServerCount, writes, out var approvals))
        {
            return Pending(id, approvals, app.Quorum(context.ServerCount));
        }

        var grown = (ulong)Math.Max(0, value.Length - current.Value.Length);
        if (app.UsedBytes + grown > app.Quota.MaxBytes)
        {
            return ApplyResult.Refused(403, "quota-exceeded", $"Writing '{id}' would exceed the application's quota of {app.Quota.MaxBytes} bytes.");
        }

        if (current.IsSecret != dealing is not null)
        {
            return ApplyResult.Refused(400, "invalid-request", current.IsSecret ? "A secret's new value needs the 'dealing' of its new data key." : "'dealing' belongs to secrets only.");
        }

        if (shares is { Period: var sealedFor } && sealedFor != context.Period)
        {
            return StaleShares(sealedFor, context);
        }

        // A secret's new value has a new data key, a new secret of its own; the old one is kept by no one.
        var record = current.IsSecret
            ? new DataRecord(id, current.Type, value, current.Version + 1, current.NotBefore, context.Period, dealing, NextOrdinal(app.IdHex, id, writes))
            : new DataRecord(id, current.Type, value, current.Version + 1, current.NotBefore, current.StoredPeriod);
        _data[(app.IdHex, id)] = record;
        app.UsedBytes = app.UsedBytes - (ulong)current.Value.Length + (ulong)value.Length;
        writes.Add(new(ApplicationKeys.Data(app.IdHex, id), record.Encode()));
        writes.Add(new(ApplicationKeys.Application(app.IdHex), app.Encode()));
        return new ApplyResult(200, null, "written", Json(w => DescribeData(w, record))) { Dealt = shares is null ? null : shares with { ApplicationIdHex = app.IdHex, Handle = request.Handle } };
    }

    /// <summary>
    /// Toolkit Table 4: a distributed-reader secret is reconstructed only when a quorum of instances asks;
    /// once they have, every server hands its share to the application's instances.
    /// </summary>
    private ApplyResult Release((ApplicationRecord App, int Instance) caller, SignedRequest request, string escapedId, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        var id = DataId(Uri.UnescapeDataString(escapedId));
        using var body = JsonDocument.Parse(request.Body.Length == 0 ? "{}"u8.ToArray() : request.Body.ToArray());
        var json = new RequestReader(body.RootElement, "version");
        var version = json.OptionalNumber("version") ?? throw new RequestShapeException("'version' (the version to release) is required.");
        var app = caller.App;
        if (!_data.TryGetValue((app.IdHex, id), out var current))
        {
            return ApplyResult.Refused(404, "unknown-data", $"No entry '{id}'.");
        }

        if (current.Type is not (DataType.SecretDistributedReader or DataType.SecretDistributed))
        {
            return ApplyResult.Refused(409, "not-distributed-reader", $"'{id}' is {DataTypes.Name(current.Type)}: only distributed-reader secrets are released by a quorum.");
        }

        if (current.Version != version)
        {
            return ApplyResult.Refused(409, "version-mismatch", $"'{id}' is at version {current.Version}, not {version}.");
        }

        if (!ApproveQuorum(app, caller.Instance, request, context.ServerCount, writes, out var approvals))
        {
            return Pending(id, approvals, app.Quorum(context.ServerCount));
        }

        var record = new DataRecord(id, current.Type, current.Value, current.Version, current.NotBefore, current.StoredPeriod, current.Dealing, current.Ordinal, released: true);
        _data[(app.IdHex, id)] = record;
        writes.Add(new(ApplicationKeys.Data(app.IdHex, id), record.Encode()));
        return new ApplyResult(200, null, "released", Json(w => DescribeData(w, record)));
    }

    /// <summary>GenerateKey: a new threshold signing key owned by the application, generated by a DKG every server starts when this applies.</summary>
    private ApplyResult GenerateKey((ApplicationRecord App, int Instance) caller, SignedRequest request, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes, bool jointSecret)
    {
        using var body = JsonDocument.Parse(request.Body);
        var json = new RequestReader(body.RootElement, "id");
        var id = DataId(json.Text("id", 1, DataRecord.MaxIdLength));
        var app = caller.App;
        if (_keys.ContainsKey((app.IdHex, id)))
        {
            return ApplyResult.Refused(409, "already-exists", $"The key '{id}' exists already.");
        }

        if (_keysByOrdinal.Count >= KeyRecord.MaxKeys)
        {
            return ApplyResult.Refused(507, "quota-exceeded", $"The network holds {KeyRecord.MaxKeys} application keys, as many as it refreshes.");
        }

        if (!ApproveQuorum(app, caller.Instance, request, context.ServerCount, writes, out var approvals))
        {
            return Pending(id, approvals, app.Quorum(context.ServerCount));
        }

        if (app.UsedEntries + 1 > app.Quota.MaxEntries)
        {
            return ApplyResult.Refused(403, "quota-exceeded", $"A new key would exceed the application's quota of {app.Quota.MaxEntries} entries.");
        }

        var record = new KeyRecord(id, (ulong)_keysByOrdinal.Count, context.Period, jointSecret);
        _keys[(app.IdHex, id)] = record;
        _keysByOrdinal.Add((app.IdHex, id));
        app.UsedEntries++;
        writes.Add(new(ApplicationKeys.Key(app.IdHex, id), record.Encode()));
        writes.Add(new(ApplicationKeys.Application(app.IdHex), app.Encode()));
        return new ApplyResult(202, null, "generating", Json(w =>
        {
            w.WriteString("id", id);
            w.WriteNumber("ordinal", record.Ordinal);
            w.WriteString("status", "generating");
        }));
    }

    /// <summary>A distributed application's instances approve signing one message with one key (a quorum of them must).</summary>
    private ApplyResult ApproveSigning((ApplicationRecord App, int Instance) caller, SignedRequest request, string escapedId, LedgerContext context, List<KeyValuePair<string, byte[]?>> writes)
    {
        var id = DataId(Uri.UnescapeDataString(escapedId));
        using var body = JsonDocument.Parse(request.Body);
        var json = new RequestReader(body.RootElement, "message");
        var message = json.Base64("message", KeyRecord.MaxMessageLength);
        var app = caller.App;
        if (!_keys.ContainsKey((app.IdHex, id)))
        {
            return ApplyResult.Refused(404, "unknown-key", $"No key '{id}'.");
        }

        if (!ApproveQuorum(app, caller.Instance, request, context.ServerCount, writes, out var approvals))
        {
            return Pending(id, approvals, app.Quorum(context.ServerCount));
        }

        var key = SignApprovalKey(app.IdHex, id, message);
        _signApprovals.Add(key);
        writes.Add(new(ApplicationKeys.SignApproval(key), [1]));
        return new ApplyResult(200, null, "approved", Json(w =>
        {
            w.WriteString("id", id);
            w.WriteString("status", "approved");
        }));
    }

    private static string SignApprovalKey(string appHex, string keyId, ReadOnlySpan<byte> message) =>
        appHex + "/" + keyId + "/" + Convert.ToHexStringLower(SHA256.HashData(message));

    private ulong NextOrdinal(string appHex, string id, List<KeyValuePair<string, byte[]?>> writes)
    {
        var ordinal = (ulong)_secretsByOrdinal.Count;
        _secretsByOrdinal.Add((appHex, id));
        writes.Add(new(ApplicationKeys.SecretOrdinal(ordinal), System.Text.Encoding.UTF8.GetBytes(appHex + "/" + id)));
        return ordinal;
    }

    /// <summary>
    /// Records that <paramref name="instance"/> asks for the operation (method, path and body, so every
    /// instance must ask for exactly the same thing) and says whether a quorum has now asked; the
    /// approvals are forgotten once it has.
    /// </summary>
    private bool ApproveQuorum(ApplicationRecord app, int instance, SignedRequest request, int serverCount, List<KeyValuePair<string, byte[]?>> writes, out int approvals)
    {
        var needed = app.Quorum(serverCount);
        if (needed <= 1)
        {
            approvals = 1;
            return true;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(QuorumLabel);
        hash.AppendData(Encoding.UTF8.GetBytes(request.Method + "\n" + request.PathAndQuery + "\n"));
        hash.AppendData(request.Body.Span);
        var key = app.IdHex + "/" + Convert.ToHexStringLower(hash.GetHashAndReset());
        var set = _approvals.TryGetValue(key, out var existing) ? existing : _approvals[key] = [];
        set.Add(instance);
        approvals = set.Count;
        if (set.Count >= needed)
        {
            _approvals.Remove(key);
            writes.Add(new(ApplicationKeys.Approval(key), null));
            return true;
        }

        writes.Add(new(ApplicationKeys.Approval(key), [.. set.Select(i => (byte)i)]));
        return false;
    }

    private static ApplyResult Pending(string id, int approvals, int needed) => new(202, null, "waiting for the other instances", Json(w =>
    {
        w.WriteString("id", id);
        w.WriteString("status", "pending");
        w.WriteNumber("approvals", approvals);
        w.WriteNumber("needed", needed);
    }));

    /// <summary>The JSON description of a stored entry (the value itself only for public data).</summary>
    public static void DescribeData(Utf8JsonWriter writer, DataRecord record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        writer.WriteString("id", record.Id);
        writer.WriteString("type", DataTypes.Name(record.Type));
        writer.WriteNumber("version", record.Version);
        writer.WriteNumber("storedPeriod", record.StoredPeriod);
        if (record.IsSecret)
        {
            writer.WriteString("dealing", Convert.ToHexStringLower(record.Dealing));
            writer.WriteNumber("ordinal", record.Ordinal);
            writer.WriteBoolean("released", record.Released || record.Type == DataType.SecretSingle);
        }

        if (record.NotBefore != 0)
        {
            writer.WriteString("until", DateTimeOffset.FromUnixTimeMilliseconds((long)record.NotBefore).ToString("O", CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNull("until");
        }
    }

    private static string DataId(string id)
    {
        if (!id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') || id.Length > DataRecord.MaxIdLength)
        {
            throw new RequestShapeException("A data id is 1 to 128 characters of letters, digits, '.', '_' and '-'.");
        }

        return id;
    }

    /// <summary>One JSON object written by <paramref name="write"/> (the answers' bodies).</summary>
    public static byte[] Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] BigEndian(ulong value)
    {
        var bytes = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    internal static bool TryHex(string? text, int length, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length != 2 * length || !text.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
        {
            return false;
        }

        bytes = Convert.FromHexString(text);
        return true;
    }
}

/// <summary>The durable keys of the application state (all public: the same at every honest server).</summary>
public static class ApplicationKeys
{
    /// <summary>Everything under this prefix is application state.</summary>
    public const string Prefix = "app/public/";

    public const string ApplicationPrefix = Prefix + "application/";

    public const string DataPrefix = Prefix + "data/";

    public const string AppliedPrefix = Prefix + "applied/";

    public const string ApprovalPrefix = Prefix + "approval/";

    public static string Application(string idHex) => ApplicationPrefix + idHex;

    public static string Data(string appIdHex, string dataId) => DataPrefix + appIdHex + "/" + dataId;

    public static string Applied(string requestIdHex) => AppliedPrefix + requestIdHex;

    public static string Approval(string key) => ApprovalPrefix + key;

    public const string SecretOrdinalPrefix = Prefix + "secret/";

    public const string KeyPrefix = Prefix + "key/";

    public const string SignApprovalPrefix = Prefix + "sign-approval/";

    public static string Key(string appIdHex, string keyId) => KeyPrefix + appIdHex + "/" + keyId;

    public static string SignApproval(string key) => SignApprovalPrefix + key;

    /// <summary>Certificates that registered an instance (one-time: a serial is refused once here): the value is the u16 instance.</summary>
    public const string CertificatePrefix = Prefix + "certificate/";

    public static string Certificate(string appIdHex, string serialHex) => CertificatePrefix + appIdHex + "/" + serialHex;

    /// <summary>The secret with this ordinal: "appHex/dataId" (a secret overwritten keeps its ordinal's entry, pointing at the newer record).</summary>
    public static string SecretOrdinal(ulong ordinal) => SecretOrdinalPrefix + ordinal.ToString("d12", CultureInfo.InvariantCulture);
}

/// <summary>The data types' names on the API.</summary>
public static class DataTypes
{
    private static readonly Dictionary<string, DataType> ByName = new(StringComparer.Ordinal)
    {
        ["public-write-once"] = DataType.PublicWriteOnce,
        ["public-read-write"] = DataType.PublicReadWrite,
        ["secret-single"] = DataType.SecretSingle,
        ["secret-distributed-reader"] = DataType.SecretDistributedReader,
        ["secret-distributed"] = DataType.SecretDistributed,
    };

    /// <summary>Every name.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static string Name(DataType type) => ByName.First(p => p.Value == type).Key;

    internal static DataType Parse(string name) =>
        ByName.TryGetValue(name, out var type) ? type : throw new RequestShapeException($"'type' must be one of {string.Join(", ", ByName.Keys)} (got '{name}').");
}

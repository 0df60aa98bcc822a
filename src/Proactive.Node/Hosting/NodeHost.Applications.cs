// References: docs/BRIEF.md section 1 (invariant 6: nothing acknowledged to a client is ever lost) and
// section 5 (the application API); docs/PROTOCOLS.md "Application ledger"; docs/API.md "Applications".
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Hpke;
using Proactive.Node.Api;
using Proactive.Protocols.Application;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Hosting;

/// <summary>
/// The node's side of the application API: it hands clients' signed requests to the controller's ledger
/// and answers each once the batch holding it is decided and its writes are durable here; it keeps the
/// directory of registered instances the API authenticates reads with.
/// </summary>
public sealed partial class NodeHost : IApplicationGateway, IApplicationDirectory
{
    /// <summary>How long a request waits for its batch before the client is told to check again.</summary>
    public static readonly TimeSpan MaxAgreementWait = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, List<TaskCompletionSource<ApplyResult>>> _ledgerWaiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ApplicationInstance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<InstanceId, (TaskCompletionSource<ApplyResult> Waiter, SignedRequest Request)> _signingWaiters = [];
    private readonly Dictionary<ulong, List<TaskCompletionSource<byte[]?>>> _keyWaiters = [];
    private readonly Dictionary<string, Queue<LinkMessageArrived>> _linkInboxes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _linkSeen = new(StringComparer.Ordinal);
    private readonly Queue<string> _linkSeenOrder = new();
    private long _linkInboxBytes;

    /// <summary>Most bytes of link messages waiting here for all instances; beyond it the oldest of the fullest inbox go.</summary>
    public const long MaxLinkInboxBytes = 64L * 1024 * 1024;

    /// <summary>Most messages waiting for one instance.</summary>
    public const int MaxLinkInboxMessages = 4096;

    /// <inheritdoc/>
    public string NetworkHex => _config.NetworkId.ToString();

    // Written on the loop after every applied request, read by API threads.
    private volatile int _nextLedgerProposer;

    /// <inheritdoc/>
    public int NextLedgerProposer => _nextLedgerProposer;

    /// <inheritdoc/>
    public bool TryGetInstance(string handle, [NotNullWhen(true)] out ApplicationInstance? instance) => _instances.TryGetValue(handle, out instance);

    /// <inheritdoc/>
    public async Task<ApplyResult> SubmitAsync(SignedRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var waiter = await OnLoopAsync(() => Submit(request), cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MaxAgreementWait);
        try
        {
            return await waiter.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NodeUnavailableException("not-agreed-yet", $"The network has not agreed on the request within {MaxAgreementWait.TotalSeconds:0} s; it stays pending and will be applied once agreed (a new request for the same operation is refused if this one got through).");
        }
    }

    /// <inheritdoc/>
    public Task<ApplyResult> ReadDataAsync(ApplicationInstance instance, string dataId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var state = ServingState();
                if (state.Data(Convert.ToHexStringLower(instance.ApplicationId), dataId) is not { } record)
                {
                    return ApplyResult.Refused(404, "unknown-data", $"No entry '{dataId}'.");
                }

                return new ApplyResult(200, null, "read", ApplicationState.Json(w =>
                {
                    ApplicationState.DescribeData(w, record);
                    w.WriteBase64String("value", record.Value);
                }));
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> DescribeApplicationAsync(ApplicationInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var state = ServingState();
                if (state.Application(Convert.ToHexStringLower(instance.ApplicationId)) is not { } app)
                {
                    return ApplyResult.Refused(401, "unknown-handle", "No application instance has this handle.");
                }

                return new ApplyResult(200, null, "described", ApplicationState.Json(w =>
                {
                    w.WriteString("applicationId", app.IdHex);
                    w.WriteString("name", app.Name);
                    w.WriteString("kind", app.Kind == ApplicationKind.Centralized ? "centralized" : "distributed");
                    w.WriteString("registeredBy", app.Kind switch
                    {
                        ApplicationKind.DistributedPassword => "password",
                        ApplicationKind.DistributedCertificate => "certificate",
                        _ => "unique-id",
                    });
                    w.WriteNumber("instance", instance.Instance);
                    w.WriteStartArray("instances");
                    foreach (var registered in app.Instances.Keys)
                    {
                        w.WriteNumberValue(registered);
                    }

                    w.WriteEndArray();
                    w.WriteNumber("quorum", app.Quorum(_config.Parameters.ServerCount));
                    w.WriteStartObject("quota");
                    w.WriteNumber("maxEntries", app.Quota.MaxEntries);
                    w.WriteNumber("maxBytes", app.Quota.MaxBytes);
                    w.WriteNumber("usedEntries", app.UsedEntries);
                    w.WriteNumber("usedBytes", app.UsedBytes);
                    w.WriteEndObject();
                    w.WriteNumber("registeredPeriod", app.RegisteredPeriod);
                }));
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> AcceptDealtShareAsync(ApplicationInstance instance, byte[] dealing, ulong period, byte[] sealedShare, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var (refused, plain) = OpenDealt(period, sealedShare, DataKeySharing.DealtShareInfo(NetworkHex, instance.Handle, dealing));
                if (refused is not null)
                {
                    return refused;
                }

                var group = _config.Suite.Group;

                try
                {
                    if (!group.TryDecodeScalar(plain, out var share))
                    {
                        return ApplyResult.Refused(400, "bad-share", $"The share is not a canonical {group.Name} scalar.");
                    }

                    Apply(Controller.AcceptDealtShare(Convert.ToHexStringLower(instance.ApplicationId), dealing, share, out var accepted));
                    return accepted
                        ? new ApplyResult(201, null, "kept", ApplicationState.Json(w =>
                        {
                            w.WriteString("dealing", Convert.ToHexStringLower(dealing));
                            w.WriteNumber("server", Self);
                        }))
                        : ApplyResult.Refused(507, "quota-exceeded", "This server holds as many dealt shares as it takes; store the secrets already dealt first.");
                }
                finally
                {
                    System.Security.Cryptography.CryptographicOperations.ZeroMemory(plain);
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// On the loop: opens what a client sealed to this server's encryption key of <paramref name="period"/>
    /// (the caller wipes the plaintext), or the refusal: not serving, no key of that period any more, or a
    /// message that does not open.
    /// </summary>
    private (ApplyResult? Refused, byte[] Plain) OpenDealt(ulong period, byte[] sealedMessage, byte[] info)
    {
        ServingState();
        if (Controller.PeriodKeysOf(period) is not { } keys)
        {
            return (ApplyResult.Refused(409, "stale-period", $"This server holds no key of period {period} (it is in period {Controller.CurrentPeriod}); fetch the dealing key again."), []);
        }

        if (!HpkeSealedMessage.TryDecode(sealedMessage, out var message)
            || !HpkeBaseMode.TryOpen(HpkeSuite.X25519Sha256ChaCha20Poly1305, keys.Encryption, info, [], message, out var plain))
        {
            return (ApplyResult.Refused(400, "bad-share", "The sealed share(s) do not open with this server's key of that period (sealed to another key, or altered)."), []);
        }

        return (null, plain);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> AcceptDealtSharesAsync(ApplicationInstance instance, ulong period, byte[] sealedShares, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var (refused, plain) = OpenDealt(period, sealedShares, DataKeySharing.DealtSharesInfo(NetworkHex, instance.Handle));
                if (refused is not null)
                {
                    return refused;
                }

                var group = _config.Suite.Group;
                var entry = DataRecord.DealingLength + group.ScalarLength;

                try
                {
                    if (plain.Length == 0 || plain.Length % entry != 0 || plain.Length / entry > DataKeySharing.MaxSharesPerBulk)
                    {
                        return ApplyResult.Refused(400, "bad-share", $"The plaintext is 1 to {DataKeySharing.MaxSharesPerBulk} entries of a 16-byte dealing id and a scalar.");
                    }

                    var parsed = new List<(byte[] Dealing, Crypto.Groups.Scalar Share)>(plain.Length / entry);
                    for (var offset = 0; offset < plain.Length; offset += entry)
                    {
                        if (!group.TryDecodeScalar(plain.AsSpan(offset + DataRecord.DealingLength, group.ScalarLength), out var share))
                        {
                            return ApplyResult.Refused(400, "bad-share", $"Entry {offset / entry} is not a canonical {group.Name} scalar; nothing was kept.");
                        }

                        parsed.Add((plain.AsSpan(offset, DataRecord.DealingLength).ToArray(), share));
                    }

                    Apply(Controller.AcceptDealtShares(Convert.ToHexStringLower(instance.ApplicationId), parsed, out var accepted));
                    return accepted
                        ? new ApplyResult(201, null, "kept", ApplicationState.Json(w =>
                        {
                            w.WriteNumber("kept", parsed.Count);
                            w.WriteNumber("server", Self);
                        }))
                        : ApplyResult.Refused(507, "quota-exceeded", "This server holds as many dealt shares as it takes; store the secrets already dealt first.");
                }
                finally
                {
                    System.Security.Cryptography.CryptographicOperations.ZeroMemory(plain);
                }
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> ReadShareAsync(ApplicationInstance instance, string dataId, byte[] recipient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var state = ServingState();
                var appHex = Convert.ToHexStringLower(instance.ApplicationId);
                if (state.Data(appHex, dataId) is not { } record)
                {
                    return ApplyResult.Refused(404, "unknown-data", $"No entry '{dataId}'.");
                }

                if (!record.IsSecret)
                {
                    return ApplyResult.Refused(409, "not-secret", $"'{dataId}' is public: read it with GET /v1/data/{dataId}.");
                }

                if (record.Type != DataType.SecretSingle && !record.Released)
                {
                    return ApplyResult.Refused(403, "quorum-required", $"'{dataId}' is {DataTypes.Name(record.Type)}: a quorum of the application's instances must ask for its release first (POST /v1/data/{dataId}/release).");
                }

                // StoreUntil: by this server's own clock, whatever the others say.
                var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                if (record.NotBefore > now)
                {
                    return ApplyResult.Refused(403, "not-yet", $"'{dataId}' is kept secret until {DateTimeOffset.FromUnixTimeMilliseconds((long)record.NotBefore):O}.");
                }

                if (!HpkePublicKey.TryDecode(recipient, out var to))
                {
                    return ApplyResult.Refused(400, "invalid-request", "'to' must be an X25519 public key (64 hex digits).");
                }

                if (!Controller.TryGetSecretShare(appHex, record, out var share, out var sharing))
                {
                    return ApplyResult.Refused(404, "share-missing", $"This server holds no share of '{dataId}' (the client did not deal it one, or it was lost): ask the other servers.");
                }

                var group = _config.Suite.Group;
                var encoded = new byte[group.ScalarLength];
                group.EncodeScalar(share, encoded);
                try
                {
                    var sealedShare = HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, to, DataKeySharing.ReleasedShareInfo(NetworkHex, instance.Handle, dataId, Self, sharing), [], encoded, _random);
                    return new ApplyResult(200, null, "share", ApplicationState.Json(w =>
                    {
                        ApplicationState.DescribeData(w, record);
                        w.WriteNumber("server", Self);
                        w.WriteString("sharing", sharing);
                        w.WriteBase64String("ciphertext", record.Value);
                        w.WriteBase64String("share", sealedShare.Encode());
                    }));
                }
                finally
                {
                    System.Security.Cryptography.CryptographicOperations.ZeroMemory(encoded);
                }
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> DealingKeyAsync(CancellationToken cancellationToken) =>
        OnLoopAsync(
            () =>
            {
                ServingState();
                var period = Controller.CurrentPeriod;
                if (Controller.PeriodKeysOf(period) is not { } keys)
                {
                    throw new NodeUnavailableException("not-operational", $"This server holds no key of its period {period} yet.");
                }

                return new ApplyResult(200, null, "key", ApplicationState.Json(w =>
                {
                    w.WriteNumber("server", Self);
                    w.WriteNumber("period", period);
                    w.WriteString("publicKey", Convert.ToHexStringLower(keys.Encryption.PublicKey.Bytes));
                }));
            },
            cancellationToken);

    /// <inheritdoc/>
    public async Task<ApplyResult> GenerateKeyAsync(SignedRequest request, CancellationToken cancellationToken)
    {
        var applied = await SubmitAsync(request, cancellationToken).ConfigureAwait(false);
        if (applied.Status != 202 || applied.Problem is not null || applied.Body is null)
        {
            return applied;
        }

        using var body = System.Text.Json.JsonDocument.Parse(applied.Body);
        if (!body.RootElement.TryGetProperty("ordinal", out var ordinalElement))
        {
            // The other 202: a distributed application's quorum has not all asked yet; no key to wait for.
            return applied;
        }

        var ordinal = ordinalElement.GetUInt64();
        var id = body.RootElement.GetProperty("id").GetString()!;
        var waiter = await OnLoopAsync(() => KeyWaiter(ordinal), cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MaxAgreementWait);
        try
        {
            var publicKey = await waiter.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
            return new ApplyResult(201, null, "generated", ApplicationState.Json(w => DescribeKey(w, id, ordinal, publicKey)));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NodeUnavailableException("not-generated-yet", $"The key '{id}' is agreed but its generation has not completed here within {MaxAgreementWait.TotalSeconds:0} s; GET /v1/keys/{id} shows it once it has.");
        }
    }

    /// <inheritdoc/>
    public Task<ApplyResult> DescribeKeyAsync(ApplicationInstance instance, string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var state = ServingState();
                if (state.Key(Convert.ToHexStringLower(instance.ApplicationId), keyId) is not { } key)
                {
                    return ApplyResult.Refused(404, "unknown-key", $"No key '{keyId}'.");
                }

                var publicKey = Controller.AppKeyPublicKey(key.Ordinal) is { } element ? _config.Suite.Group.EncodeElement(element) : null;
                return new ApplyResult(200, null, "key", ApplicationState.Json(w => DescribeKey(w, keyId, key.Ordinal, publicKey)));
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<ApplyResult> SignAsync(SignedRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (waiter, session) = await OnLoopAsync(() => StartSigning(request), cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(MaxAgreementWait);
        try
        {
            return await waiter.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new NodeUnavailableException("not-signed", "No signature within the time allowed; retry.");
        }
        finally
        {
            if (!waiter.Task.IsCompleted)
            {
                // Nobody waits any more (the client left, or the session was retired without an event): forget it.
                _work.Writer.TryWrite(new NodeWork.Call(() => _signingWaiters.Remove(session), () => { }));
            }
        }
    }

    private (TaskCompletionSource<ApplyResult> Waiter, InstanceId Session) StartSigning(SignedRequest request)
    {
        var state = ServingState();
        var waiter = new TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var step = Controller.StartAppSigning(Context, request, out var session, out var problem);
        if (problem.Length > 0)
        {
            var (status, code) = problem switch
            {
                _ when !state.CheckAuthentic(request, NetworkHex) => (401, state.KeyOf(request.Handle) is null ? "unknown-handle" : "bad-signature"),
                _ when problem.StartsWith("no key", StringComparison.Ordinal) => (404, "unknown-key"),
                _ when problem.StartsWith("this server is in period", StringComparison.Ordinal) => (409, "wrong-period"),
                _ when problem.Contains("quorum", StringComparison.Ordinal) => (403, "quorum-required"),
                _ when problem.Contains("body", StringComparison.Ordinal) => (400, "invalid-request"),
                _ => (503, "not-operational"),
            };
            waiter.SetResult(ApplyResult.Refused(status, code, "Cannot sign: " + problem + "."));
            return (waiter, session);
        }

        _signingWaiters[session] = (waiter, request);
        Apply(step);
        return (waiter, session);
    }

    private void OnAppSigningEvent(ProtocolEvent emitted)
    {
        switch (emitted)
        {
            // (Both parsed when the session was authorized: a session exists only for a well-formed request.)
            case AppSignatureProduced produced when _signingWaiters.TryGetValue(produced.Instance, out var entry) && entry.Request.PathAndQuery == ApplicationPeriodKeys.Path
                && ApplicationPeriodKeys.TryParseRequest(entry.Request.Body.Span, out var periodKey, out var keyPeriod)
                && Handles.TryParse(entry.Request.Handle, out var certifiedApp, out var certifiedInstance):
                _signingWaiters.Remove(produced.Instance);
                entry.Waiter.TrySetResult(new ApplyResult(200, null, "certified", ApplicationState.Json(w =>
                {
                    w.WriteNumber("period", keyPeriod);
                    w.WriteNumber("instance", certifiedInstance);
                    w.WriteString("applicationId", certifiedApp);
                    w.WriteString("publicKey", Convert.ToHexStringLower(periodKey));
                    w.WriteString("networkKey", Convert.ToHexStringLower(produced.PublicKey));
                    w.WriteString("statement", Convert.ToHexStringLower(ApplicationPeriodKeys.Statement(_config.NetworkId, Convert.FromHexString(certifiedApp!), certifiedInstance, keyPeriod, periodKey)));
                    w.WriteString("certificate", Convert.ToHexStringLower(produced.Signature));
                })));
                break;
            case AppSignatureProduced produced when _signingWaiters.Remove(produced.Instance, out var entry):
                entry.Waiter.TrySetResult(new ApplyResult(200, null, "signed", ApplicationState.Json(w => WriteSignatures(w, entry.Request, produced))));
                break;
            case AppSigningFailed failed when _signingWaiters.Remove(failed.Instance, out var entry):
                entry.Waiter.TrySetResult(ApplyResult.Refused(503, "not-signed", $"The signing session failed: {failed.Reason}; retry."));
                break;
            case AppKeyGenerated generated:
                if (_keyWaiters.Remove(generated.Ordinal, out var waiters))
                {
                    foreach (var keyWaiter in waiters)
                    {
                        keyWaiter.TrySetResult(_config.Suite.Group.EncodeElement(generated.PublicKey));
                    }
                }

                break;
        }
    }

    /// <summary>
    /// The answer to a signing request: for <c>/sign</c>, the message and its signature; for
    /// <c>/sign-batch</c>, every message with its signature, in the request's order. (The body was parsed
    /// when the session was authorized: a session exists only for a well-formed request.)
    /// </summary>
    private void WriteSignatures(System.Text.Json.Utf8JsonWriter w, SignedRequest request, AppSignatureProduced produced)
    {
        using var body = System.Text.Json.JsonDocument.Parse(request.Body);
        w.WriteString("publicKey", Convert.ToHexStringLower(produced.PublicKey));
        if (body.RootElement.TryGetProperty("messages", out var messages))
        {
            w.WriteString("suite", _config.SuiteName);
            WriteSigners(w, produced.Signers);
            w.WriteStartArray("signatures");
            var i = 0;
            foreach (var message in messages.EnumerateArray())
            {
                w.WriteStartObject();
                w.WriteString("message", Convert.ToHexStringLower(message.GetBytesFromBase64()));
                w.WriteString("signature", Convert.ToHexStringLower(produced.Signatures[i++]));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            return;
        }

        w.WriteString("message", Convert.ToHexStringLower(body.RootElement.GetProperty("message").GetBytesFromBase64()));
        w.WriteString("signature", Convert.ToHexStringLower(produced.Signature));
        w.WriteString("suite", _config.SuiteName);
        WriteSigners(w, produced.Signers);
    }

    private static void WriteSigners(System.Text.Json.Utf8JsonWriter w, IReadOnlyList<int> signers)
    {
        w.WriteStartArray("signers");
        foreach (var signer in signers)
        {
            w.WriteNumberValue(signer);
        }

        w.WriteEndArray();
    }

    private TaskCompletionSource<byte[]?> KeyWaiter(ulong ordinal)
    {
        var waiter = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Controller.AppKeyPublicKey(ordinal) is { } known)
        {
            waiter.SetResult(_config.Suite.Group.EncodeElement(known));
            return waiter;
        }

        (_keyWaiters.TryGetValue(ordinal, out var list) ? list : _keyWaiters[ordinal] = []).Add(waiter);
        return waiter;
    }

    private void DescribeKey(System.Text.Json.Utf8JsonWriter w, string id, ulong ordinal, byte[]? publicKey)
    {
        w.WriteString("id", id);
        w.WriteNumber("ordinal", ordinal);
        w.WriteString("suite", _config.SuiteName);
        w.WriteString("status", publicKey is null ? "generating" : "ready");
        if (publicKey is null)
        {
            w.WriteNull("publicKey");
        }
        else
        {
            w.WriteString("publicKey", Convert.ToHexStringLower(publicKey));
        }
    }

    /// <inheritdoc/>
    public Task<ApplyResult> ReadJointSecretShareAsync(ApplicationInstance instance, string id, byte[] recipient, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var state = ServingState();
                if (state.Key(Convert.ToHexStringLower(instance.ApplicationId), id) is not { IsJointSecret: true } key)
                {
                    return ApplyResult.Refused(404, "unknown-data", $"No joint secret '{id}'.");
                }

                if (!HpkePublicKey.TryDecode(recipient, out var to))
                {
                    return ApplyResult.Refused(400, "invalid-request", "'to' must be an X25519 public key (64 hex digits).");
                }

                if (!Controller.TryGetAppKeyShare(key.Ordinal, out var share, out var commitment, out var sharing))
                {
                    return ApplyResult.Refused(404, "share-missing", $"This server holds no share of '{id}' (its generation has not completed here, or its share was lost): ask the other servers.");
                }

                var group = _config.Suite.Group;
                var encoded = new byte[group.ScalarLength];
                group.EncodeScalar(share, encoded);
                try
                {
                    var sealedShare = HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, to, DataKeySharing.JointSecretShareInfo(NetworkHex, instance.Handle, id, Self, sharing), [], encoded, _random);
                    return new ApplyResult(200, null, "share", ApplicationState.Json(w =>
                    {
                        w.WriteString("id", id);
                        w.WriteNumber("server", Self);
                        w.WriteString("sharing", sharing);
                        w.WriteString("publicKey", Convert.ToHexStringLower(group.EncodeElement(commitment!.ConstantTerm)));
                        w.WriteBase64String("commitment", commitment.Encode());
                        w.WriteBase64String("share", sealedShare.Encode());
                    }));
                }
                finally
                {
                    System.Security.Cryptography.CryptographicOperations.ZeroMemory(encoded);
                }
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> SendLinkMessageAsync(SignedRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OnLoopAsync(
            () =>
            {
                ServingState();
                var step = Controller.RelayLinkMessage(Context, request, out var problem);
                if (problem.Length > 0)
                {
                    var (status, code) = problem switch
                    {
                        _ when problem.StartsWith("the request is not signed", StringComparison.Ordinal) => (401, Controller.Ledger.State.KeyOf(request.Handle) is null ? "unknown-handle" : "bad-signature"),
                        _ when problem.StartsWith("a centralized", StringComparison.Ordinal) => (409, "no-link"),
                        _ when problem.StartsWith("instance", StringComparison.Ordinal) => (404, "unknown-instance"),
                        _ => (400, "invalid-request"),
                    };
                    return ApplyResult.Refused(status, code, "Cannot send: " + problem + ".");
                }

                Apply(step);
                return new ApplyResult(202, null, "relayed", ApplicationState.Json(w => w.WriteString("status", "relayed")));
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ApplyResult> ReceiveLinkMessagesAsync(ApplicationInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return OnLoopAsync(
            () =>
            {
                var key = instance.Handle;
                var messages = _linkInboxes.Remove(key, out var inbox) ? inbox.ToList() : [];
                _linkInboxBytes -= messages.Sum(m => (long)m.Payload.Length);
                return new ApplyResult(200, null, "received", ApplicationState.Json(w =>
                {
                    w.WriteStartArray("messages");
                    foreach (var message in messages)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("from", message.From);
                        w.WriteString("sentAt", DateTimeOffset.FromUnixTimeMilliseconds((long)message.SentAt).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                        w.WriteBase64String("payload", message.Payload);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }));
            },
            cancellationToken);
    }

    /// <summary>A relayed message arrived for an instance here: keep it (once per request, bounded) until fetched.</summary>
    private void OnLinkMessage(LinkMessageArrived arrived)
    {
        var id = Convert.ToHexStringLower(arrived.RequestId);
        if (!_linkSeen.Add(id))
        {
            _counters.Count("link message relayed twice");
            return;
        }

        _linkSeenOrder.Enqueue(id);
        while (_linkSeenOrder.Count > 100_000)
        {
            _linkSeen.Remove(_linkSeenOrder.Dequeue());
        }

        var handle = Handles.Format(Convert.FromHexString(arrived.ApplicationIdHex), arrived.To);
        var inbox = _linkInboxes.TryGetValue(handle, out var existing) ? existing : _linkInboxes[handle] = new Queue<LinkMessageArrived>();
        inbox.Enqueue(arrived);
        _linkInboxBytes += arrived.Payload.Length;
        while (inbox.Count > MaxLinkInboxMessages || (_linkInboxBytes > MaxLinkInboxBytes && inbox.Count > 0))
        {
            _linkInboxBytes -= inbox.Dequeue().Payload.Length;
            _counters.Count("link message dropped (inbox full)");
        }
    }

    /// <summary>
    /// The digest of this server's agreed application state (<see cref="ApplicationState.Digest"/>), read on
    /// the loop: equal at servers that applied the same requests, unchanged by requests nobody applied.
    /// </summary>
    internal Task<byte[]> ApplicationStateDigestAsync(CancellationToken cancellationToken = default) =>
        OnLoopAsync(() => Controller.Ledger.State.Digest(), cancellationToken);

    /// <summary>The state reads are served from, once this server follows the ledger.</summary>
    private ApplicationState ServingState()
    {
        if (_phase != NodePhase.Operational || !Controller.IsLedgerCurrent)
        {
            throw new NodeUnavailableException("not-operational", "This server is not operational or its application state is behind the network's; ask another server.");
        }

        return Controller.Ledger.State;
    }

    /// <summary>On the loop: submit, and return the waiter the request's answer completes.</summary>
    private TaskCompletionSource<ApplyResult> Submit(SignedRequest request)
    {
        ServingState();
        var id = Convert.ToHexStringLower(request.Id);
        var waiter = new TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var step = Controller.SubmitRequest(Context, request, out var outcome);
        switch (outcome)
        {
            case SubmitOutcome.Accepted:
                break;
            case SubmitOutcome.Duplicate when _ledgerWaiters.ContainsKey(id):
                break;
            case SubmitOutcome.Duplicate:
                waiter.SetResult(ApplyResult.Refused(409, "replayed-request", "This exact request was applied already."));
                return waiter;
            case SubmitOutcome.NotAuthentic:
                waiter.SetResult(ApplyResult.Refused(401, request.Handle == SignedRequest.NewHandle || Controller.Ledger.State.KeyOf(request.Handle) is not null ? "bad-signature" : "unknown-handle",
                    "The request's signature does not verify under the key its handle names (or the handle names none)."));
                return waiter;
            case SubmitOutcome.Untimely:
                waiter.SetResult(ApplyResult.Refused(401, "stale-request", "The request's timestamp is too far from the network's time."));
                return waiter;
            default:
                throw new NodeUnavailableException("busy", "This server holds as many pending requests as it takes; retry shortly.");
        }

        (_ledgerWaiters.TryGetValue(id, out var list) ? list : _ledgerWaiters[id] = []).Add(waiter);
        Apply(step);
        return waiter;
    }

    /// <summary>An agreed request was applied (its writes durable): answer whoever waits for it here, refresh the directory for a registration.</summary>
    private void OnLedgerRequestApplied(LedgerRequestApplied applied)
    {
        var id = Convert.ToHexStringLower(applied.RequestId);
        _nextLedgerProposer = Controller.NextLedgerProposer ?? 0;
        if (applied.Result.Status == 201 && applied.Result.Problem is null)
        {
            RefreshDirectory();
        }

        if (_ledgerWaiters.Remove(id, out var waiters))
        {
            foreach (var waiter in waiters)
            {
                waiter.TrySetResult(applied.Result);
            }
        }
    }

    /// <summary>Rebuilds the handle directory from the agreed state (after a registration; at start).</summary>
    private void RefreshDirectory()
    {
        foreach (var app in Controller.Ledger.State.Applications)
        {
            foreach (var (instance, key) in app.Instances)
            {
                var handle = app.HandleOf(instance);
                if (!_instances.ContainsKey(handle))
                {
                    _instances[handle] = new ApplicationInstance(handle, app.Id, instance, key, app.Name);
                }
            }
        }
    }

    /// <summary>Unix milliseconds of each period's start by the schedule, and the period length: the ledger judges request timestamps by them.</summary>
    private (ulong Start, ulong Length) LedgerSchedule(ulong period) =>
        ((ulong)Math.Max(0, PeriodStart(period).ToUnixTimeMilliseconds()), (ulong)_config.Period.TotalMilliseconds);
}

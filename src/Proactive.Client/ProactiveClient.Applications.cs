// References: toolkit (seed 001) section 5.1 (registration: centralized Reg(name, uniqueId), distributed by
// password), 5.2 and Table 4 (data storage, StoreUntil), 5.3 (GenerateKey, Sign); docs/BRIEF.md section 5
// ("the client SDK does client-side sharing and reconstruction with verification"); RFC 8018 section 5.2
// (PBKDF2); RFC 9180 (HPKE); RFC 8032 (Ed25519); docs/API.md "Applications: registration, storage, keys".
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;

namespace Proactive.Client;

/// <summary>
/// The application side of the client: registration, storage of the five data types (secrets dealt and
/// rebuilt here, never by a server), application keys and signatures. Nothing a single server says is
/// taken on its word: dealing keys are checked against the certified KeyTable, public values and key
/// descriptions must be the same from f+1 servers, a secret opens only with the right key (its AEAD tag),
/// and a signature is verified before it is returned.
/// </summary>
public sealed partial class ProactiveClient
{
    /// <summary>PBKDF2-SHA256 iterations of a distributed application's password verifier (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).</summary>
    public const int PasswordIterations = 600_000;

    /// <summary>Most messages one <see cref="SignBatchAsync"/> call signs.</summary>
    public const int MaxBatchMessages = KeyRecord.MaxBatchMessages;

    /// <summary>The salt prefix of the password verifier; the application's name follows it.</summary>
    public const string PasswordSaltPrefix = "proactive/app-password/v1/";

    /// <summary>How many rounds a read or a dealing waits out servers that disagree or are mid-refresh.</summary>
    private const int SettleAttempts = 10;

    private static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(1);
    private static readonly HpkeSuite ShareSuite = HpkeSuite.X25519Sha256ChaCha20Poly1305;

    private readonly Dictionary<string, byte[]> _keyPublicKeys = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers a centralized application (toolkit Reg(name, uniqueId)): a new Ed25519 key is made here
    /// and only its public half is sent, in a request signed with it (proof of possession). Returns the
    /// credentials (the caller owns and saves them: <see cref="ApplicationCredentials.Save"/>).
    /// </summary>
    /// <exception cref="ProactiveApiException"><c>already-registered</c> when the name and unique id are taken; <c>quota-exceeded</c> when the network is full.</exception>
    public async Task<ApplicationCredentials> RegisterAsync(string name, string uniqueId, RequestedQuota? quota = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(uniqueId);
        var credentials = ApplicationCredentials.Create(ApplicationState.CentralizedId(name, uniqueId), 0, name);
        return await CompleteRegistrationAsync(credentials, _options.Server!, new RegisterBody(Hex(credentials.PublicKey.Bytes), name, uniqueId, null, null, quota?.MaxEntries, quota?.MaxBytes), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Registers instance <paramref name="instance"/> (a server id) of a distributed application at that
    /// server (toolkit 5.1): every instance registers the same name and password, and operations a quorum
    /// must ask for apply once a majority of the instances did. The password never leaves the client: it
    /// is sent as a verifier (<see cref="PasswordVerifier"/>), of which the network keeps only a hash.
    /// </summary>
    /// <exception cref="ProactiveApiException"><c>bad-password</c>: the application is registered with another password; <c>already-registered</c>: this instance is.</exception>
    public async Task<ApplicationCredentials> RegisterInstanceAsync(string name, string password, int instance, RequestedQuota? quota = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(password);
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        ArgumentOutOfRangeException.ThrowIfLessThan(instance, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(instance, cluster.ServerCount);
        var server = cluster.Servers.FirstOrDefault(s => s.Id == instance) is { } info && ApiOf(info) is { } api
            ? api
            : throw new ProactiveUnavailableException(_options.Server!, $"server {instance} has no API to register its instance at");
        var verifier = PasswordVerifier(name, password);
        var credentials = ApplicationCredentials.Create(ApplicationState.DistributedId(name), instance, name);
        return await CompleteRegistrationAsync(credentials, server, new RegisterBody(Hex(credentials.PublicKey.Bytes), name, null, Hex(verifier), instance, quota?.MaxEntries, quota?.MaxBytes), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The verifier a distributed application's password is sent as: PBKDF2-SHA256 of the password (UTF-8)
    /// with the salt <c>"proactive/app-password/v1/" + name</c>, <see cref="PasswordIterations"/> iterations,
    /// 32 bytes. Every instance derives the same one; a server learns nothing it could log in with
    /// elsewhere, and guessing the password from it costs the iterations per guess.
    /// </summary>
    public static byte[] PasswordVerifier(string name, string password)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(password);
        return Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(PasswordSaltPrefix + name), PasswordIterations, HashAlgorithmName.SHA256, 32);
    }

    /// <summary>The calling application: its registration, quorum, quota and use (<c>GET /v1/apps/self</c>).</summary>
    public async Task<ApplicationInfo> DescribeApplicationAsync(CancellationToken cancellationToken = default)
    {
        RequireCredentials();
        await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var answer = await SendAsync(_options.Server!, HttpMethod.Get, "/v1/apps/self", null, signed: true, LedgerAnswerJsonContext.Default.ApplicationAnswer, cancellationToken).ConfigureAwait(false);
        return new ApplicationInfo(
            answer.ApplicationId, answer.Name, answer.Kind, answer.Instance, answer.Instances, answer.Quorum, answer.Quota.MaxEntries, answer.Quota.MaxBytes,
            answer.Quota.UsedEntries ?? 0, answer.Quota.UsedBytes ?? 0, answer.RegisteredPeriod, answer.RegisteredBy ?? (answer.Kind == "centralized" ? "unique-id" : "unknown"));
    }

    /// <summary>
    /// StoreData (toolkit 5.2): stores <paramref name="value"/> (at most 1 MiB) as entry <paramref name="id"/>.
    /// Public types go to the ledger as they are. For a secret, a random data key is Shamir-shared here
    /// (degree t, one share per server), each share sealed with HPKE to its server's encryption key of the
    /// period (checked against the period's certified KeyTable) and handed over; at least n - f servers must
    /// keep theirs before the value, AEAD-encrypted under the key, is stored through the ledger.
    /// <paramref name="until"/> is StoreUntil (distributed-reader secrets): no server releases a share before it.
    /// </summary>
    /// <exception cref="ArgumentException">An id or value out of range.</exception>
    /// <exception cref="ProactiveApiException">The ledger refused it (<c>already-exists</c>, <c>quota-exceeded</c>, <c>invalid-request</c>, ...).</exception>
    /// <exception cref="ProactiveVerificationException">Fewer than n - f servers gave a certified dealing key or kept their share.</exception>
    public async Task<DataResult> StoreAsync(string id, ReadOnlyMemory<byte> value, DataType type = DataType.SecretSingle, DateTimeOffset? until = null, CancellationToken cancellationToken = default)
    {
        CheckEntry(id, value.Length);
        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        ulong? untilMs = until is { } date ? (ulong)Math.Max(1, date.ToUnixTimeMilliseconds()) : null;
        if (type is DataType.SecretSingle or DataType.SecretDistributedReader)
        {
            // Stored by this instance alone: the shares travel sealed inside the agreed request (one round trip).
            return await StoreSealedAsync(cluster, credentials, id, value, type, untilMs, cancellationToken).ConfigureAwait(false);
        }

        string stored;
        string? dealing = null;
        if (IsSecret(type))
        {
            // A quorum sends the very same request, perhaps across a period change: the shares are handed over first.
            (stored, dealing) = await DealAndEncryptAsync(cluster, credentials, id, value, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            stored = Convert.ToBase64String(value.Span);
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new StoreBody(id, DataTypes.Name(type), stored, untilMs, dealing), RequestJsonContext.Default.StoreBody);
        return ToDataResult(await SubmitAsync(cluster, HttpMethod.Post, "/v1/data", body, LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Write (toolkit 5.2): replaces the value of a read/write entry at <paramref name="version"/> (its
    /// current version, so that two writers cannot overwrite each other unseen). A secret's new value gets a
    /// new data key, dealt as by <see cref="StoreAsync"/>.
    /// </summary>
    /// <exception cref="ProactiveApiException"><c>version-mismatch</c>, <c>write-once</c>, <c>unknown-data</c>, ...</exception>
    public async Task<DataResult> WriteAsync(string id, ReadOnlyMemory<byte> value, ulong version, CancellationToken cancellationToken = default)
    {
        CheckEntry(id, value.Length);
        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var (current, _, _) = await AgreedAsync(cluster, "/v1/data/" + Uri.EscapeDataString(id), LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false);
        string stored;
        string? dealing = null;
        if (current.Dealing is not null)
        {
            (stored, dealing) = await DealAndEncryptAsync(cluster, credentials, id, value, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            stored = Convert.ToBase64String(value.Span);
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(new WriteBody(stored, version, dealing), RequestJsonContext.Default.WriteBody);
        return ToDataResult(await SubmitAsync(cluster, HttpMethod.Put, "/v1/data/" + Uri.EscapeDataString(id), body, LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Asks for (or, as another instance, approves) the release of a distributed-reader secret at
    /// <paramref name="version"/>: once a quorum of the application's instances asked, every server hands
    /// its share to them (a centralized application is its own quorum).
    /// </summary>
    public async Task<DataResult> ReleaseAsync(string id, ulong version, CancellationToken cancellationToken = default)
    {
        CheckEntry(id, 0);
        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var body = JsonSerializer.SerializeToUtf8Bytes(new ReleaseBody(version), RequestJsonContext.Default.ReleaseBody);
        return ToDataResult(await SubmitAsync(cluster, HttpMethod.Post, $"/v1/data/{Uri.EscapeDataString(id)}/release", body, LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Retrieve (toolkit 5.2): the entry's description and value must be the same from f+1 servers (so at
    /// least one honest server vouches for them). A public value is that value. A secret's shares are asked
    /// for, sealed to a one-time X25519 key of this call, until t+1 shares of one sharing rebuild a data key
    /// that opens the ciphertext; servers mid-refresh (shares of two sharings, 503s) are waited out briefly.
    /// </summary>
    /// <exception cref="ProactiveApiException">f+1 servers refused alike: <c>unknown-data</c>, <c>not-yet</c> (StoreUntil), <c>quorum-required</c> (not released).</exception>
    /// <exception cref="ProactiveVerificationException">No f+1 servers agreed, or no t+1 shares opened the value.</exception>
    public async Task<RetrievedData> RetrieveAsync(string id, CancellationToken cancellationToken = default)
    {
        CheckEntry(id, 0);
        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var path = "/v1/data/" + Uri.EscapeDataString(id);
        var (quick, isPublic) = await RetrieveFromSharesAsync(cluster, credentials, id, path, cancellationToken).ConfigureAwait(false);
        if (quick is not null)
        {
            return quick;
        }

        var failures = new Dictionary<int, string>();
        for (var attempt = 0; ; attempt++)
        {
            if (isPublic)
            {
                var (publicEntry, servers, publicFailures) = await AgreedAsync(cluster, path, LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false);
                if (publicEntry.Dealing is null && publicEntry.Type is not null && publicEntry.Version is not null && TryBase64(publicEntry.Value, out var publicValue))
                {
                    return new RetrievedData(id, publicEntry.Type, publicEntry.Version.Value, publicValue, null, servers, publicFailures);
                }

                isPublic = false;
            }

            // The description from f+1 servers and, at the same time, shares from t+1 (a secret then costs one
            // round trip, not two); the shares are judged against the description once it is agreed.
            using var recipient = HpkeBaseMode.GenerateKeyPair(SystemRandomSource.Instance);
            var sharePath = $"{path}/share?to={Hex(recipient.PublicKey.ToArray())}";
            var firstWave = PreferDiscovery(cluster).Take(cluster.Threshold + 1).ToList();
            var firstShares = Task.WhenAll(firstWave.Select(server => ShareOfAsync(server, sharePath, LedgerAnswerJsonContext.Default.ShareAnswer, cancellationToken)));
            DataAnswer entry;
            IReadOnlyList<int> agreeing;
            IReadOnlyDictionary<int, string> readFailures;
            try
            {
                (entry, agreeing, readFailures) = await AgreedAsync(cluster, path, LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Never leave the share requests running past this call (they hold the one-time key's public half only).
                await firstShares.ConfigureAwait(false);
            }

            if (entry.Type is null || entry.Version is null || !TryBase64(entry.Value, out var stored))
            {
                throw new ProactiveVerificationException($"The servers describe '{id}' without its type, version or value.");
            }

            if (entry.Dealing is null)
            {
                return new RetrievedData(id, entry.Type, entry.Version.Value, stored, null, agreeing, readFailures);
            }

            var opened = await OpenSecretAsync(cluster, credentials, id, entry, stored, failures, recipient, await firstShares.ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (opened is { } result)
            {
                return result;
            }

            if (attempt + 1 >= SettleAttempts)
            {
                throw new ProactiveVerificationException($"No t+1 = {cluster.Threshold + 1} shares of one sharing of '{id}' opened its value.", failures);
            }

            await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The common case of Retrieve in one round trip: t+1 servers asked for their shares at once, each answer
    /// describing the entry and carrying its ciphertext. When they all answer, describe it alike (so f+1
    /// at least vouch for it, as <see cref="AgreedAsync{T}"/> asks) and their shares of one sharing open the
    /// value, that is the answer. When f+1 say the entry is public (<c>not-secret</c>), its value is read with
    /// <c>GET /v1/data/{id}</c> alone. Anything else (another refusal, a server behind or lying) returns null and
    /// Retrieve takes the full path, which asks for the description and waits servers out.
    /// </summary>
    private async Task<(RetrievedData? Data, bool IsPublic)> RetrieveFromSharesAsync(ClusterInfo cluster, ApplicationCredentials credentials, string id, string path, CancellationToken cancellationToken)
    {
        var needed = cluster.Threshold + 1;
        if (needed < cluster.Faults + 1)
        {
            return (null, false);
        }

        var group = TrustedNetworkKey(cluster).Suite.Group;
        using var recipient = HpkeBaseMode.GenerateKeyPair(SystemRandomSource.Instance);
        var sharePath = $"{path}/share?to={Hex(recipient.PublicKey.ToArray())}";
        var wave = PreferDiscovery(cluster).Take(needed).ToList();
        var answers = await Task.WhenAll(wave.Select(server => ShareOfAsync(server, sharePath, LedgerAnswerJsonContext.Default.ShareAnswer, cancellationToken))).ConfigureAwait(false);
        if (answers.Count(a => a.Problem?.Code == "not-secret") >= cluster.Faults + 1)
        {
            // f+1 say the entry is public: its value comes from GET /v1/data/{id} alone.
            return (null, true);
        }

        if (answers.Any(a => a.Answer is null) || answers.Select(a => a.Answer!).DistinctBy(a => (a.Id, a.Type, a.Version, a.Dealing, a.Sharing, a.Ciphertext)).Count() != 1)
        {
            return (null, false);
        }

        var first = answers[0].Answer!;
        if (first.Id != id || !TryBase64(first.Ciphertext, out var ciphertext) || !TryHex(first.Dealing, out var dealing))
        {
            return (null, false);
        }

        var shares = new Dictionary<int, Scalar>();
        foreach (var (server, answer, _, _) in answers)
        {
            var info = DataKeySharing.ReleasedShareInfo(cluster.Network, credentials.Handle, id, server, answer!.Sharing);
            if (answer.Server != server || !TryBase64(answer.Share, out var sealedBytes) || !HpkeSealedMessage.TryDecode(sealedBytes, out var sealedShare)
                || !HpkeBaseMode.TryOpen(ShareSuite, recipient, info, [], sealedShare, out var plain))
            {
                return (null, false);
            }

            try
            {
                if (!group.TryDecodeScalar(plain, out var share))
                {
                    return (null, false);
                }

                shares[server] = share;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plain);
            }
        }

        return DataKeySharing.TryReconstruct(group, cluster.Threshold, shares, Hex(credentials.ApplicationId), id, dealing, ciphertext, out var value, out var used)
            ? (new RetrievedData(id, first.Type, first.Version, value, first.Sharing, [.. used.Order()], new Dictionary<int, string>()), false)
            : (null, false);
    }

    /// <summary>
    /// GenerateKey (toolkit 5.3): a threshold signing key owned by the application, made by a DKG among the
    /// servers once the ledger agreed on it, refreshed every period with everything else. Waits until the
    /// key is ready (or, for a distributed application, says how many instances asked so far).
    /// </summary>
    /// <exception cref="ProactiveApiException"><c>already-exists</c>, <c>quota-exceeded</c>, ...</exception>
    public Task<ApplicationKey> GenerateKeyAsync(string id, CancellationToken cancellationToken = default) => GenerateAsync(KeysCollection, id, cancellationToken);

    /// <summary>Where keys live on the API.</summary>
    private const string KeysCollection = "/v1/keys";

    /// <summary>Where joint secrets live on the API.</summary>
    private const string JointSecretsCollection = "/v1/joint-secrets";

    /// <summary>A DKG the ledger agrees on (a key, or a joint secret): submitted, then described until it is ready here.</summary>
    private async Task<ApplicationKey> GenerateAsync(string collection, string id, CancellationToken cancellationToken)
    {
        CheckEntry(id, 0);
        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var body = JsonSerializer.SerializeToUtf8Bytes(new KeyIdBody(id), RequestJsonContext.Default.KeyIdBody);
        try
        {
            var answer = await SubmitAsync(cluster, HttpMethod.Post, collection, body, LedgerAnswerJsonContext.Default.KeyAnswer, cancellationToken).ConfigureAwait(false);
            if (answer.Status == "pending")
            {
                return new ApplicationKey(id, cluster.Suite, "pending", null, new QuorumPending(answer.Id, answer.Approvals ?? 0, answer.Needed ?? 0));
            }
        }
        catch (ProactiveApiException e) when (e.Code == "not-generated-yet")
        {
            // Agreed, still generating here: the key is described once its DKG completed.
        }

        for (var attempt = 0; ; attempt++)
        {
            var key = await DescribeAsync(collection, id, cancellationToken).ConfigureAwait(false);
            if (key.Status == "ready" || attempt + 1 >= 3 * SettleAttempts)
            {
                return key;
            }

            await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One of the application's keys as f+1 servers describe it (its public key once generated).</summary>
    public Task<ApplicationKey> DescribeKeyAsync(string id, CancellationToken cancellationToken = default) => DescribeAsync(KeysCollection, id, cancellationToken);

    private async Task<ApplicationKey> DescribeAsync(string collection, string id, CancellationToken cancellationToken)
    {
        CheckEntry(id, 0);
        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var (answer, _, _) = await AgreedAsync(cluster, collection + "/" + Uri.EscapeDataString(id), LedgerAnswerJsonContext.Default.KeyAnswer, cancellationToken).ConfigureAwait(false);
        if (collection == KeysCollection && answer.PublicKey is { } publicKey && TryHex(publicKey, out var bytes))
        {
            lock (_gate)
            {
                _keyPublicKeys[id] = bytes;
            }
        }

        return new ApplicationKey(answer.Id, answer.Suite ?? cluster.Suite, answer.Status ?? "generating", answer.PublicKey, null);
    }

    /// <summary>
    /// Sign (toolkit 5.3): the servers sign <paramref name="message"/> (at most 64 KiB) with the key, in a
    /// FROST session each signer joins only after checking this request itself. The signature is verified
    /// here, under the key's public key as f+1 servers describe it, before it is returned (for Ed25519 with
    /// a standard RFC 8032 verifier).
    /// </summary>
    /// <exception cref="ProactiveApiException"><c>unknown-key</c>, <c>quorum-required</c> (a distributed application's quorum has not approved the message), <c>not-signed</c>.</exception>
    /// <exception cref="ProactiveVerificationException">The signature does not verify under the key.</exception>
    public async Task<SignatureResult> SignAsync(string keyId, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        CheckEntry(keyId, 0);
        CheckMessage(message.Length);
        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var publicKey = await KeyPublicKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
        var body = JsonSerializer.SerializeToUtf8Bytes(new MessageBody(Convert.ToBase64String(message.Span)), RequestJsonContext.Default.MessageBody);
        SignatureAnswer answer;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                answer = await SendAsync(_options.Server!, HttpMethod.Post, $"/v1/keys/{Uri.EscapeDataString(keyId)}/sign", body, signed: true, LedgerAnswerJsonContext.Default.SignatureAnswer, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (ProactiveApiException e) when (e.Code == "quorum-required" && attempt < 2)
            {
                // A distributed application's last approval may have been applied by another server a moment
                // before this one (every server applies the same decided batch, not at the same instant).
                await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }

        if (answer.PublicKey != Hex(publicKey) || answer.Message != Hex(message.Span) || !TryHex(answer.Signature, out var signature))
        {
            throw new ProactiveVerificationException($"{_options.Server} answered a signature for another key or message than '{keyId}' and the one asked for.");
        }

        if (!VerifySignature(cluster.Suite, publicKey, message.Span, signature))
        {
            throw new ProactiveVerificationException($"{_options.Server}'s signature does not verify under the key '{keyId}' ({Hex(publicKey)}).");
        }

        return new SignatureResult(keyId, cluster.Suite, publicKey, message.ToArray(), signature, answer.Signers);
    }

    /// <summary>
    /// Signs 1 to 256 messages with the key in one session (<c>POST /v1/keys/{id}/sign-batch</c>): the way to
    /// many signatures per second. Every signature is checked under the key before it is returned, in the
    /// order of <paramref name="messages"/>.
    /// </summary>
    public async Task<IReadOnlyList<SignatureResult>> SignBatchAsync(string keyId, IReadOnlyList<ReadOnlyMemory<byte>> messages, CancellationToken cancellationToken = default)
    {
        CheckEntry(keyId, 0);
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count is < 1 or > MaxBatchMessages)
        {
            throw new ArgumentException($"A batch holds 1 to {MaxBatchMessages} messages.", nameof(messages));
        }

        foreach (var message in messages)
        {
            CheckMessage(message.Length);
        }

        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var publicKey = await KeyPublicKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
        var body = JsonSerializer.SerializeToUtf8Bytes(new MessagesBody([.. messages.Select(m => Convert.ToBase64String(m.Span))]), RequestJsonContext.Default.MessagesBody);
        var answer = await SendAsync(_options.Server!, HttpMethod.Post, $"/v1/keys/{Uri.EscapeDataString(keyId)}/sign-batch", body, signed: true, LedgerAnswerJsonContext.Default.SignatureBatchAnswer, cancellationToken).ConfigureAwait(false);
        if (answer.PublicKey != Hex(publicKey) || answer.Signatures.Count != messages.Count)
        {
            throw new ProactiveVerificationException($"{_options.Server} answered signatures for another key than '{keyId}' or another number of messages than {messages.Count}.");
        }

        var results = new SignatureResult[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i].Span;
            if (answer.Signatures[i].Message != Hex(message) || !TryHex(answer.Signatures[i].Signature, out var signature)
                || !VerifySignature(cluster.Suite, publicKey, message, signature))
            {
                throw new ProactiveVerificationException($"{_options.Server}'s signature {i} of the batch does not verify under the key '{keyId}' ({Hex(publicKey)}).");
            }

            results[i] = new SignatureResult(keyId, cluster.Suite, publicKey, message.ToArray(), signature, answer.Signers);
        }

        return results;
    }

    /// <summary>
    /// A distributed application's instance approves signing <paramref name="message"/> with the key: once a
    /// quorum of instances approved, any instance may <see cref="SignAsync"/> it.
    /// </summary>
    public async Task<SigningApproval> ApproveSigningAsync(string keyId, ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        CheckEntry(keyId, 0);
        CheckMessage(message.Length);
        RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var body = JsonSerializer.SerializeToUtf8Bytes(new MessageBody(Convert.ToBase64String(message.Span)), RequestJsonContext.Default.MessageBody);
        var answer = await SubmitAsync(cluster, HttpMethod.Post, $"/v1/keys/{Uri.EscapeDataString(keyId)}/approve", body, LedgerAnswerJsonContext.Default.KeyAnswer, cancellationToken).ConfigureAwait(false);
        return answer.Status == "pending"
            ? new SigningApproval(keyId, false, new QuorumPending(answer.Id, answer.Approvals ?? 0, answer.Needed ?? 0))
            : new SigningApproval(keyId, true, null);
    }

    /// <summary>
    /// Checks a signature offline: Ed25519 (RFC 8032, the verifier of libsodium) for <c>ed25519</c> keys,
    /// the FROST (Schnorr) verification of the suite otherwise. Never throws for bad input.
    /// </summary>
    public static bool VerifySignature(string suite, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (suite == "ed25519")
        {
            return publicKey.Length == Ed25519PublicKey.Length && signature.Length == Ed25519PublicKey.SignatureLength
                && Ed25519PublicKey.TryDecode(publicKey, out var key) && key.Verify(message, signature);
        }

        return SuiteOf(suite) is { } ciphersuite
            && GroupPublicKey.TryDecode(ciphersuite, publicKey, out var groupKey) && groupKey is not null
            && Proactive.Crypto.Frost.Signature.TryDecode(ciphersuite, signature, out var decoded) && decoded is not null
            && groupKey.Verify(message, decoded);
    }

    private async Task<ApplicationCredentials> CompleteRegistrationAsync(ApplicationCredentials credentials, Uri server, RegisterBody request, CancellationToken cancellationToken)
    {
        try
        {
            await GetClusterAsync(cancellationToken).ConfigureAwait(false);
            var body = JsonSerializer.SerializeToUtf8Bytes(request, RequestJsonContext.Default.RegisterBody);
            var (answer, _) = await ExchangeAsync(server, HttpMethod.Post, "/v1/apps", body, Signing.Identical, LedgerAnswerJsonContext.Default.RegistrationAnswer, cancellationToken, signer: credentials, handle: SignedRequest.NewHandle).ConfigureAwait(false);
            if (answer.Handle != credentials.Handle)
            {
                throw new ProactiveVerificationException($"{server} registered the handle {answer.Handle}, not {credentials.Handle} (the handle of this name and instance).");
            }

            return credentials;
        }
        catch
        {
            credentials.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A ledger operation, sent to the discovery server and, when it cannot take it (unreachable, or 503
    /// after its retries), to the next server: the request is the same bytes everywhere, so the ledger
    /// applies it once whichever server it reached first.
    /// </summary>
    private async Task<T> SubmitAsync<T>(ClusterInfo cluster, HttpMethod method, string path, byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> answerType, CancellationToken cancellationToken)
        where T : class
    {
        var servers = new List<Uri> { _options.Server! };
        servers.AddRange(cluster.Servers.Select(ApiOf).OfType<Uri>().Where(u => u.Authority != _options.Server!.Authority));
        ProactiveException? last = null;
        string[]? headers = null;

        // A copy of the request to the server that will propose the next ledger instance (as the last answer
        // said) saves the forward from the chosen server to it. Only a hint: the answer is still the chosen
        // server's, and a wrong hint costs one request.
        var proposer = cluster.Servers.FirstOrDefault(s => s.Id == _proposerHint) is { } hinted && ApiOf(hinted) is { } hintedApi
            && hintedApi.Authority != _options.Server!.Authority ? hintedApi : null;
        Task<T?>? copy = null;
        void OnSigned(string[] signed)
        {
            if (headers is null && proposer is not null)
            {
                copy = SendCopyAsync(proposer, method, path, body, signed, answerType, cancellationToken);
            }

            headers = signed;
        }

        foreach (var server in servers)
        {
            try
            {
                return (await ExchangeAsync(server, method, path, body, Signing.Identical, answerType, cancellationToken, presigned: headers, onSigned: OnSigned).ConfigureAwait(false)).Body;
            }
            catch (ProactiveApiException e) when (e.Code == "replayed-request" && copy is not null)
            {
                // The copy was proposed and applied before the chosen server had the request in hand: the
                // copy's server waited for it and answers what applying it gave (as a server tried after an
                // unavailable one would).
                if (await copy.ConfigureAwait(false) is { } answer)
                {
                    return answer;
                }

                throw;
            }
            catch (ProactiveUnavailableException e)
            {
                last = e;
            }
            catch (ProactiveApiException e) when (e.Status == 503)
            {
                last = e;
            }
        }

        throw last!;
    }

    /// <summary>A copy of a signed ledger request: its answer, or null when it got none (the chosen server's answer is the one that counts).</summary>
    private async Task<T?> SendCopyAsync<T>(Uri server, HttpMethod method, string path, byte[] body, string[] headers, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> answerType, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return (await ExchangeAsync(server, method, path, body, Signing.Identical, answerType, cancellationToken, retry: false, presigned: headers).ConfigureAwait(false)).Body;
        }
        catch (Exception e) when (e is ProactiveException or OperationCanceledException or ObjectDisposedException)
        {
            // A copy that fails changes nothing: the request went to the chosen server all the same.
            return null;
        }
    }

    /// <summary>
    /// Asks servers (f+1 at a time) for <paramref name="path"/> until f+1 give the same answer, so that at
    /// least one honest server vouches for it; the same refusal from f+1 is that refusal. Servers that
    /// disagree for a moment (one applied a batch the other has not yet) are waited out briefly.
    /// </summary>
    private async Task<(T Answer, IReadOnlyList<int> Servers, IReadOnlyDictionary<int, string> Failures)> AgreedAsync<T>(
        ClusterInfo cluster, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> answerType, CancellationToken cancellationToken)
        where T : class
    {
        var needed = cluster.Faults + 1;
        var failures = new Dictionary<int, string>();
        for (var attempt = 0; ; attempt++)
        {
            var outcomes = new Dictionary<string, List<(int Server, JsonNode? Body, ProactiveApiException? Problem)>>(StringComparer.Ordinal);
            var pending = new Queue<ClusterServerInfo>(PreferDiscovery(cluster));
            while (pending.Count > 0 && !outcomes.Any(o => o.Value.Count >= needed && o.Value[0].Problem is null))
            {
                var best = outcomes.Values.Where(o => o[0].Problem is null).Select(o => o.Count).DefaultIfEmpty(0).Max();
                var wave = Enumerable.Range(0, Math.Min(needed - best, pending.Count)).Select(_ => pending.Dequeue()).ToList();
                var answers = await Task.WhenAll(wave.Select(async server =>
                {
                    if (ApiOf(server) is not { } api)
                    {
                        return (server.Id, Key: (string?)null, Body: (JsonNode?)null, Problem: (ProactiveApiException?)null, Error: (string?)"the configuration gives it no API");
                    }

                    try
                    {
                        var (node, _) = await ExchangeAsync(api, HttpMethod.Get, path, null, Signing.Fresh, LedgerAnswerJsonContext.Default.JsonNode, cancellationToken, retry: false).ConfigureAwait(false);
                        return (server.Id, Key: (string?)node.ToJsonString(), Body: (JsonNode?)node, Problem: null, Error: (string?)null);
                    }
                    catch (ProactiveApiException e) when (e.Status is >= 400 and < 500)
                    {
                        return (server.Id, Key: "problem:" + e.Code, Body: null, Problem: e, Error: null);
                    }
                    catch (ProactiveException e)
                    {
                        return (server.Id, Key: null, Body: null, Problem: null, Error: e.Message);
                    }
                })).ConfigureAwait(false);
                foreach (var answer in answers)
                {
                    if (answer.Key is null)
                    {
                        failures[answer.Id] = answer.Error!;
                        continue;
                    }

                    (outcomes.TryGetValue(answer.Key, out var list) ? list : outcomes[answer.Key] = []).Add((answer.Id, answer.Body, answer.Problem));
                }
            }

            // A refusal is the answer only when f+1 refused alike and no server answered otherwise: a server that
            // has not applied the latest batch yet refuses what another already serves (read after write).
            if (outcomes.Count == 1 && outcomes.Values.Single() is { Count: var count } only && count >= needed && only[0].Problem is { } problem)
            {
                throw problem;
            }

            if (outcomes.Values.FirstOrDefault(o => o.Count >= needed && o[0].Problem is null) is { } agreed)
            {
                var servers = agreed.Select(a => a.Server).Order().ToList();
                foreach (var other in outcomes.Values.Where(o => o != agreed).SelectMany(o => o))
                {
                    failures[other.Server] = other.Problem?.Message ?? "its answer differs from the f+1 that agree";
                }

                try
                {
                    return (agreed[0].Body!.Deserialize(answerType) ?? throw new JsonException("null"), servers, failures);
                }
                catch (JsonException e)
                {
                    throw new ProactiveVerificationException($"The servers' answer to {path} is not one this client can read ({e.Message}).");
                }
            }

            if (attempt + 1 >= SettleAttempts)
            {
                foreach (var other in outcomes.Values.SelectMany(o => o))
                {
                    failures[other.Server] = other.Problem?.Message ?? "its answer is not the same as enough others'";
                }

                throw new ProactiveVerificationException($"No f+1 = {needed} servers gave the same answer to {path}.", failures);
            }

            await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Deals a fresh data key to the servers and encrypts <paramref name="value"/> under it: each server's
    /// dealing key must be its encryption key in the certified KeyTable of its period, each share is sealed
    /// to it (HPKE, bound to the network, the handle and the dealing), and n - f servers must keep theirs.
    /// Returns the ciphertext (base64) and the dealing id (hex).
    /// </summary>
    private async Task<(string Ciphertext, string Dealing)> DealAndEncryptAsync(ClusterInfo cluster, ApplicationCredentials credentials, string id, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        var networkKey = TrustedNetworkKey(cluster);
        var group = networkKey.Suite.Group;
        var needed = cluster.ServerCount - cluster.Faults;
        var random = SystemRandomSource.Instance;
        var dealing = new byte[DataRecord.DealingLength];
        random.Fill(dealing);
        var dealingHex = Hex(dealing);
        var (dataKey, shares) = DataKeySharing.Deal(group, cluster.ServerCount, cluster.Threshold, random);
        var failures = new Dictionary<int, string>();
        var kept = new HashSet<int>();
        for (var attempt = 0; attempt < SettleAttempts && kept.Count < needed; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }

            var handed = await Task.WhenAll(cluster.Servers.Where(s => !kept.Contains(s.Id))
                .Select(server => HandShareAsync(cluster, networkKey, server, credentials, dealing, dealingHex, shares[server.Id - 1], cancellationToken))).ConfigureAwait(false);
            foreach (var (server, error) in handed)
            {
                if (error is null)
                {
                    kept.Add(server);
                    failures.Remove(server);
                }
                else
                {
                    failures[server] = error;
                }
            }
        }

        if (kept.Count < needed)
        {
            throw new ProactiveVerificationException($"Only {kept.Count} servers kept their share of the data key of '{id}'; n - f = {needed} must.", failures);
        }

        var ciphertext = DataKeySharing.Encrypt(group, dataKey, Hex(credentials.ApplicationId), id, dealing, value.Span, random);
        return (Convert.ToBase64String(ciphertext), dealingHex);
    }

    /// <summary>
    /// StoreData of a secret this instance stores alone: a fresh data key is dealt, each share sealed to its
    /// server's encryption key in the certified KeyTable of the current period, and the sealed shares go in
    /// the request itself, so every server that applies it keeps its share in the same durable step (no
    /// hand-over round before it). A request agreed in a later period than the keys' is refused
    /// (<c>stale-period</c>) and dealt again to the new keys.
    /// </summary>
    private async Task<DataResult> StoreSealedAsync(ClusterInfo cluster, ApplicationCredentials credentials, string id, ReadOnlyMemory<byte> value, DataType type, ulong? untilMs, CancellationToken cancellationToken)
    {
        var networkKey = TrustedNetworkKey(cluster);
        var group = networkKey.Suite.Group;
        for (var attempt = 0; ; attempt++)
        {
            var (period, keys) = await SealingKeysAsync(cluster, networkKey, cancellationToken).ConfigureAwait(false);
            var dealing = new byte[DataRecord.DealingLength];
            SystemRandomSource.Instance.Fill(dealing);
            var (dataKey, shares) = DataKeySharing.Deal(group, cluster.ServerCount, cluster.Threshold, SystemRandomSource.Instance);
            var info = DataKeySharing.DealtShareInfo(cluster.Network, credentials.Handle, dealing);
            var sealedShares = new string[cluster.ServerCount];
            var encoded = new byte[group.ScalarLength];
            try
            {
                for (var i = 0; i < sealedShares.Length; i++)
                {
                    group.EncodeScalar(shares[i], encoded);
                    sealedShares[i] = Convert.ToBase64String(HpkeBaseMode.Seal(ShareSuite, keys[i], info, [], encoded, SystemRandomSource.Instance).Encode());
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(encoded);
            }

            var ciphertext = DataKeySharing.Encrypt(group, dataKey, Hex(credentials.ApplicationId), id, dealing, value.Span, SystemRandomSource.Instance);
            var body = JsonSerializer.SerializeToUtf8Bytes(
                new StoreBody(id, DataTypes.Name(type), Convert.ToBase64String(ciphertext), untilMs, Hex(dealing), sealedShares, period), RequestJsonContext.Default.StoreBody);
            try
            {
                return ToDataResult(await SubmitAsync(cluster, HttpMethod.Post, "/v1/data", body, LedgerAnswerJsonContext.Default.DataAnswer, cancellationToken).ConfigureAwait(false));
            }
            catch (ProactiveApiException e) when (e.Code == "stale-period" && attempt + 1 < SettleAttempts)
            {
                // Agreed in another period's ledger than the keys' (a period began, or the last one's ledger
                // was still closing): seal to the current keys, after a moment from the second time on.
                lock (_gate)
                {
                    _sealingKeys = null;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Every server's encryption key of the current period, from that period's KeyTable as the network key
    /// certified it (the period is the one this client's server says its dealing key is of).
    /// </summary>
    private async Task<(ulong Period, HpkePublicKey[] Keys)> SealingKeysAsync(ClusterInfo cluster, GroupPublicKey networkKey, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_sealingKeys is { } known)
            {
                return known;
            }
        }

        var server = PreferDiscovery(cluster).First();
        var api = ApiOf(server) ?? _options.Server!;
        DealingKeyAnswer current;
        CertifiedPeriod certified;
        for (var attempt = 0; ; attempt++)
        {
            (current, _) = await ExchangeAsync(api, HttpMethod.Get, "/v1/dealing-key", null, Signing.None, LedgerAnswerJsonContext.Default.DealingKeyAnswer, cancellationToken, retry: false).ConfigureAwait(false);
            try
            {
                certified = await CertifiedPeriodAsync(cluster, networkKey, server, current.Period, needPublicState: false, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (ProactiveVerificationException) when (attempt + 1 < SettleAttempts && current.Period > 0)
            {
                // The first moments of a period: its refresh has not been certified yet. Wait it out.
                await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }

        var keys = new HpkePublicKey[cluster.ServerCount];
        for (var i = 0; i < keys.Length; i++)
        {
            if (certified.Table is null || !certified.Table.TryGet(i + 1, out var entry))
            {
                throw new ProactiveVerificationException($"No certified KeyTable of period {current.Period} lists the keys of server {i + 1} (period 0 has none; the first refresh makes one): its share cannot be sealed.");
            }

            keys[i] = entry.Entry.Keys.Encryption;
        }

        lock (_gate)
        {
            _sealingKeys = (current.Period, keys);
        }

        return (current.Period, keys);
    }

    /// <summary>
    /// A server's dealing key, checked against its encryption key of that period in the KeyTable the
    /// network key certified; null with the reason when it is not (or none is certified yet).
    /// </summary>
    private async Task<(ulong Period, HpkePublicKey? Key, string? Problem)> VerifiedDealingKeyAsync(ClusterInfo cluster, GroupPublicKey networkKey, ClusterServerInfo server, Uri api, CancellationToken cancellationToken)
    {
        var (key, _) = await ExchangeAsync(api, HttpMethod.Get, "/v1/dealing-key", null, Signing.None, LedgerAnswerJsonContext.Default.DealingKeyAnswer, cancellationToken, retry: false).ConfigureAwait(false);
        if (key.Server != server.Id)
        {
            return (key.Period, null, $"it answered as server {key.Server}");
        }

        var certified = await CertifiedPeriodAsync(cluster, networkKey, server, key.Period, needPublicState: false, cancellationToken).ConfigureAwait(false);
        if (certified.Table is null || !certified.Table.TryGet(server.Id, out var entry))
        {
            return (key.Period, null, $"no certified KeyTable of period {key.Period} lists its keys (period 0 has none; the first refresh makes one)");
        }

        var listed = entry.Entry.Keys.Encryption;
        return Hex(listed.ToArray()) == key.PublicKey
            ? (key.Period, listed, null)
            : (key.Period, null, $"its dealing key is not its encryption key of period {key.Period} in the certified KeyTable");
    }

    private void ForgetDealingKey(int server)
    {
        lock (_gate)
        {
            _dealingKeys.Remove(server);
        }
    }

    /// <summary>One server's share: its dealing key checked against the certified KeyTable, the share sealed to it and handed over; the error when not.</summary>
    private async Task<(int Server, string? Error)> HandShareAsync(
        ClusterInfo cluster, GroupPublicKey networkKey, ClusterServerInfo server, ApplicationCredentials credentials, byte[] dealing, string dealingHex, Scalar share, CancellationToken cancellationToken)
    {
        if (ApiOf(server) is not { } api)
        {
            return (server.Id, "the configuration gives it no API");
        }

        try
        {
            // A key checked before is used again until a hand-over fails (e.g. 409 stale-period after a refresh).
            (ulong Period, HpkePublicKey Key) known;
            bool cached;
            lock (_gate)
            {
                cached = _dealingKeys.TryGetValue(server.Id, out known);
            }

            if (!cached)
            {
                var (fetchedPeriod, fetched, problem) = await VerifiedDealingKeyAsync(cluster, networkKey, server, api, cancellationToken).ConfigureAwait(false);
                if (fetched is null)
                {
                    return (server.Id, problem);
                }

                known = (fetchedPeriod, fetched);
            }

            var (period, listed) = known;

            var group = networkKey.Suite.Group;
            var encoded = new byte[group.ScalarLength];
            group.EncodeScalar(share, encoded);
            byte[] sealedShare;
            try
            {
                sealedShare = HpkeBaseMode.Seal(ShareSuite, listed, DataKeySharing.DealtShareInfo(cluster.Network, credentials.Handle, dealing), [], encoded, SystemRandomSource.Instance).Encode();
            }
            finally
            {
                CryptographicOperations.ZeroMemory(encoded);
            }

            var body = JsonSerializer.SerializeToUtf8Bytes(new DealtShareBody(period, Convert.ToBase64String(sealedShare)), RequestJsonContext.Default.DealtShareBody);
            var (answer, _) = await ExchangeAsync(api, HttpMethod.Put, "/v1/dealings/" + dealingHex, body, Signing.Fresh, LedgerAnswerJsonContext.Default.DealtAnswer, cancellationToken, retry: false).ConfigureAwait(false);
            if (answer.Server != server.Id || answer.Dealing != dealingHex)
            {
                ForgetDealingKey(server.Id);
                return (server.Id, "it acknowledged another dealing");
            }

            lock (_gate)
            {
                _dealingKeys[server.Id] = known;
            }

            return (server.Id, null);
        }
        catch (ProactiveException e)
        {
            ForgetDealingKey(server.Id);
            return (server.Id, e.Message);
        }
    }

    /// <summary>
    /// One round of share requests for a secret (t+1 servers at a time, more as needed): the value once t+1
    /// shares of one sharing open it; null when this round did not get there (the caller waits and tries again).
    /// </summary>
    private async Task<RetrievedData?> OpenSecretAsync(
        ClusterInfo cluster, ApplicationCredentials credentials, string id, DataAnswer entry, byte[] ciphertext, Dictionary<int, string> failures,
        HpkePrivateKey recipient, IReadOnlyList<(int Server, ShareAnswer? Answer, ProactiveApiException? Problem, string? Error)> firstAnswers, CancellationToken cancellationToken)
    {
        var networkKey = TrustedNetworkKey(cluster);
        var group = networkKey.Suite.Group;
        var needed = cluster.Threshold + 1;
        var appHex = Hex(credentials.ApplicationId);
        var dealing = Convert.FromHexString(entry.Dealing!);
        var path = $"/v1/data/{Uri.EscapeDataString(id)}/share?to={Hex(recipient.PublicKey.ToArray())}";
        var bySharing = new Dictionary<string, Dictionary<int, Scalar>>(StringComparer.Ordinal);
        var refusals = new Dictionary<string, List<ProactiveApiException>>(StringComparer.Ordinal);
        var asked = firstAnswers.Select(a => a.Server).ToHashSet();
        var pending = new Queue<ClusterServerInfo>(PreferDiscovery(cluster).Where(s => !asked.Contains(s.Id)));
        IReadOnlyList<(int Server, ShareAnswer? Answer, ProactiveApiException? Problem, string? Error)>? ready = firstAnswers;
        while (ready is not null || pending.Count > 0)
        {
            var answers = ready;
            ready = null;
            if (answers is null)
            {
                var best = bySharing.Values.Select(s => s.Count).DefaultIfEmpty(0).Max();
                var wave = Enumerable.Range(0, Math.Min(Math.Max(1, needed - best), pending.Count)).Select(_ => pending.Dequeue()).ToList();
                answers = await Task.WhenAll(wave.Select(server => ShareOfAsync(server, path, LedgerAnswerJsonContext.Default.ShareAnswer, cancellationToken))).ConfigureAwait(false);
            }

            foreach (var (server, answer, problem, error) in answers)
            {
                if (problem is not null)
                {
                    (refusals.TryGetValue(problem.Code, out var list) ? list : refusals[problem.Code] = []).Add(problem);
                    failures[server] = problem.Message;
                    continue;
                }

                if (answer is null)
                {
                    failures[server] = error!;
                    continue;
                }

                if (answer.Server != server || answer.Id != id || answer.Dealing != entry.Dealing || answer.Version != entry.Version
                    || !TryBase64(answer.Ciphertext, out var theirs) || !theirs.AsSpan().SequenceEqual(ciphertext))
                {
                    failures[server] = "its share is of another server, entry or version than f+1 servers describe";
                    continue;
                }

                var info = DataKeySharing.ReleasedShareInfo(cluster.Network, credentials.Handle, id, server, answer.Sharing);
                if (!TryBase64(answer.Share, out var sealedBytes) || !HpkeSealedMessage.TryDecode(sealedBytes, out var sealedShare)
                    || !HpkeBaseMode.TryOpen(ShareSuite, recipient, info, [], sealedShare, out var plain))
                {
                    failures[server] = "its share does not open with this call's key";
                    continue;
                }

                try
                {
                    if (!group.TryDecodeScalar(plain, out var share))
                    {
                        failures[server] = "its share is not a scalar";
                        continue;
                    }

                    (bySharing.TryGetValue(answer.Sharing, out var shares) ? shares : bySharing[answer.Sharing] = [])[server] = share;
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(plain);
                }
            }

            foreach (var (sharing, shares) in bySharing.Where(s => s.Value.Count >= needed))
            {
                if (DataKeySharing.TryReconstruct(group, cluster.Threshold, shares, appHex, id, dealing, ciphertext, out var value, out var used))
                {
                    foreach (var server in shares.Keys.Except(used))
                    {
                        failures[server] = "its share was not needed, or did not combine with the others";
                    }

                    foreach (var server in used)
                    {
                        failures.Remove(server);
                    }

                    return new RetrievedData(id, entry.Type!, entry.Version!.Value, value, sharing, [.. used.Order()], new Dictionary<int, string>(failures));
                }
            }

        }

        // The same refusal from f+1 servers while none gave a share is an honest server's (not yet, not
        // released, no such entry): nothing to wait for. A refusal beside shares is a server behind the
        // others (it has not applied the release yet): the caller waits and asks again. share-missing is
        // one server's state, not the entry's.
        if (bySharing.Count == 0 && refusals.FirstOrDefault(r => r.Key != "share-missing" && r.Value.Count >= cluster.Faults + 1) is { Value: { } agreed })
        {
            throw agreed[0];
        }

        return null;
    }

    /// <summary>One server's sealed share (of a stored secret or a joint secret): its answer, its refusal (4xx), or why it gave neither.</summary>
    private async Task<(int Server, T? Answer, ProactiveApiException? Problem, string? Error)> ShareOfAsync<T>(ClusterServerInfo server, string path, JsonTypeInfo<T> answerType, CancellationToken cancellationToken)
        where T : class
    {
        if (ApiOf(server) is not { } api)
        {
            return (server.Id, null, null, "the configuration gives it no API");
        }

        try
        {
            var (answer, _) = await ExchangeAsync(api, HttpMethod.Get, path, null, Signing.Fresh, answerType, cancellationToken, retry: false).ConfigureAwait(false);
            return (server.Id, answer, null, null);
        }
        catch (ProactiveApiException e) when (e.Status is >= 400 and < 500)
        {
            return (server.Id, null, e, null);
        }
        catch (ProactiveException e)
        {
            return (server.Id, null, null, e.Message);
        }
    }

    /// <summary>The key's public key as f+1 servers describe it (kept once known: it never changes).</summary>
    private async Task<byte[]> KeyPublicKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_keyPublicKeys.TryGetValue(keyId, out var known))
            {
                return known;
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            // A key's DKG completes at each server at its own moment: one may still be generating what another serves.
            var key = await DescribeKeyAsync(keyId, cancellationToken).ConfigureAwait(false);
            if (key.PublicKey is { } hex && TryHex(hex, out var bytes))
            {
                return bytes;
            }

            if (attempt + 1 >= SettleAttempts)
            {
                throw new ProactiveApiException(_options.Server!, 503, "not-generated-yet", "Not generated yet", $"The key '{keyId}' is still being generated; sign once it is ready.");
            }

            await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The discovery server first (its answers are the ones the client already relies on), then the others by id.</summary>
    private IEnumerable<ClusterServerInfo> PreferDiscovery(ClusterInfo cluster) =>
        cluster.Servers.OrderBy(s => ApiOf(s) is { } api && api.Authority == _options.Server!.Authority ? 0 : 1).ThenBy(s => s.Id);

    private static DataResult ToDataResult(DataAnswer answer) =>
        answer.Status == "pending"
            ? new DataResult(null, new QuorumPending(answer.Id, answer.Approvals ?? 0, answer.Needed ?? 0))
            : new DataResult(new DataEntry(answer.Id, answer.Type ?? string.Empty, answer.Version ?? 0, answer.StoredPeriod ?? 0, answer.Until, answer.Dealing, answer.Released), null);

    private static bool IsSecret(DataType type) => type is DataType.SecretSingle or DataType.SecretDistributedReader or DataType.SecretDistributed;

    /// <summary>The ledger's limits, checked before anything is dealt or sent.</summary>
    private static void CheckEntry(string id, int valueLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id.Length > DataRecord.MaxIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw new ArgumentException($"An id is 1 to {DataRecord.MaxIdLength} letters, digits, '.', '_' or '-' (got '{id}').", nameof(id));
        }

        if (valueLength > DataRecord.MaxValueLength - DataKeySharing.NonceLength - DataKeySharing.TagLength)
        {
            throw new ArgumentException($"A value is at most {DataRecord.MaxValueLength - DataKeySharing.NonceLength - DataKeySharing.TagLength} bytes.", nameof(valueLength));
        }
    }

    private static void CheckMessage(int length)
    {
        if (length > KeyRecord.MaxMessageLength)
        {
            throw new ArgumentException($"A message to sign is at most {KeyRecord.MaxMessageLength} bytes.", nameof(length));
        }
    }

    private static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}

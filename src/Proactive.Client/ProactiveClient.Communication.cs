// References: toolkit (seed 001) section 5.1 option 2 and Figure 3 (registration by one-time certificate),
// 5.3 (GenerateJointSecret, random or given value), 5.4 (proactive keys certified by the network key as
// (K, t); communication links between instances relayed by the servers); RFC 9180 (HPKE); docs/API.md
// "Applications: bulk import, joint secrets, period keys, links" and "Registration by certificate".
using System.Security.Cryptography;
using System.Text.Json;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Envelopes;

namespace Proactive.Client;

/// <summary>
/// Registration by certificate, the communication API (period keys certified by the network key, links
/// between instances) and joint secrets. As everywhere in the client, what a server says is checked
/// before it is returned: a period-key certificate verifies under the trusted network key over a statement
/// rebuilt here, and a joint secret's shares verify against their commitments and rebuild the public value.
/// </summary>
public sealed partial class ProactiveClient
{
    /// <summary>Largest payload of one link message.</summary>
    public const int MaxLinkPayload = 64 * 1024;

    /// <summary>
    /// Registers <paramref name="credentials"/> (an instance made by <see cref="ApplicationCredentials.CreateInstance"/>)
    /// with its one-time <paramref name="certificate"/> from the application's CA (toolkit 5.1 option 2), at the
    /// server the certificate names. The request is signed with the instance's key, which proves it holds the
    /// key the certificate certifies. The first registration of the application fixes its CA; the caller
    /// keeps owning the credentials (save them: <see cref="ApplicationCredentials.Save"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The certificate is not for these credentials (name, instance, key) or this network.</exception>
    /// <exception cref="ProactiveApiException"><c>certificate-used</c>, <c>certificate-expired</c>, <c>certificate-not-yet-valid</c>, <c>wrong-certificate-authority</c>, <c>certificate-mismatch</c>, <c>bad-certificate</c>, <c>already-registered</c>, <c>wrong-registration-kind</c>.</exception>
    public async Task RegisterInstanceAsync(ApplicationCredentials credentials, ApplicationCertificate certificate, RequestedQuota? quota = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.Name != credentials.Name || certificate.Instance != credentials.Instance || certificate.ServerId != credentials.Instance
            || !certificate.SubjectKey.SequenceEqual(credentials.PublicKey.Bytes) || !credentials.ApplicationId.SequenceEqual(ApplicationState.DistributedId(credentials.Name)))
        {
            throw new ArgumentException(
                $"The certificate is for instance {certificate.Instance} of '{certificate.Name}' at server {certificate.ServerId} and another key: not for these credentials (instance {credentials.Instance} of '{credentials.Name}').",
                nameof(certificate));
        }

        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        if (certificate.Network.ToString() != cluster.Network)
        {
            throw new ArgumentException($"The certificate was issued for the network {certificate.Network}, not {cluster.Network}.", nameof(certificate));
        }

        var server = InstanceServer(cluster, credentials.Instance);
        var request = new RegisterBody(Hex(credentials.PublicKey.Bytes), credentials.Name, null, null, credentials.Instance, quota?.MaxEntries, quota?.MaxBytes, Hex(certificate.Encode()));
        var body = JsonSerializer.SerializeToUtf8Bytes(request, RequestJsonContext.Default.RegisterBody);
        var (answer, _) = await ExchangeAsync(server, HttpMethod.Post, "/v1/apps", body, Signing.Identical, LedgerAnswerJsonContext.Default.RegistrationAnswer, cancellationToken, signer: credentials, handle: SignedRequest.NewHandle)
            .ConfigureAwait(false);
        if (answer.Handle != credentials.Handle)
        {
            throw new ProactiveVerificationException($"{server} registered the handle {answer.Handle}, not {credentials.Handle} (the handle of this name and instance).");
        }
    }

    /// <summary>
    /// Has the network key certify <paramref name="publicKey"/> (32 bytes: an Ed25519 or X25519 public key the
    /// instance made for this period) as this instance's key of the period the servers are in (toolkit 5.4).
    /// The certificate is checked here, under the trusted network key and over the statement rebuilt from
    /// what was asked, before it is returned.
    /// </summary>
    /// <exception cref="ArgumentException">A key that is not 32 bytes.</exception>
    /// <exception cref="ProactiveApiException"><c>not-signed</c> (the servers did not complete the signature; retry), <c>wrong-period</c> (the period changed twice while asking).</exception>
    /// <exception cref="ProactiveVerificationException">The certificate is not the network key's signature over this key, instance and period.</exception>
    public async Task<PeriodKeyCertificate> CertifyPeriodKeyAsync(ReadOnlyMemory<byte> publicKey, CancellationToken cancellationToken = default)
    {
        if (publicKey.Length != ApplicationPeriodKeys.KeyLength)
        {
            throw new ArgumentException($"A period key is {ApplicationPeriodKeys.KeyLength} bytes (an Ed25519 or X25519 public key).", nameof(publicKey));
        }

        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var networkKey = TrustedNetworkKey(cluster);
        PeriodKeyAnswer answer;
        ulong period;
        for (var attempt = 0; ; attempt++)
        {
            // The period the server is in now (the cluster description is kept, its period is not).
            period = (await SendAsync(_options.Server!, HttpMethod.Get, "/v1/cluster", null, signed: false, ClientJsonContext.Default.ClusterInfo, cancellationToken).ConfigureAwait(false)).Period;
            var body = JsonSerializer.SerializeToUtf8Bytes(new PeriodKeyRequestBody(Hex(publicKey.Span), period), CommunicationJsonContext.Default.PeriodKeyRequestBody);
            try
            {
                answer = await SendAsync(_options.Server!, HttpMethod.Post, ApplicationPeriodKeys.Path, body, signed: true, CommunicationJsonContext.Default.PeriodKeyAnswer, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (ProactiveApiException e) when (e.Code == "wrong-period" && attempt < 2)
            {
                // A refresh moved the servers on between the two requests: ask again for the new period.
            }
        }

        var certificate = new PeriodKeyCertificate(
            cluster.Network, cluster.Suite, answer.Period, answer.ApplicationId, answer.Instance, answer.PublicKey, answer.NetworkKey, answer.Statement, answer.Certificate);
        var networkKeyHex = Hex(networkKey.Encode());
        if (answer.Period != period || answer.Instance != credentials.Instance || answer.ApplicationId != Hex(credentials.ApplicationId) || answer.PublicKey != Hex(publicKey.Span))
        {
            throw new ProactiveVerificationException($"{_options.Server} certified another key, instance or period than the one asked for.");
        }

        return VerifyPeriodKey(certificate, networkKeyHex)
            ? certificate
            : throw new ProactiveVerificationException($"{_options.Server}'s period-key certificate does not verify under the network key {networkKeyHex}.");
    }

    /// <summary>
    /// Checks a period-key certificate offline, trusting nothing but <paramref name="networkKey"/> (lowercase
    /// hex): the statement is the one of its network, application, instance, period and key, and the
    /// certificate is the network key's signature over it. Never throws for a bad certificate.
    /// </summary>
    public static bool VerifyPeriodKey(PeriodKeyCertificate certificate, string networkKey)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(networkKey);
        if (certificate.NetworkKey != networkKey || certificate.Instance is < 0 or > ushort.MaxValue
            || !TryHex(certificate.Network, out var network) || network.Length != NetworkId.Length
            || !TryHex(certificate.ApplicationId, out var application) || application.Length != ApplicationRecord.IdLength
            || !TryHex(certificate.PublicKey, out var key) || key.Length != ApplicationPeriodKeys.KeyLength
            || !TryHex(networkKey, out var networkKeyBytes) || !TryHex(certificate.Certificate, out var signature))
        {
            return false;
        }

        var statement = ApplicationPeriodKeys.Statement(NetworkId.FromBytes(network), application, certificate.Instance, certificate.Period, key);
        return certificate.Statement == Hex(statement) && VerifySignature(certificate.Suite, networkKeyBytes, statement, signature);
    }

    /// <summary>
    /// Sends <paramref name="payload"/> (at most 64 KiB) to instance <paramref name="to"/> of this distributed
    /// application (toolkit 5.4 links): this instance's server relays the signed request over the servers'
    /// channels to server <paramref name="to"/>, which checks the signature itself and keeps the message
    /// until that instance receives it. At most once, in memory: a link, not storage.
    /// </summary>
    /// <exception cref="ArgumentException">A payload over 64 KiB, or an instance below 1.</exception>
    /// <exception cref="ProactiveApiException"><c>unknown-instance</c> (not registered), <c>no-link</c> (a centralized application has no other instance).</exception>
    public async Task SendLinkMessageAsync(int to, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(to, 1);
        if (payload.Length > MaxLinkPayload)
        {
            throw new ArgumentException($"A link message is at most {MaxLinkPayload} bytes.", nameof(payload));
        }

        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var body = JsonSerializer.SerializeToUtf8Bytes(new LinkSendBody(to, Convert.ToBase64String(payload.Span)), CommunicationJsonContext.Default.LinkSendBody);
        var answer = await SendAsync(InstanceServer(cluster, credentials.Instance), HttpMethod.Post, "/v1/links/messages", body, signed: true, CommunicationJsonContext.Default.LinkSentAnswer, cancellationToken)
            .ConfigureAwait(false);
        if (answer.Status != "relayed")
        {
            throw new ProactiveVerificationException($"The server answered '{answer.Status}', not 'relayed'.");
        }
    }

    /// <summary>The messages other instances sent this one, waiting at its server (each is received once), oldest first.</summary>
    public async Task<IReadOnlyList<LinkMessage>> ReceiveLinkMessagesAsync(CancellationToken cancellationToken = default)
    {
        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var server = InstanceServer(cluster, credentials.Instance);
        var answer = await SendAsync(server, HttpMethod.Get, "/v1/links/messages", null, signed: true, CommunicationJsonContext.Default.LinkMessagesAnswer, cancellationToken).ConfigureAwait(false);
        var messages = new List<LinkMessage>(answer.Messages.Count);
        foreach (var message in answer.Messages)
        {
            if (!TryBase64(message.Payload, out var payload))
            {
                throw new ProactiveVerificationException($"{server} handed over a link message whose payload is not base64.");
            }

            messages.Add(new LinkMessage(message.From, message.SentAt, payload));
        }

        return messages;
    }

    /// <summary>
    /// GenerateJointSecret with a random value (toolkit 5.3): the servers run a DKG, so nobody knows the value,
    /// and keep it refreshed every period; the application may rebuild it (<see cref="RetrieveJointSecretAsync"/>).
    /// It never signs. For a distributed application a quorum of instances must ask (until then: pending).
    /// </summary>
    /// <exception cref="ProactiveApiException"><c>already-exists</c>, <c>quota-exceeded</c>.</exception>
    public Task<ApplicationKey> GenerateJointSecretAsync(string id, CancellationToken cancellationToken = default) => GenerateAsync(JointSecretsCollection, id, cancellationToken);

    /// <summary>A joint secret as f+1 servers describe it: its public value g^x once generated.</summary>
    public Task<ApplicationKey> DescribeJointSecretAsync(string id, CancellationToken cancellationToken = default) => DescribeAsync(JointSecretsCollection, id, cancellationToken);

    /// <summary>
    /// GenerateJointSecret with a given value (toolkit 5.3): the client deals it to the servers itself, which is
    /// storing a <see cref="DataType.SecretSingle"/> secret (<see cref="StoreAsync"/>); it is refreshed every
    /// period and read back with <see cref="RetrieveAsync"/>.
    /// </summary>
    public Task<DataResult> StoreJointSecretAsync(string id, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        StoreAsync(id, value, DataType.SecretSingle, null, cancellationToken);

    /// <summary>
    /// Rebuilds a random joint secret: each server's share comes sealed to a one-time X25519 key of this call,
    /// with its sharing's Feldman commitments; every share is checked against them, the commitments' constant
    /// term must be the public value f+1 servers describe, and t+1 shares of one sharing are interpolated; the
    /// value is returned only once g^x equals the public value.
    /// </summary>
    /// <exception cref="ProactiveApiException">f+1 servers refused alike: <c>unknown-data</c> (no joint secret of this id).</exception>
    /// <exception cref="ProactiveVerificationException">No t+1 shares of one sharing verified.</exception>
    public async Task<JointSecret> RetrieveJointSecretAsync(string id, CancellationToken cancellationToken = default)
    {
        CheckEntry(id, 0);
        var credentials = RequireCredentials();
        var cluster = await GetClusterAsync(cancellationToken).ConfigureAwait(false);
        var group = TrustedNetworkKey(cluster).Suite.Group;
        string publicHex;
        for (var attempt = 0; ; attempt++)
        {
            var described = await DescribeJointSecretAsync(id, cancellationToken).ConfigureAwait(false);
            if (described.PublicKey is { } known)
            {
                publicHex = known;
                break;
            }

            if (attempt + 1 >= SettleAttempts)
            {
                throw new ProactiveApiException(_options.Server!, 503, "not-generated-yet", "Not generated yet", $"The joint secret '{id}' is still being generated.");
            }

            await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (!TryHex(publicHex, out var publicBytes) || !group.TryDecodeElement(publicBytes, out var publicValue))
        {
            throw new ProactiveVerificationException($"The servers describe '{id}' with a public value that is not a {group.Name} element.");
        }

        var failures = new Dictionary<int, string>();
        for (var attempt = 0; ; attempt++)
        {
            var rebuilt = await RebuildJointSecretAsync(cluster, credentials, group, id, publicHex, publicValue, failures, cancellationToken).ConfigureAwait(false);
            if (rebuilt is not null)
            {
                return rebuilt;
            }

            if (attempt + 1 >= SettleAttempts)
            {
                throw new ProactiveVerificationException($"No t+1 = {cluster.Threshold + 1} shares of one sharing of '{id}' verified against their commitments.", failures);
            }

            await Task.Delay(SettleDelay, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One round of share requests: the secret once t+1 verified shares of one sharing rebuild it; null when this round did not get there.</summary>
    private async Task<JointSecret?> RebuildJointSecretAsync(
        ClusterInfo cluster, ApplicationCredentials credentials, PrimeOrderGroup group, string id, string publicHex, Element publicValue, Dictionary<int, string> failures,
        CancellationToken cancellationToken)
    {
        var needed = cluster.Threshold + 1;
        using var recipient = HpkeBaseMode.GenerateKeyPair(SystemRandomSource.Instance);
        var path = $"{JointSecretsCollection}/{Uri.EscapeDataString(id)}/share?to={Hex(recipient.PublicKey.ToArray())}";
        var bySharing = new Dictionary<string, (FeldmanCommitment Commitment, Dictionary<int, Scalar> Shares)>(StringComparer.Ordinal);
        var refusals = new Dictionary<string, List<ProactiveApiException>>(StringComparer.Ordinal);
        var pending = new Queue<ClusterServerInfo>(PreferDiscovery(cluster));
        while (pending.Count > 0)
        {
            var best = bySharing.Values.Select(s => s.Shares.Count).DefaultIfEmpty(0).Max();
            if (best >= needed)
            {
                break;
            }

            var wave = Enumerable.Range(0, Math.Min(needed - best, pending.Count)).Select(_ => pending.Dequeue()).ToList();
            var answers = await Task.WhenAll(wave.Select(server => ShareOfAsync(server, path, CommunicationJsonContext.Default.JointShareAnswer, cancellationToken))).ConfigureAwait(false);
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

                var (share, commitment, reason) = VerifyJointShare(cluster, credentials, group, recipient, id, server, publicHex, publicValue, answer);
                if (reason is not null)
                {
                    failures[server] = reason;
                    continue;
                }

                // Shares combine only within one sharing, and one sharing has one set of commitments.
                var key = answer.Sharing + "/" + answer.Commitment;
                (bySharing.TryGetValue(key, out var entry) ? entry : bySharing[key] = (commitment!, [])).Shares[server] = share;
                failures.Remove(server);
            }
        }

        if (bySharing.FirstOrDefault(s => s.Value.Shares.Count >= needed) is { Key: { } chosen, Value: var (_, shares) })
        {
            var used = shares.Keys.Order().Take(needed).ToArray();
            var xs = used.Select(i => group.FromUInt64((ulong)i)).ToArray();
            var coefficients = Lagrange.Coefficients(group, xs, group.Zero);
            var value = group.Zero;
            for (var i = 0; i < used.Length; i++)
            {
                value = group.Add(value, group.Multiply(coefficients[i], shares[used[i]]));
            }

            if (group.MultiplyBase(value) != publicValue)
            {
                throw new ProactiveVerificationException($"t+1 shares of '{id}' that each verify rebuild a value whose g^x is not the public value: the commitments lie.", failures);
            }

            var encoded = new byte[group.ScalarLength];
            group.EncodeScalar(value, encoded);
            foreach (var server in shares.Keys.Except(used))
            {
                failures[server] = "its share was not needed";
            }

            return new JointSecret(id, cluster.Suite, encoded, publicHex, chosen[..chosen.IndexOf('/', StringComparison.Ordinal)], used, new Dictionary<int, string>(failures));
        }

        // The same refusal from f+1 servers while none gave a share is an honest server's answer (no such joint secret).
        if (bySharing.Count == 0 && refusals.FirstOrDefault(r => r.Key != "share-missing" && r.Value.Count >= cluster.Faults + 1) is { Value: { } agreed })
        {
            throw agreed[0];
        }

        return null;
    }

    /// <summary>One server's answer checked: its server and id, the commitments (degree t, constant term the public value), the share opened and checked against them; else the reason.</summary>
    private static (Scalar Share, FeldmanCommitment? Commitment, string? Reason) VerifyJointShare(
        ClusterInfo cluster, ApplicationCredentials credentials, PrimeOrderGroup group, HpkePrivateKey recipient, string id, int server, string publicHex, Element publicValue,
        JointShareAnswer answer)
    {
        if (answer.Server != server || answer.Id != id || answer.PublicKey != publicHex)
        {
            return (default, null, "its share is of another server or joint secret than f+1 servers describe");
        }

        if (!TryBase64(answer.Commitment, out var commitmentBytes) || !FeldmanCommitment.TryDecode(commitmentBytes, group, out var commitment, out CodecError _)
            || commitment.Degree != cluster.Threshold || commitment.ConstantTerm != publicValue)
        {
            return (default, null, "its commitments are not of degree t with the public value as constant term");
        }

        var info = DataKeySharing.JointSecretShareInfo(cluster.Network, credentials.Handle, id, server, answer.Sharing);
        if (!TryBase64(answer.Share, out var sealedBytes) || !HpkeSealedMessage.TryDecode(sealedBytes, out var sealedShare)
            || !HpkeBaseMode.TryOpen(ShareSuite, recipient, info, [], sealedShare, out var plain))
        {
            return (default, null, "its share does not open with this call's key");
        }

        try
        {
            return !group.TryDecodeScalar(plain, out var share) ? (default, null, "its share is not a scalar")
                : !commitment.VerifyShare(server, share) ? (default, null, "its share does not match its sharing's commitments")
                : (share, commitment, null);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>The API of the server instance <paramref name="instance"/> runs at (the discovery server for a centralized application's instance 0).</summary>
    private Uri InstanceServer(ClusterInfo cluster, int instance)
    {
        if (instance == 0)
        {
            return _options.Server!;
        }

        return cluster.Servers.FirstOrDefault(s => s.Id == instance) is { } info && ApiOf(info) is { } api
            ? api
            : throw new ProactiveUnavailableException(_options.Server!, $"server {instance} has no API (the server instance {instance} runs at)");
    }
}

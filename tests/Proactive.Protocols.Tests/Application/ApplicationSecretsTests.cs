using System.Globalization;
using System.Text;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Tests.Controller;

namespace Proactive.Protocols.Tests.Application;

/// <summary>
/// A client-dealt secret through the ledger and the refreshes: held as dealt until the refresh of the
/// period after next, then in the share vector, refreshed every period, and rebuilt by the client from
/// t + 1 shares of one sharing, also when a server never got its share and after a restart.
/// </summary>
public sealed class ApplicationSecretsTests
{
    internal const ulong PeriodMilliseconds = 60_000;
    internal static readonly ClusterParameters Parameters = ClusterParameters.Create(5, 2, 1);
    private static readonly PrimeOrderGroup Group = PrimeOrderGroup.Ed25519;

    [Fact]
    public void A_dealt_secret_joins_the_vector_is_refreshed_and_reconstructs_in_every_period()
    {
        using var net = NetworkInPeriodOne(seed: 31, secrets: 1);

        using var client = Ed25519PrivateKey.FromSeed(new byte[32]);
        var random = new DeterministicRandomSource(77);
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        var registration = Sign(client, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
            $"{{\"name\":\"vault\",\"uniqueId\":\"u\",\"publicKey\":\"{Convert.ToHexStringLower(client.PublicKey.Bytes)}\"}}", random);
        Submit(net, 1, registration);
        var appHex = Convert.ToHexStringLower(ApplicationState.CentralizedId("vault", "u"));
        var handle = Handles.Format(Convert.FromHexString(appHex), 0);

        var value = Encoding.UTF8.GetBytes("the launch codes");
        var dealing = new byte[DataRecord.DealingLength];
        random.Fill(dealing);
        var (key, shares) = DataKeySharing.Deal(Group, Parameters.ServerCount, Parameters.Threshold, random);
        var ciphertext = DataKeySharing.Encrypt(Group, key, appHex, "codes", dealing, value, random);
        foreach (var server in Parameters.Servers.Where(s => s != 5))
        {
            net.Run(server, _ => net.Controllers[server].AcceptDealtShare(appHex, dealing, shares[server - 1], out var accepted));
        }

        Submit(net, 2, Sign(client, network, handle, "POST", "/v1/data", 1,
            $"{{\"id\":\"codes\",\"type\":\"secret-single\",\"value\":\"{Convert.ToBase64String(ciphertext)}\",\"dealing\":\"{Convert.ToHexStringLower(dealing)}\"}}", random));
        Assert.All(net.Controllers.Values, c => Assert.Equal(c.Self == 5 ? 0 : 1, c.DealtShareCount));
        AssertReconstructs(net, appHex, value, expectedSharing: "dealt");

        RunPeriod(net, 2);
        AssertReconstructs(net, appHex, value, expectedSharing: "dealt");
        RunPeriod(net, 3);
        Assert.All(net.Controllers.Values, c => Assert.Equal(1UL, c.IncludedSecrets));

        // Server 5 never got its share: its vector is marked, and at the next period start it asks for recovery.
        var needs = false;
        net.Run(5, c =>
        {
            needs = net.Controllers[5].CheckStoredShares(c, net.Stores[5][ServerController.SharesKey], 4, out var check);
            return check;
        });
        Assert.True(needs);
        foreach (var server in Parameters.Servers.Where(s => s != 5))
        {
            var healthy = true;
            net.Run(server, c =>
            {
                healthy = !net.Controllers[server].CheckStoredShares(c, net.Stores[server][ServerController.SharesKey], 4, out var check);
                return check;
            });
            Assert.True(healthy);
        }

        Assert.All(net.Controllers.Values, c => Assert.Equal(0, c.DealtShareCount));
        Assert.All(net.Stores.Values, store => Assert.DoesNotContain(store.Keys, k => k.StartsWith(ServerController.DealtSharePrefix, StringComparison.Ordinal)));
        AssertReconstructs(net, appHex, value, expectedSharing: "p3");

        net.Restart(3, 3);
        net.Controllers[3].PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
        net.BeginPeriod(4, [5]);
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.CommittedPeriod == 4), TimeSpan.FromSeconds(30)),
            "period 4 did not commit everywhere: " + string.Join("; ", net.Controllers.Select(c => $"{c.Key}: {c.Value.CommittedPeriod} {string.Join(",", net.Events[c.Key].Where(e => e.Instance.Period == 4).Select(e => e.Event.GetType().Name + (e.Event is Proactive.Protocols.Machines.Alert a ? "(" + a.Detail + ")" : string.Empty)).Distinct())}")));
        AssertReconstructs(net, appHex, value, expectedSharing: "p4");
        var healed = net.Controllers[5].Ledger.State.Data(appHex, "codes")!;
        Assert.True(net.Controllers[5].TryGetSecretShare(appHex, healed, out var healedShare, out _));
        Assert.True(net.Controllers[1].TryGetSecretShare(appHex, healed, out var first, out _));
        Assert.True(net.Controllers[4].TryGetSecretShare(appHex, healed, out var fourth, out _));
        Assert.True(DataKeySharing.TryReconstruct(Group, Parameters.Threshold, new Dictionary<int, Scalar> { [1] = first, [4] = fourth, [5] = healedShare }, appHex, "codes", healed.Dealing, healed.Value, out var fromHealed, out _));
        Assert.Equal(value, fromHealed);

        // Server 2 loses its store: it recovers its shares (data keys too, without its digest) and fetches the application state.
        net.Stores[2].Clear();
        net.Restart(2, 4);
        net.Controllers[2].PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
        var state = net.Controllers[1].PublicState!;
        net.BeginPeriod(5, [2], 1, 3, 4, 5);
        net.Run(2, c => net.Controllers[2].BeginPeriod(c, 5, [2], state));
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.CommittedPeriod == 5), TimeSpan.FromSeconds(30)),
            "period 5 did not commit everywhere: " + string.Join("; ", net.Controllers.Select(c => $"{c.Key}: {c.Value.CommittedPeriod} {string.Join(",", net.Events[c.Key].Where(e => e.Instance.Period == 5).Select(e => e.Event.GetType().Name + (e.Event is Proactive.Protocols.Machines.Alert a ? "(" + a.Detail + ")" : string.Empty)).Distinct())}")));
        Assert.True(net.RunUntil(() => net.Controllers[2].Ledger.State.Data(appHex, "codes") is not null, TimeSpan.FromSeconds(10)), $"server 2 did not fetch the application state: syncing {net.Controllers[2].IsSyncingLedger}, ledger {net.Controllers[2].Ledger.Period}/{net.Controllers[2].Ledger.NextSequence}, current {net.Controllers[2].IsLedgerCurrent}, progress {net.Controllers[2].LedgerSyncProgress} period {net.Controllers[2].CurrentPeriod}, peers {net.Controllers[1].Ledger.Period}/{net.Controllers[1].Ledger.NextSequence}");
        var record = net.Controllers[2].Ledger.State.Data(appHex, "codes")!;
        Assert.Contains(net.EventsOf<LedgerStateInstalled>(2), e => e.Period >= 4); // the node rebuilds its directory of instances on it
        Assert.True(net.Controllers[2].TryGetSecretShare(appHex, record, out var recovered, out var sharing));
        Assert.Equal("p5", sharing);
        Assert.True(net.Controllers[1].TryGetSecretShare(appHex, record, out _, out _));
        AssertReconstructs(net, appHex, value, expectedSharing: "p5");
        var only = new Dictionary<int, Scalar> { [2] = recovered };
        foreach (var server in new[] { 3, 4 })
        {
            Assert.True(net.Controllers[server].TryGetSecretShare(appHex, record, out var share, out _));
            only[server] = share;
        }

        // The recovered share is a right one: it rebuilds the key with two others.
        Assert.True(DataKeySharing.TryReconstruct(Group, Parameters.Threshold, only, appHex, "codes", record.Dealing, record.Value, out var opened, out _));
        Assert.Equal(value, opened);
    }

    [Fact]
    public void A_batch_of_secrets_dealt_in_bulk_is_stored_at_once_and_joins_the_vector()
    {
        using var net = NetworkInPeriodOne(seed: 34);
        using var client = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)5, 32).ToArray());
        var random = new DeterministicRandomSource(80);
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        Submit(net, 1, Sign(client, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
            $"{{\"name\":\"bulk\",\"uniqueId\":\"u\",\"publicKey\":\"{Convert.ToHexStringLower(client.PublicKey.Bytes)}\"}}", random));
        var appHex = Convert.ToHexStringLower(ApplicationState.CentralizedId("bulk", "u"));
        var handle = Handles.Format(Convert.FromHexString(appHex), 0);
        var perServer = Parameters.Servers.ToDictionary(s => s, _ => new List<(byte[], Scalar)>());
        var entries = new List<string>();
        var values = new Dictionary<string, byte[]>();
        for (var i = 0; i < 3; i++)
        {
            var dealing = new byte[DataRecord.DealingLength];
            random.Fill(dealing);
            var (key, shares) = DataKeySharing.Deal(Group, Parameters.ServerCount, Parameters.Threshold, random);
            var value = Encoding.UTF8.GetBytes($"secret number {i}");
            values[$"s{i}"] = value;
            var ciphertext = DataKeySharing.Encrypt(Group, key, appHex, $"s{i}", dealing, value, random);
            foreach (var server in Parameters.Servers)
            {
                perServer[server].Add((dealing, shares[server - 1]));
            }

            entries.Add($"{{\"id\":\"s{i}\",\"type\":\"secret-single\",\"value\":\"{Convert.ToBase64String(ciphertext)}\",\"dealing\":\"{Convert.ToHexStringLower(dealing)}\"}}");
        }

        foreach (var server in Parameters.Servers)
        {
            net.Run(server, _ => net.Controllers[server].AcceptDealtShares(appHex, perServer[server], out var accepted));
            Assert.Equal(3, net.Controllers[server].DealtShareCount);
        }

        Submit(net, 4, Sign(client, network, handle, "POST", "/v1/data/batch", 1, $"{{\"entries\":[{string.Join(",", entries)}]}}", random));
        Assert.All(net.Controllers.Values, c => Assert.Equal(3, c.Ledger.State.DataCount));
        RunPeriod(net, 2);
        RunPeriod(net, 3);
        Assert.All(net.Controllers.Values, c => Assert.Equal(3UL, c.IncludedSecrets));
        foreach (var (id, value) in values)
        {
            var shares = new Dictionary<int, Scalar>();
            DataRecord? record = null;
            foreach (var (server, controller) in net.Controllers)
            {
                record = controller.Ledger.State.Data(appHex, id)!;
                Assert.True(controller.TryGetSecretShare(appHex, record, out var share, out var sharing));
                Assert.Equal("p3", sharing);
                shares[server] = share;
            }

            Assert.True(DataKeySharing.TryReconstruct(Group, Parameters.Threshold, shares, appHex, id, record!.Dealing, record.Value, out var opened, out _));
            Assert.Equal(value, opened);
        }
    }

    [Fact]
    public void Instances_of_a_distributed_application_send_each_other_messages_over_the_servers_channels()
    {
        using var net = NetworkInPeriodOne(seed: 35);
        var random = new DeterministicRandomSource(81);
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        var verifier = Convert.ToHexStringLower(Enumerable.Repeat((byte)0x42, 32).ToArray());
        using var first = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray());
        using var second = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)2, 32).ToArray());
        foreach (var (instance, key) in new[] { (1, first), (2, second) })
        {
            Submit(net, instance, Sign(key, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
                $"{{\"name\":\"pair\",\"password\":\"{verifier}\",\"instance\":{instance},\"publicKey\":\"{Convert.ToHexStringLower(key.PublicKey.Bytes)}\"}}", random));
        }

        var appId = ApplicationState.DistributedId("pair");
        var send = Sign(first, network, Handles.Format(appId, 1), "POST", "/v1/links/messages", 1, $"{{\"to\":2,\"payload\":\"{Convert.ToBase64String("hello, instance 2"u8)}\"}}", random);
        string problem = string.Empty;
        net.Run(1, c => net.Controllers[1].RelayLinkMessage(c, send, out problem));
        Assert.Equal(string.Empty, problem);
        Assert.True(net.RunUntil(() => net.EventsOf<LinkMessageArrived>(2).Any(), TimeSpan.FromSeconds(5)));
        var arrived = net.EventsOf<LinkMessageArrived>(2).Single();
        Assert.Equal((1, 2), (arrived.From, arrived.To));
        Assert.Equal("hello, instance 2"u8.ToArray(), arrived.Payload);

        // Signed by instance 2's key but naming instance 1's handle: refused, nothing relayed.
        var forged = Sign(second, network, Handles.Format(appId, 1), "POST", "/v1/links/messages", 1, $"{{\"to\":2,\"payload\":\"AA==\"}}", random);
        net.Run(1, c => net.Controllers[1].RelayLinkMessage(c, forged, out problem));
        Assert.StartsWith("the request is not signed", problem, StringComparison.Ordinal);
        var toNobody = Sign(first, network, Handles.Format(appId, 1), "POST", "/v1/links/messages", 1, $"{{\"to\":3,\"payload\":\"AA==\"}}", random);
        net.Run(1, c => net.Controllers[1].RelayLinkMessage(c, toNobody, out problem));
        Assert.StartsWith("instance 3", problem, StringComparison.Ordinal);
        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Single(net.EventsOf<LinkMessageArrived>(2));
    }

    [Fact]
    public void A_generated_key_has_shares_of_its_public_key_before_and_after_it_joins_the_vector()
    {
        using var net = NetworkInPeriodOne(seed: 32, secrets: 2);
        using var client = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray());
        var random = new DeterministicRandomSource(78);
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        Submit(net, 1, Sign(client, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
            $"{{\"name\":\"signer\",\"uniqueId\":\"u\",\"publicKey\":\"{Convert.ToHexStringLower(client.PublicKey.Bytes)}\"}}", random));
        var handle = Handles.Format(ApplicationState.CentralizedId("signer", "u"), 0);
        Submit(net, 3, Sign(client, network, handle, "POST", "/v1/keys", 1, "{\"id\":\"k1\"}", random));
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.AppKeyPublicKey(0) is not null), TimeSpan.FromSeconds(20)), "the key's DKG did not complete");
        var publicKey = net.Controllers[1].AppKeyPublicKey(0)!.Value;
        Assert.All(net.Controllers.Values, c => Assert.Equal(publicKey, c.AppKeyPublicKey(0)!.Value));
        AssertKeyShares(net, publicKey, "dkg");

        AssertSigns(net, client, network, handle, random, coordinator: 2, "before the key joins the vector");
        net.Silent.Add(4);
        AssertSigns(net, client, network, handle, random, coordinator: 5, "with a silent server");
        net.Silent.Remove(4);

        // GenerateJointSecret (random value): the same DKG; its shares rebuild it, and it never signs.
        Submit(net, 2, Sign(client, network, handle, "POST", "/v1/joint-secrets", 1, "{\"id\":\"j1\"}", random));
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.AppKeyPublicKey(1) is not null), TimeSpan.FromSeconds(20)), "the joint secret's DKG did not complete");
        AssertKeyShares(net, net.Controllers[1].AppKeyPublicKey(1)!.Value, "dkg", ordinal: 1);
        var signJoint = Sign(client, network, handle, "POST", "/v1/keys/j1/sign", 1, $"{{\"message\":\"{Convert.ToBase64String("x"u8)}\"}}", random);
        string jointProblem = string.Empty;
        net.Run(1, c => net.Controllers[1].StartAppSigning(c, signJoint, out _, out jointProblem));
        Assert.StartsWith("no key", jointProblem, StringComparison.Ordinal);

        // A per-period key of the instance, certified by the network key (toolkit 5.4).
        using var periodKey = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)8, 32).ToArray());
        var certify = Sign(client, network, handle, "POST", ApplicationPeriodKeys.Path, 1,
            $"{{\"publicKey\":\"{Convert.ToHexStringLower(periodKey.PublicKey.Bytes)}\",\"period\":1}}", random);
        string refused = string.Empty;
        net.Run(4, c => net.Controllers[4].StartAppSigning(c, certify, out _, out refused));
        Assert.Equal(string.Empty, refused);
        Assert.True(net.RunUntil(() => net.EventsOf<AppSignatureProduced>(4).Any(e => e.RequestId.SequenceEqual(certify.Id)), TimeSpan.FromSeconds(10)));
        var certificate = net.EventsOf<AppSignatureProduced>(4).Single(e => e.RequestId.SequenceEqual(certify.Id));
        var networkKey = net.Controllers[1].PublicState!.SigningKeyCommitments[0].ConstantTerm;
        Assert.Equal(Group.EncodeElement(networkKey), certificate.PublicKey);
        var statement = ApplicationPeriodKeys.Statement(Proactive.Protocols.Envelopes.NetworkId.FromBytes(Convert.FromHexString(network)), ApplicationState.CentralizedId("signer", "u"), 0, 1, periodKey.PublicKey.Bytes);
        Assert.True(Ed25519PublicKey.Decode(certificate.PublicKey).Verify(statement, certificate.Signature));
        var stale = Sign(client, network, handle, "POST", ApplicationPeriodKeys.Path, 1,
            $"{{\"publicKey\":\"{Convert.ToHexStringLower(periodKey.PublicKey.Bytes)}\",\"period\":7}}", random);
        net.Run(4, c => net.Controllers[4].StartAppSigning(c, stale, out _, out refused));
        Assert.Contains("not 7", refused, StringComparison.Ordinal);

        RunPeriod(net, 2);
        RunPeriod(net, 3);
        Assert.All(net.Controllers.Values, c => Assert.Equal(2UL, c.IncludedKeys));
        AssertSigns(net, client, network, handle, random, coordinator: 1, "after the key joined the vector");
        AssertKeyShares(net, publicKey, "p3");
        Assert.All(net.Controllers.Values, c => Assert.Equal(publicKey, c.AppKeyPublicKey(0)!.Value));
        RunPeriod(net, 4);
        AssertKeyShares(net, publicKey, "p4");
        Assert.All(net.Controllers.Values, c => Assert.Equal(3, c.PublicState!.SigningKeyCount));
        AssertKeyShares(net, net.Controllers[1].AppKeyPublicKey(1)!.Value, "p4", ordinal: 1);
    }

    [Fact]
    public void A_server_far_behind_on_the_ledger_fetches_the_state_from_its_peers_and_follows_again()
    {
        using var net = NetworkInPeriodOne(seed: 33, secrets: 1);
        using var client = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)9, 32).ToArray());
        var random = new DeterministicRandomSource(79);
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        Submit(net, 1, Sign(client, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
            $"{{\"name\":\"busy\",\"uniqueId\":\"u\",\"publicKey\":\"{Convert.ToHexStringLower(client.PublicKey.Bytes)}\"}}", random));
        var handle = Handles.Format(ApplicationState.CentralizedId("busy", "u"), 0);

        // Server 5 hears nothing while the others decide far more instances than they keep for laggards.
        net.Silent.Add(5);
        var others = net.Controllers.Where(c => c.Key != 5).Select(c => c.Value).ToList();
        for (var i = 0; i < ServerController.RetainedLedgerInstances + ServerController.LedgerLookahead + 4; i++)
        {
            var request = Sign(client, network, handle, "POST", "/v1/data", 1, $"{{\"id\":\"e{i}\",\"type\":\"public-write-once\",\"value\":\"AA==\"}}", random);
            SubmitOutcome outcome = default;
            net.Run(1, c => net.Controllers[1].SubmitRequest(c, request, out outcome));
            Assert.True(net.RunUntil(() => others.All(c => c.Ledger.State.WasApplied(request.Id)), TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(0, net.Controllers[5].Ledger.State.DataCount);
        net.Silent.Remove(5);
        Submit(net, 2, Sign(client, network, handle, "POST", "/v1/data", 1, "{\"id\":\"after\",\"type\":\"public-write-once\",\"value\":\"AQ==\"}", random));
        Assert.True(net.RunUntil(() => net.Controllers[5].Ledger.State.Data(Convert.ToHexStringLower(ApplicationState.CentralizedId("busy", "u")), "after") is not null, TimeSpan.FromSeconds(20)), "server 5 did not catch up");
        Assert.True(net.RunUntil(() => net.Controllers[5].Ledger.NextSequence == net.Controllers[1].Ledger.NextSequence, TimeSpan.FromSeconds(5)));
        Assert.Equal(Convert.ToHexStringLower(net.Controllers[1].Ledger.State.Digest()), Convert.ToHexStringLower(net.Controllers[5].Ledger.State.Digest()));
    }

    private static void AssertSigns(ControllerTestNetwork net, Ed25519PrivateKey client, string network, string handle, DeterministicRandomSource random, int coordinator, string when)
    {
        var message = Encoding.UTF8.GetBytes($"sign me {when}");
        var request = Sign(client, network, handle, "POST", "/v1/keys/k1/sign", net.Controllers[coordinator].CurrentPeriod,
            $"{{\"message\":\"{Convert.ToBase64String(message)}\"}}", random);
        string problem = string.Empty;
        net.Run(coordinator, c => net.Controllers[coordinator].StartAppSigning(c, request, out _, out problem));
        Assert.Equal(string.Empty, problem);
        Assert.True(net.RunUntil(() => net.EventsOf<AppSignatureProduced>(coordinator).Any(e => e.RequestId.SequenceEqual(request.Id)), TimeSpan.FromSeconds(10)), $"no signature {when}");
        var produced = net.EventsOf<AppSignatureProduced>(coordinator).Single(e => e.RequestId.SequenceEqual(request.Id));
        // A standard Ed25519 verifier (libsodium's crypto_sign_verify_detached) accepts it.
        Assert.True(Ed25519PublicKey.Decode(produced.PublicKey).Verify(message, produced.Signature), $"the signature {when} does not verify");
    }

    private static void AssertKeyShares(ControllerTestNetwork net, Element publicKey, string expectedSharing, ulong ordinal = 0)
    {
        var shares = new Dictionary<int, Scalar>();
        foreach (var (server, controller) in net.Controllers)
        {
            Assert.True(controller.TryGetAppKeyShare(ordinal, out var share, out var commitment, out var sharing));
            Assert.Equal(expectedSharing, sharing);
            Assert.True(commitment!.VerifyShare(server, share));
            Assert.Equal(publicKey, commitment.ConstantTerm);
            shares[server] = share;
        }

        var chosen = shares.Keys.Order().Take(Parameters.Threshold + 1).ToArray();
        var coefficients = Lagrange.Coefficients(Group, chosen.Select(i => Group.FromUInt64((ulong)i)).ToArray(), Group.Zero);
        var secret = Group.Zero;
        for (var i = 0; i < chosen.Length; i++)
        {
            secret = Group.Add(secret, Group.Multiply(coefficients[i], shares[chosen[i]]));
        }

        Assert.Equal(publicKey, Group.MultiplyBase(secret));
    }

    [Fact]
    public void Shares_carried_in_the_store_request_are_kept_where_it_is_applied_and_only_for_the_ledger_period()
    {
        using var net = NetworkInPeriodOne(seed: 37, secrets: 1);

        using var client = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)3, 32).ToArray());
        var random = new DeterministicRandomSource(78);
        var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
        Submit(net, 1, Sign(client, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
            $"{{\"name\":\"vault\",\"uniqueId\":\"u\",\"publicKey\":\"{Convert.ToHexStringLower(client.PublicKey.Bytes)}\"}}", random));
        var appHex = Convert.ToHexStringLower(ApplicationState.CentralizedId("vault", "u"));
        var handle = Handles.Format(Convert.FromHexString(appHex), 0);

        var value = Encoding.UTF8.GetBytes("carried with the request");
        var dealing = new byte[DataRecord.DealingLength];
        random.Fill(dealing);
        var (key, shares) = DataKeySharing.Deal(Group, Parameters.ServerCount, Parameters.Threshold, random);
        var ciphertext = Convert.ToBase64String(DataKeySharing.Encrypt(Group, key, appHex, "codes", dealing, value, random));
        var info = DataKeySharing.DealtShareInfo(network, handle, dealing);

        // Share i sealed to the key of period `period` of server sealedTo(i).
        string Body(ulong period, Func<int, int> sealedTo, int count) => $"{{\"id\":\"codes\",\"type\":\"secret-single\",\"value\":\"{ciphertext}\",\"dealing\":\"{Convert.ToHexStringLower(dealing)}\",\"sharesPeriod\":{period},\"shares\":["
            + string.Join(',', Parameters.Servers.Take(count).Select(server =>
            {
                var encoded = new byte[Group.ScalarLength];
                Group.EncodeScalar(shares[server - 1], encoded);
                var to = net.Controllers[sealedTo(server)].PeriodKeysOf(period)!.Encryption.PublicKey;
                return $"\"{Convert.ToBase64String(HpkeBaseMode.Seal(HpkeSuite.X25519Sha256ChaCha20Poly1305, to, info, [], encoded, random).Encode())}\"";
            })) + "]}";

        // Sealed to the keys of period 0 but agreed in period 1's ledger: refused everywhere, nothing kept.
        Submit(net, 2, Sign(client, network, handle, "POST", "/v1/data", 1, Body(0, s => s, Parameters.ServerCount), random));
        // One share short: refused as malformed.
        Submit(net, 3, Sign(client, network, handle, "POST", "/v1/data", 1, Body(1, s => s, Parameters.ServerCount - 1), random));
        Assert.All(net.Controllers.Values, c =>
        {
            Assert.Null(c.Ledger.State.Data(appHex, "codes"));
            Assert.Equal(0, c.DealtShareCount);
        });
        Assert.All(net.Controllers.Keys, s => Assert.Contains(net.EventsOf<LedgerRequestApplied>(s), e => e.Result.Problem == "stale-period"));

        // Server 5's share sealed to server 4's key: the others keep theirs, durable with the entry; server 5 holds none.
        Submit(net, 4, Sign(client, network, handle, "POST", "/v1/data", 1, Body(1, s => s == 5 ? 4 : s, Parameters.ServerCount), random));
        foreach (var (server, controller) in net.Controllers)
        {
            Assert.NotNull(controller.Ledger.State.Data(appHex, "codes"));
            Assert.Equal(server == 5 ? 0 : 1, controller.DealtShareCount);
            Assert.Equal(server != 5, net.Stores[server].Keys.Any(k => k.StartsWith(ServerController.DealtSharePrefix + appHex, StringComparison.Ordinal)));
        }

        AssertReconstructs(net, appHex, value, expectedSharing: "dealt");
    }

    /// <summary>A network on the period schedule, past its network key's DKG (with room for <paramref name="secrets"/>) and the commit of period 1.</summary>
    private static ControllerTestNetwork NetworkInPeriodOne(ulong seed, int secrets = 0)
    {
        var net = new ControllerTestNetwork(Parameters, seed: seed);
        try
        {
            foreach (var controller in net.Controllers.Values)
            {
                controller.PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
            }

            net.RunNetworkKeyDkg(secrets: secrets);
            RunPeriod(net, 1);
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    internal static void RunPeriod(ControllerTestNetwork net, ulong period)
    {
        net.BeginPeriod(period, []);
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.CommittedPeriod == period), TimeSpan.FromSeconds(30)), $"period {period} did not commit everywhere");
    }

    internal static void Submit(ControllerTestNetwork net, int server, SignedRequest request)
    {
        SubmitOutcome outcome = default;
        net.Run(server, c => net.Controllers[server].SubmitRequest(c, request, out outcome));
        Assert.Equal(SubmitOutcome.Accepted, outcome);
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.Ledger.State.WasApplied(request.Id)), TimeSpan.FromSeconds(10)), "the request was not applied everywhere");
    }

    private static void AssertReconstructs(ControllerTestNetwork net, string appHex, byte[] value, string expectedSharing)
    {
        var bySharing = new Dictionary<string, Dictionary<int, Scalar>>();
        DataRecord? record = null;
        foreach (var (server, controller) in net.Controllers)
        {
            record = controller.Ledger.State.Data(appHex, "codes");
            Assert.NotNull(record);
            if (controller.TryGetSecretShare(appHex, record, out var share, out var sharing))
            {
                (bySharing.TryGetValue(sharing, out var shares) ? shares : bySharing[sharing] = [])[server] = share;
            }
        }

        Assert.Equal([expectedSharing], bySharing.Keys);
        Assert.True(DataKeySharing.TryReconstruct(Group, Parameters.Threshold, bySharing[expectedSharing], appHex, "codes", record!.Dealing, record.Value, out var opened, out _));
        Assert.Equal(value, opened);
    }

    internal static SignedRequest Sign(Ed25519PrivateKey key, string network, string handle, string method, string path, ulong period, string body, DeterministicRandomSource random)
    {
        var nonce = new byte[SignedRequest.NonceLength];
        random.Fill(nonce);
        var timestamp = (period * PeriodMilliseconds) + 1000;
        var bytes = Encoding.UTF8.GetBytes(body);
        var signed = Proactive.Protocols.Services.ApplicationRequestSigning.SigningBytes(network, handle, method, path, timestamp.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(nonce), bytes);
        return new SignedRequest(handle, method, path, timestamp, nonce, bytes, key.Sign(signed));
    }
}

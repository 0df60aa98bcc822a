using System.Globalization;
using System.Text;
using Proactive.Crypto.Groups;
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
    private const ulong PeriodMilliseconds = 60_000;
    private static readonly ClusterParameters Parameters = ClusterParameters.Create(5, 2, 1);
    private static readonly PrimeOrderGroup Group = PrimeOrderGroup.Ed25519;

    [Fact]
    public void A_dealt_secret_joins_the_vector_is_refreshed_and_reconstructs_in_every_period()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 31);
        foreach (var controller in net.Controllers.Values)
        {
            controller.PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
        }

        net.RunNetworkKeyDkg(secrets: 1);
        RunPeriod(net, 1);

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
    public void A_generated_key_has_shares_of_its_public_key_before_and_after_it_joins_the_vector()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 32);
        foreach (var controller in net.Controllers.Values)
        {
            controller.PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
        }

        net.RunNetworkKeyDkg(secrets: 2);
        RunPeriod(net, 1);
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

        RunPeriod(net, 2);
        RunPeriod(net, 3);
        Assert.All(net.Controllers.Values, c => Assert.Equal(1UL, c.IncludedKeys));
        AssertSigns(net, client, network, handle, random, coordinator: 1, "after the key joined the vector");
        AssertKeyShares(net, publicKey, "p3");
        Assert.All(net.Controllers.Values, c => Assert.Equal(publicKey, c.AppKeyPublicKey(0)!.Value));
        RunPeriod(net, 4);
        AssertKeyShares(net, publicKey, "p4");
        Assert.All(net.Controllers.Values, c => Assert.Equal(2, c.PublicState!.SigningKeyCount));
    }

    [Fact]
    public void A_server_far_behind_on_the_ledger_fetches_the_state_from_its_peers_and_follows_again()
    {
        using var net = new ControllerTestNetwork(Parameters, seed: 33);
        foreach (var controller in net.Controllers.Values)
        {
            controller.PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
        }

        net.RunNetworkKeyDkg(secrets: 1);
        RunPeriod(net, 1);
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

    private static void AssertKeyShares(ControllerTestNetwork net, Element publicKey, string expectedSharing)
    {
        var shares = new Dictionary<int, Scalar>();
        foreach (var (server, controller) in net.Controllers)
        {
            Assert.True(controller.TryGetAppKeyShare(0, out var share, out var commitment, out var sharing));
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

    private static void RunPeriod(ControllerTestNetwork net, ulong period)
    {
        net.BeginPeriod(period, []);
        Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.CommittedPeriod == period), TimeSpan.FromSeconds(30)), $"period {period} did not commit everywhere");
    }

    private static void Submit(ControllerTestNetwork net, int server, SignedRequest request)
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

    private static SignedRequest Sign(Ed25519PrivateKey key, string network, string handle, string method, string path, ulong period, string body, DeterministicRandomSource random)
    {
        var nonce = new byte[SignedRequest.NonceLength];
        random.Fill(nonce);
        var timestamp = (period * PeriodMilliseconds) + 1000;
        var bytes = Encoding.UTF8.GetBytes(body);
        var signed = SignedRequest.SignedBytes(network, handle, method, path, timestamp.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(nonce), bytes);
        return new SignedRequest(handle, method, path, timestamp, nonce, bytes, key.Sign(signed));
    }
}

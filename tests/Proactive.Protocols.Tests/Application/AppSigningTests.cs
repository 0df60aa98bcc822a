using System.Buffers;
using System.Text;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Tests.Controller;
using static Proactive.Protocols.Tests.Application.ApplicationSecretsTests;

namespace Proactive.Protocols.Tests.Application;

/// <summary>
/// Signing with an application's key in one round: signers' commitments made in advance, a nonce pair
/// signing once, a bad share named, a signer that lost its pairs (restart) taken back after it starts over.
/// </summary>
public sealed class AppSigningTests
{
    private static readonly Ciphersuite Suite = Ciphersuite.Ed25519;

    [Fact]
    public void After_the_first_session_a_signature_takes_one_package_and_one_answer_per_signer()
    {
        using var setup = SigningNetwork.Create(seed: 41);
        var first = setup.Sign(coordinator: 1, "warm up");
        Assert.True(Verifies(first, "warm up"));

        var deliveredBefore = setup.Net.Delivered.Count;
        var second = setup.Sign(coordinator: 1, "one round");
        Assert.True(Verifies(second, "one round"));
        var session = setup.Net.Delivered.Skip(deliveredBefore).Where(d => d.Instance == second.Instance).ToList();
        Assert.Equal(2 * Parameters.Threshold, session.Count);
        Assert.All(session, d => Assert.Equal(AppSigningMachine.SignRound, d.Message.Round));
        Assert.Equal(Parameters.Threshold, session.Count(d => d.From == 1 && d.Message.Type == AppSigningMachine.RequestType));
        Assert.Equal(Parameters.Threshold, session.Count(d => d.To == 1 && d.Message.Type == AppSigningMachine.ReplyType));
        Assert.Equal(Parameters.ReconstructionThreshold, second.Signers.Count);
        Assert.Contains(1, second.Signers);
    }

    [Fact]
    public void A_batch_request_gets_one_signature_per_message_in_one_session()
    {
        using var setup = SigningNetwork.Create(seed: 47);
        var messages = Enumerable.Range(0, 40).Select(i => $"batch message {i}").ToList();
        var produced = setup.SignBatch(coordinator: 3, messages);
        Assert.Equal(messages.Count, produced.Signatures.Count);
        var key = Ed25519PublicKey.Decode(produced.PublicKey);
        Assert.All(messages.Zip(produced.Signatures), pair => Assert.True(key.Verify(Encoding.UTF8.GetBytes(pair.First), pair.Second)));

        // A bad share in a batch is named as well, and the batch still gets signed.
        setup.Net.Interceptor = (from, to, instance, message) =>
            from == 5 && instance.Protocol == ProtocolKind.AppSigning && message.Type == AppSigningMachine.ReplyType ? Corrupted(message) : message;
        for (var i = 0; i < 3; i++)
        {
            var again = setup.SignBatch(coordinator: 3, messages.Take(5).Select(m => m + $" again {i}").ToList());
            Assert.Equal(5, again.Signatures.Count);
        }

        Assert.Contains(setup.Net.EventsOf<Alert>(3), a => a.Type == AlertType.InvalidSignatureShare && a.Culprit == 5);
    }

    [Fact]
    public void Concurrent_batches_after_single_signatures_all_get_signed()
    {
        using var setup = SigningNetwork.Create(seed: 48);
        for (var i = 0; i < 3; i++)
        {
            setup.Sign(coordinator: 1, $"warm {i}");
        }

        var ids = new List<byte[]>();
        for (var b = 0; b < 3; b++)
        {
            ids.Add(setup.StartBatch(coordinator: 1, [.. Enumerable.Range(0, 64).Select(i => $"batch {b} message {i}")]));
        }

        Assert.True(setup.Net.RunUntil(() => ids.All(id => setup.Net.EventsOf<AppSignatureProduced>(1).Any(e => e.RequestId.SequenceEqual(id)) || setup.Net.EventsOf<AppSigningFailed>(1).Any(e => e.RequestId.SequenceEqual(id))), TimeSpan.FromSeconds(20)));
        Assert.Empty(setup.Net.EventsOf<AppSigningFailed>(1).Select(f => f.Reason));
    }

    [Theory]
    [InlineData("{\"messages\":[]}")]
    [InlineData("{\"messages\":\"AA==\"}")]
    [InlineData("{\"messages\":[1]}")]
    [InlineData("{\"messages\":[\"not base64!\"]}")]
    [InlineData("{\"message\":\"AA==\"}")]
    [InlineData("{\"messages\":[\"AA==\"],\"extra\":1}")]
    [InlineData("[\"AA==\"]")]
    [InlineData("{\"messages\":[\"AA==\"]")]
    public void A_malformed_batch_request_is_refused_with_the_shape_it_takes_and_starts_no_session(string body)
    {
        using var setup = SigningNetwork.Create(seed: 49);
        var problem = setup.TryStart(coordinator: 2, "/v1/keys/k1/sign-batch", body);
        Assert.StartsWith("the body is not { \"messages\": [1 to 256 base64 strings] }", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(setup.Net.Delivered, d => d.Instance.Protocol == ProtocolKind.AppSigning);
    }

    [Fact]
    public void A_batch_of_more_than_256_messages_is_refused()
    {
        using var setup = SigningNetwork.Create(seed: 50);
        var body = $"{{\"messages\":[{string.Join(',', Enumerable.Repeat("\"AA==\"", KeyRecord.MaxBatchMessages + 1))}]}}";
        Assert.StartsWith("the body is not", setup.TryStart(coordinator: 1, "/v1/keys/k1/sign-batch", body), StringComparison.Ordinal);
        var unknownKey = setup.TryStart(coordinator: 1, "/v1/keys/nope/sign-batch", "{\"messages\":[\"AA==\"]}");
        Assert.StartsWith("no key 'nope'", unknownKey, StringComparison.Ordinal);
    }

    [Fact]
    public void Sessions_spread_over_every_signer()
    {
        using var setup = SigningNetwork.Create(seed: 42);
        var signers = new HashSet<int>();
        for (var i = 0; i < 8; i++)
        {
            var produced = setup.Sign(coordinator: 2, $"message {i}");
            Assert.True(Verifies(produced, $"message {i}"));
            signers.UnionWith(produced.Signers);
        }

        Assert.Equal(Parameters.Servers.ToHashSet(), signers);
    }

    [Fact]
    public void A_signer_that_sends_a_bad_share_is_named_and_the_signature_still_comes()
    {
        using var setup = SigningNetwork.Create(seed: 43);
        setup.Net.Interceptor = (from, to, instance, message) =>
            from == 3 && instance.Protocol == ProtocolKind.AppSigning && message.Type == AppSigningMachine.ReplyType ? Corrupted(message) : message;
        for (var i = 0; i < 4; i++)
        {
            Assert.True(Verifies(setup.Sign(coordinator: 1, $"bad share {i}"), $"bad share {i}"));
        }

        var alerts = setup.Net.EventsOf<Alert>(1).Where(a => a.Type == AlertType.InvalidSignatureShare).ToList();
        Assert.NotEmpty(alerts);
        Assert.All(alerts, a => Assert.Equal(3, a.Culprit));
        Assert.All(alerts, a => Assert.NotEmpty(a.Evidence));
    }

    [Fact]
    public void A_replayed_package_is_refused_because_its_nonce_pair_signed_once()
    {
        using var setup = SigningNetwork.Create(seed: 44);
        var produced = setup.Sign(coordinator: 4, "only once");
        var package = setup.Net.Delivered.First(d => d.Instance == produced.Instance && d.From == 4 && d.Message.Type == AppSigningMachine.RequestType);
        var before = setup.Net.Delivered.Count;

        setup.Net.Inject(4, package.To, package.Instance, package.Message);
        setup.Net.RunFor(TimeSpan.FromMilliseconds(200));

        var answer = Assert.Single(setup.Net.Delivered.Skip(before), d => d.From == package.To && d.Instance == produced.Instance);
        Assert.Equal(AppSigningMachine.RefusalType, answer.Message.Type);
        Assert.Contains(AppSigningMachine.UnknownNoncePrefix, Encoding.UTF8.GetString(answer.Message.Payload), StringComparison.Ordinal);
    }

    [Fact]
    public void A_signer_that_restarted_lost_its_nonce_pairs_and_signs_again_once_it_started_over()
    {
        using var setup = SigningNetwork.Create(seed: 45);
        setup.Sign(coordinator: 1, "before the restart");
        setup.Net.Restart(2, 1);
        setup.Net.Controllers[2].PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);

        var after = new List<AppSignatureProduced>();
        for (var i = 0; i < 8; i++)
        {
            var produced = setup.Sign(coordinator: 1, $"after {i}");
            Assert.True(Verifies(produced, $"after {i}"));
            after.Add(produced);
            setup.Net.RunFor(TimeSpan.FromMilliseconds(200));
        }

        // Server 2 refused a commitment it no longer knew, was left out for a while, and signs again after starting over.
        Assert.Contains(setup.Net.Delivered, d => d.From == 2 && d.To == 1 && d.Instance.Protocol == ProtocolKind.AppSigning && d.Message.Type == AppSigningMachine.RefusalType);
        Assert.Contains(after, p => p.Signers.Contains(2));
    }

    [Fact]
    public void A_new_period_starts_over_with_fresh_commitments_asked_ahead_by_a_coordinator_that_signed()
    {
        using var setup = SigningNetwork.Create(seed: 46);
        Assert.True(Verifies(setup.Sign(coordinator: 5, "period 1"), "period 1"));
        RunPeriod(setup.Net, 2);
        var before = setup.Net.Delivered.Count;
        var produced = setup.Sign(coordinator: 5, "period 2", period: 2);
        Assert.True(Verifies(produced, "period 2"));
        Assert.Equal(2UL, produced.Instance.Period);

        // The commitments were there before the request: the session was one package and one answer per signer.
        Assert.Equal(2 * Parameters.Threshold, setup.Net.Delivered.Skip(before).Count(d => d.Instance == produced.Instance));
    }

    [Fact]
    public void A_signers_pool_makes_pairs_once_up_to_its_bound_and_wipes_them_on_reset_or_a_new_period()
    {
        using var pool = new AppSigningNonces();
        pool.EnterPeriod(1);
        var random = new DeterministicRandomSource(9);
        SigningNonces Commit() => AppSigningMachine.NewNonces(Suite, 2, Suite.Group.FromUInt64(5), random);

        var made = pool.Make(coordinator: 1, count: 3, reset: false, Commit);
        Assert.Equal(3, made.Count);
        Assert.True(pool.TryTake(1, made[0], out var nonces));
        nonces!.Dispose();
        Assert.False(pool.TryTake(1, made[0], out _));
        Assert.False(pool.TryTake(3, made[1], out _));

        Assert.Equal(AppSigningNonces.MaxPerCoordinator - 2, pool.Make(1, AppSigningNonces.MaxPerCoordinator, reset: false, Commit).Count);
        Assert.Empty(pool.Make(1, 10, reset: false, Commit));
        Assert.Equal(10, pool.Make(1, 10, reset: true, Commit).Count);
        Assert.False(pool.TryTake(1, made[1], out _));
        Assert.Equal(10, pool.CountFor(1));

        pool.EnterPeriod(2);
        Assert.Equal(0, pool.CountFor(1));
    }

    [Fact]
    public void A_coordinators_stock_asks_when_low_waits_for_an_answer_and_starts_over_with_a_forgotten_signer()
    {
        var stock = new AppCommitmentStock();
        stock.EnterPeriod(1);
        var now = TimeSpan.FromSeconds(10);
        var patience = TimeSpan.FromMilliseconds(500);
        var random = new DeterministicRandomSource(10);
        List<SigningCommitments> Made(int count) => [.. Enumerable.Range(0, count).Select(_ => AppSigningMachine.NewNonces(Suite, 2, Suite.Group.One, random).Commitments)];

        Assert.True(stock.ShouldAsk(2, now, patience, out var count, out var reset, out var first));
        Assert.Equal(AppCommitmentStock.BatchSize, count);
        Assert.True(reset);
        Assert.False(stock.ShouldAsk(2, now + TimeSpan.FromMilliseconds(100), patience, out _, out _, out _));
        Assert.True(stock.ShouldAsk(2, now + patience, patience, out _, out reset, out var second));
        Assert.False(reset);
        Assert.True(second > first);

        var commitments = Made(AppCommitmentStock.LowWater);
        Assert.True(stock.Add(2, first, commitments));
        Assert.False(stock.ShouldAsk(2, now + patience, patience, out _, out _, out _));
        Assert.Null(stock.TryDraw([2, 3], 2, 1));
        Assert.Null(stock.TryDraw([2], 1, 100));
        Assert.Equal(AppCommitmentStock.LowWater, stock.CountOf(2));
        var drawn = Assert.Single(stock.TryDraw([3, 2], 1, 2)!);
        Assert.Equal(2, drawn.Signer);
        Assert.Equal(commitments.Take(2), drawn.Commitments);
        Assert.Equal(first, drawn.Generation);
        Assert.True(stock.WasUsed);

        // A batch larger than the stock kept made the coordinator keep more, and ask even above the low-water mark.
        Assert.True(stock.Add(2, second, Made(40)));
        Assert.True(stock.CountOf(2) > 75);
        Assert.True(stock.ShouldAsk(2, now + (3 * patience), patience, out count, out _, out _));
        Assert.Equal(200 - stock.CountOf(2), count);

        // A refusal of an old generation's commitment does not start another one; a current one does.
        stock.Forget(2, first, now + (3 * patience));
        Assert.Equal(0, stock.CountOf(2));
        Assert.False(stock.ShouldAsk(2, now + (3 * patience), patience, out _, out _, out _));
        Assert.True(stock.ShouldAsk(2, now + (4 * patience), patience, out _, out reset, out var third));
        Assert.True(reset);
        Assert.False(stock.Add(2, second, Made(5)), "an offer made before the start-over is dropped");
        Assert.True(stock.Add(2, third, Made(5)));
        stock.Forget(2, first, now + (4 * patience));
        Assert.Equal(5, stock.CountOf(2));

        Assert.True(stock.EnterPeriod(2));
        Assert.False(stock.WasUsed);
        Assert.Equal(0, stock.CountOf(2));
    }

    private static bool Verifies(AppSignatureProduced produced, string message) =>
        Ed25519PublicKey.Decode(produced.PublicKey).Verify(Encoding.UTF8.GetBytes(message), produced.Signature);

    /// <summary>The signer's last share of the answer, plus one: well formed, and wrong.</summary>
    private static OutboundMessage Corrupted(OutboundMessage message)
    {
        var reader = new CanonicalReader(message.Payload);
        Assert.True(reader.TryReadCount(KeyRecord.MaxBatchMessages, 1, out var count));
        var shares = new List<SignatureShare>();
        for (var i = 0; i < count; i++)
        {
            Assert.True(SignatureShare.TryRead(ref reader, Suite.Group, out var share));
            shares.Add(share);
        }

        shares[^1] = new SignatureShare(Suite, shares[^1].Identifier, Suite.Group.Add(shares[^1].Share, Suite.Group.One));
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteCount(count, KeyRecord.MaxBatchMessages);
        foreach (var share in shares)
        {
            share.WriteTo(ref writer);
        }

        return message with { Payload = output.WrittenSpan.ToArray() };
    }

    /// <summary>Five servers in period 1 with a registered application and one generated key ("k1").</summary>
    private sealed class SigningNetwork : IDisposable
    {
        private readonly Ed25519PrivateKey _client;
        private readonly DeterministicRandomSource _random;
        private readonly string _network;
        private readonly string _handle;

        private SigningNetwork(ControllerTestNetwork net, Ed25519PrivateKey client, DeterministicRandomSource random, string network, string handle)
        {
            Net = net;
            _client = client;
            _random = random;
            _network = network;
            _handle = handle;
        }

        public ControllerTestNetwork Net { get; }

        public static SigningNetwork Create(ulong seed)
        {
            var net = new ControllerTestNetwork(Parameters, seed);
            foreach (var controller in net.Controllers.Values)
            {
                controller.PeriodSchedule = p => (p * PeriodMilliseconds, PeriodMilliseconds);
            }

            net.RunNetworkKeyDkg(secrets: 1);
            RunPeriod(net, 1);
            var client = Ed25519PrivateKey.FromSeed(Enumerable.Repeat((byte)seed, 32).ToArray());
            var random = new DeterministicRandomSource(seed * 7);
            var network = net.Controllers[1].LedgerContextOf(1)!.NetworkHex;
            Submit(net, 1, ApplicationSecretsTests.Sign(client, network, SignedRequest.NewHandle, "POST", "/v1/apps", 1,
                $"{{\"name\":\"signer\",\"uniqueId\":\"u\",\"publicKey\":\"{Convert.ToHexStringLower(client.PublicKey.Bytes)}\"}}", random));
            var handle = Handles.Format(ApplicationState.CentralizedId("signer", "u"), 0);
            Submit(net, 2, ApplicationSecretsTests.Sign(client, network, handle, "POST", "/v1/keys", 1, "{\"id\":\"k1\"}", random));
            Assert.True(net.RunUntil(() => net.Controllers.Values.All(c => c.AppKeyPublicKey(0) is not null), TimeSpan.FromSeconds(20)), "the key's DKG did not complete");
            return new SigningNetwork(net, client, random, network, handle);
        }

        public AppSignatureProduced Sign(int coordinator, string message, ulong period = 1) =>
            Run(coordinator, ApplicationSecretsTests.Sign(_client, _network, _handle, "POST", "/v1/keys/k1/sign", period,
                $"{{\"message\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(message))}\"}}", _random), message);

        public AppSignatureProduced SignBatch(int coordinator, List<string> messages) =>
            Run(coordinator, ApplicationSecretsTests.Sign(_client, _network, _handle, "POST", "/v1/keys/k1/sign-batch", 1,
                $"{{\"messages\":[{string.Join(',', messages.Select(m => $"\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(m))}\""))}]}}", _random), messages[0]);

        /// <summary>Starts a session for a request with this path and body; the refusal, or empty when it started.</summary>
        public string TryStart(int coordinator, string path, string body)
        {
            var request = ApplicationSecretsTests.Sign(_client, _network, _handle, "POST", path, 1, body, _random);
            var problem = string.Empty;
            Net.Run(coordinator, c => Net.Controllers[coordinator].StartAppSigning(c, request, out _, out problem));
            return problem;
        }

        public byte[] StartBatch(int coordinator, List<string> messages)
        {
            var request = ApplicationSecretsTests.Sign(_client, _network, _handle, "POST", "/v1/keys/k1/sign-batch", 1,
                $"{{\"messages\":[{string.Join(',', messages.Select(m => $"\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(m))}\""))}]}}", _random);
            var problem = string.Empty;
            Net.Run(coordinator, c => Net.Controllers[coordinator].StartAppSigning(c, request, out _, out problem));
            Assert.Equal(string.Empty, problem);
            return request.Id;
        }

        private AppSignatureProduced Run(int coordinator, SignedRequest request, string message)
        {
            var problem = string.Empty;
            Net.Run(coordinator, c => Net.Controllers[coordinator].StartAppSigning(c, request, out _, out problem));
            Assert.Equal(string.Empty, problem);
            Assert.True(Net.RunUntil(() => Net.EventsOf<AppSignatureProduced>(coordinator).Any(e => e.RequestId.SequenceEqual(request.Id)), TimeSpan.FromSeconds(10)), $"no signature of '{message}'");
            return Net.EventsOf<AppSignatureProduced>(coordinator).Single(e => e.RequestId.SequenceEqual(request.Id));
        }

        public void Dispose()
        {
            Net.Dispose();
            _client.Dispose();
        }
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Randomness;
using Proactive.Protocols.Services;
using Proactive.Protocols.Tests.Controller;

namespace Proactive.Protocols.Tests.Services;

/// <summary>The bytes node and client must agree on (request signing, signed time, application randomness), and the controller's evaluation.</summary>
public sealed class ApplicationServicesContractTests
{
    private static readonly NetworkId Network = NetworkId.FromBytes(Convert.FromHexString("00112233445566778899aabbccddeeff"));

    [Fact]
    public void The_request_signing_string_is_exactly_the_documented_lines()
    {
        var bytes = ApplicationRequestSigning.SigningBytes(
            "00112233445566778899aabbccddeeff", "app_0123456789abcdef0123456789abcdef_0", "POST", "/v1/random?x=1", "1700000000000",
            "000102030405060708090a0b0c0d0e0f", "{}"u8);

        Assert.Equal(
            "proactive-request-v1\n00112233445566778899aabbccddeeff\napp_0123456789abcdef0123456789abcdef_0\nPOST\n/v1/random?x=1\n1700000000000\n"
            + "000102030405060708090a0b0c0d0e0f\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            Encoding.UTF8.GetString(bytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([])), ApplicationRequestSigning.BodyHash([]));
    }

    [Theory]
    [InlineData("handle\nPOST")]
    [InlineData("")]
    public void A_signed_field_with_a_line_feed_or_empty_is_refused(string handle)
    {
        Assert.ThrowsAny<ArgumentException>(() => ApplicationRequestSigning.SigningBytes("00", handle, "GET", "/v1/time", "1", "00", []));
    }

    [Fact]
    public void The_signed_time_statement_has_the_documented_fixed_layout()
    {
        var nonce = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();

        var statement = SignedTime.Statement(Network, 3, 7, 1_700_000_000_123, nonce);

        Assert.Equal(SignedTime.Length, statement.Length);
        Assert.Equal(74, statement.Length);
        Assert.Equal("proactive-signed-time-v1", Encoding.ASCII.GetString(statement, 0, 24));
        Assert.Equal(Network.ToArray(), statement[24..40]);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(statement.AsSpan(40)));
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64BigEndian(statement.AsSpan(42)));
        Assert.Equal(1_700_000_000_123, BinaryPrimitives.ReadInt64BigEndian(statement.AsSpan(50)));
        Assert.Equal(nonce, statement[58..]);
        Assert.Throws<ArgumentException>(() => SignedTime.Statement(Network, 3, 7, 0, nonce.AsSpan(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SignedTime.Statement(Network, 0, 7, 0, nonce));
    }

    [Fact]
    public void The_randomness_message_binds_version_application_and_input_and_has_bounds()
    {
        var application = Enumerable.Repeat((byte)0xAB, 16).ToArray();

        var message = ApplicationRandomness.Message(application, "hi"u8);

        Assert.Equal([1, .. application, (byte)'h', (byte)'i'], message);
        Assert.Equal(17, ApplicationRandomness.Message(application, []).Length);
        Assert.Throws<ArgumentException>(() => ApplicationRandomness.Message(application.AsSpan(1), []));
        Assert.Throws<ArgumentException>(() => ApplicationRandomness.Message(application, new byte[ApplicationRandomness.MaxInputLength + 1]));
    }

    [Theory]
    [InlineData("Ed25519")]
    [InlineData("ristretto255")]
    [InlineData("P-256")]
    public void Application_randomness_hashes_to_other_points_than_the_beacon_so_no_input_evaluates_the_beacon(string groupName)
    {
        var group = new[] { PrimeOrderGroup.Ed25519, PrimeOrderGroup.Ristretto255, PrimeOrderGroup.P256 }.Single(g => g.Name == groupName);
        var application = ApplicationRandomness.Prf(group);
        var beacon = new DistributedPrf(group);
        var beaconMessage = RandomnessMachine.PeriodMessage(9);

        Assert.NotEqual(beacon.Domain, application.Domain);
        Assert.StartsWith(ApplicationRandomness.DomainPrefix, application.Domain, StringComparison.Ordinal);

        // Even the beacon's own message, evaluated as application randomness, lands elsewhere.
        Assert.NotEqual(beacon.HashInput(beaconMessage), application.HashInput(beaconMessage));
    }

    [Fact]
    public void Controllers_evaluate_partials_that_combine_into_a_publicly_verifiable_value_under_the_committed_public_state()
    {
        var parameters = ClusterParameters.Create(4, 1, 1);
        using var net = new ControllerTestNetwork(parameters, seed: 31);
        net.RunNetworkKeyDkg(dprfKey: true);
        var message = ApplicationRandomness.Message(new byte[16], "lottery 2026"u8);
        var prf = ApplicationRandomness.Prf(PrimeOrderGroup.Ed25519);
        var state = net.Controllers[1].PublicState!;
        var publicShares = DprfPublicShares.FromFeldmanCommitments(state.SigningKeyCommitments[ServerController.DprfKeyIndex]);

        var partials = parameters.Servers.Select(s => net.Controllers[s].EvaluateApplicationRandomness(message, SystemRandomSource.Instance)).ToList();

        Assert.All(partials, p => Assert.Equal(0UL, Assert.IsType<ApplicationRandomnessPartial>(p).Period));
        var first = prf.Combine(publicShares, message, partials.Take(2).Select(p => p!.Partial));
        var last = prf.Combine(publicShares, message, partials.Skip(2).Select(p => p!.Partial));
        Assert.True(first.Succeeded);
        Assert.True(last.Succeeded);
        Assert.True(prf.VerifyOutput(publicShares, message, first.Output!));
        Assert.Equal(first.Output!.Value.ToArray(), last.Output!.Value.ToArray());

        // The beacon's DPRF does not accept these partials: another domain, another function.
        Assert.False(new DistributedPrf(PrimeOrderGroup.Ed25519).VerifyPartial(publicShares.TryGet(1, out var x1) ? x1 : default, message, partials[0]!.Partial));
    }

    [Fact]
    public void A_controller_without_the_DPRF_key_evaluates_nothing()
    {
        using var net = new ControllerTestNetwork(ClusterParameters.Create(4, 1, 1), seed: 32);
        net.RunNetworkKeyDkg();

        Assert.Null(net.Controllers[2].EvaluateApplicationRandomness(ApplicationRandomness.Message(new byte[16], []), SystemRandomSource.Instance));
        using var fresh = new ServerController(1, ClusterParameters.Create(4, 1, 1), PrimeOrderGroup.Ed25519, Network);
        Assert.Null(fresh.EvaluateApplicationRandomness([], SystemRandomSource.Instance));
    }
}

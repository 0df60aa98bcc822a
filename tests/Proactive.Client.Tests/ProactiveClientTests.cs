using System.Net;
using System.Net.Sockets;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Signing;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Services;

namespace Proactive.Client.Tests;

/// <summary>
/// The SDK against real in-process node APIs (n = 4, t = 1) serving from controllers restored from a
/// dealt, certified period: discovery, signed requests the servers accept, verified times and values.
/// </summary>
public sealed class ProactiveClientTests : IAsyncLifetime, IDisposable
{
    private ServiceServers _servers = null!;
    private ApplicationCredentials _credentials = null!;

    public async Task InitializeAsync()
    {
        _servers = await ServiceServers.StartAsync();
        var (instance, key) = _servers.Directory.Register("sdk tests");
        _credentials = new ApplicationCredentials(instance.Handle, instance.ApplicationId, instance.Instance, instance.Name, key);
    }

    public async Task DisposeAsync() => await _servers.DisposeAsync();

    public void Dispose() => _credentials.Dispose();

    private ProactiveClient NewClient(int server = 1, string? networkKey = null, ApplicationCredentials? credentials = null) =>
        new(new ProactiveClientOptions
        {
            Server = _servers.BaseAddress(server),
            Credentials = credentials ?? _credentials,
            NetworkKey = networkKey,
            MaxRetries = 0,
        });

    [Fact]
    public async Task The_cluster_is_discovered_from_one_server()
    {
        using var client = NewClient(server: 3);

        var cluster = await client.GetClusterAsync();

        Assert.Equal(_servers.Network.Network.ToString(), cluster.Network);
        Assert.Equal(4, cluster.ServerCount);
        Assert.Equal(1, cluster.Threshold);
        Assert.Equal(_servers.Network.NetworkKeyHex, cluster.NetworkKey);
        Assert.Equal(_servers.BaseAddress(2).ToString(), cluster.Servers.Single(s => s.Id == 2).Api);
    }

    [Fact]
    public async Task Every_servers_time_verifies_under_the_network_key()
    {
        using var client = NewClient(networkKey: _servers.Network.NetworkKeyHex);

        var vector = await client.GetTimeAsync();

        Assert.Equal(4, vector.VerifiedCount);
        Assert.Equal([1, 2, 3, 4], vector.Servers.Select(s => s.Server));
        Assert.All(vector.Servers, time =>
        {
            Assert.Null(time.Error);
            Assert.Equal(_servers.Network.Period, time.Period);
            Assert.Equal(Convert.ToHexStringLower(_servers.Network.PeriodKeyOf(time.Server).Bytes), time.PublicKey);
            Assert.Equal(TimeSpan.Zero, time.Time!.Value.Offset);
        });
    }

    [Fact]
    public async Task A_server_that_cannot_answer_is_in_the_time_vector_with_its_reason()
    {
        _servers.Down.Add(4);
        using var client = NewClient();

        var vector = await client.GetTimeAsync();

        Assert.Equal(3, vector.VerifiedCount);
        var down = vector.Servers.Single(s => s.Server == 4);
        Assert.False(down.Verified);
        Assert.Contains("not-operational", down.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_random_value_combines_t_plus_one_verified_partials_and_its_proof_verifies_offline()
    {
        using var client = NewClient();
        var input = "draw #17"u8.ToArray();

        var result = await client.GetRandomAsync(input);

        Assert.Equal(DprfOutput.ValueLength, result.Value.Length);
        Assert.Empty(result.Failures);
        var proof = result.Proof;
        Assert.Equal(Convert.ToHexStringLower(result.Value), proof.Value);
        Assert.Equal(_servers.Network.Period, proof.Period);
        Assert.Equal(Convert.ToHexStringLower(input), proof.Input);
        Assert.Equal(RandomProof.FormatTag, proof.Format);
        Assert.True(ProactiveClient.VerifyRandom(proof, _servers.Network.NetworkKeyHex).Valid);
        var roundTrip = RandomProof.FromJson(proof.ToJson());
        Assert.Equal(proof, roundTrip);
        Assert.True(ProactiveClient.VerifyRandom(roundTrip, _servers.Network.NetworkKeyHex).Valid);

        // The value is the DPRF of (application, input): what the secret key itself gives.
        var prf = ApplicationRandomness.Prf(_servers.Network.Config.Suite.Group);
        Assert.True(DprfOutput.TryDecode(prf.Group, Convert.FromBase64String(proof.Output), out var output));
        Assert.Equal(_servers.Network.DirectEvaluation(prf, ApplicationRandomness.Message(_credentials.ApplicationId, input)), output.Combined);
    }

    [Fact]
    public async Task The_same_input_gives_the_same_value_from_any_servers_and_another_input_another()
    {
        using var client = NewClient();
        var first = await client.GetRandomAsync("a"u8.ToArray());

        _servers.Down.Add(1);
        _servers.Down.Add(2);
        using var other = NewClient(server: 3);
        var again = await other.GetRandomAsync("a"u8.ToArray());
        var different = await other.GetRandomAsync("b"u8.ToArray());

        Assert.Equal(first.Value, again.Value);
        Assert.NotEqual(first.Value, different.Value);
        Assert.Equal([1, 2], again.Failures.Keys.Order());
        Assert.Contains("not-operational", again.Failures[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_fewer_than_t_plus_one_servers_answering_there_is_no_value_and_each_failure_is_named()
    {
        foreach (var id in new[] { 2, 3, 4 })
        {
            _servers.Down.Add(id);
        }

        using var client = NewClient();

        var error = await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.GetRandomAsync(ReadOnlyMemory<byte>.Empty));
        Assert.Equal([2, 3, 4], error.Failures.Keys.Order());
        Assert.Contains("Only 1 of the t+1 = 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unregistered_instance_is_refused_by_every_server()
    {
        using var stranger = ApplicationCredentials.Create(new byte[16], 0, "stranger");
        using var client = NewClient(credentials: stranger);

        var vector = await client.GetTimeAsync();
        Assert.Equal(0, vector.VerifiedCount);
        Assert.All(vector.Servers, s => Assert.Contains("unknown-handle", s.Error, StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.GetRandomAsync(new byte[] { 1 }));
        Assert.All(error.Failures.Values, f => Assert.Contains("unknown-handle", f, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pinned_network_key_the_servers_do_not_have_is_refused()
    {
        using var client = NewClient(networkKey: Convert.ToHexStringLower(Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519.EncodeElement(Proactive.Crypto.Groups.PrimeOrderGroup.Ed25519.Generator)));

        await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.GetTimeAsync());
        await Assert.ThrowsAsync<ProactiveVerificationException>(() => client.GetRandomAsync(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public async Task The_certificate_of_a_period_is_verified_with_its_keys_and_public_state()
    {
        using var client = NewClient();

        var certified = await client.GetPeriodCertificateAsync(2);

        Assert.Equal(_servers.Network.Period, certified.Period);
        Assert.NotNull(certified.PublicState);
        Assert.True(certified.Table!.TryGet(2, out var entry));
        Assert.Equal(_servers.Network.PeriodKeyOf(2), entry.Entry.Keys.Signing);
        var problem = await Assert.ThrowsAsync<ProactiveApiException>(() => client.GetPeriodCertificateAsync(2, _servers.Network.Period + 5));
        Assert.Equal("no-certificate", problem.Code);
        Assert.Equal(404, problem.Status);
    }

    [Fact]
    public async Task Calls_need_credentials_and_a_server_out_of_reach_is_unavailable()
    {
        using (var anonymous = new ProactiveClient(_servers.BaseAddress(1)))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => anonymous.GetTimeAsync());
            Assert.Equal(4, (await anonymous.GetClusterAsync()).ServerCount);
        }

        var port = ClosedPort();
        using var nowhere = new ProactiveClient(new Uri($"http://127.0.0.1:{port}/"), _credentials);
        var error = await Assert.ThrowsAsync<ProactiveUnavailableException>(() => nowhere.GetClusterAsync());
        Assert.Equal(port, error.Server.Port);
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        using var client = NewClient();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetRandomAsync(ReadOnlyMemory<byte>.Empty, cancelled.Token));
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

using System.Text;
using Proactive.Crypto.Signing;
using Proactive.Node.Tests;
using Proactive.Node.Tests.Support;
using Proactive.Protocols.Application;

namespace Proactive.Client.Tests;

/// <summary>The tests on the in-process network run alone: a loaded machine makes its short periods miss their windows.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ApplicationNetworkCollection : ICollectionFixture<ApplicationNetworkFixture>
{
    public const string Name = "in-process network";
}

/// <summary>A real two-server network in this process (10 s periods, so refreshes happen during the tests), past its first refresh.</summary>
public sealed class ApplicationNetworkFixture : IAsyncLifetime
{
    private InProcessCluster? _cluster;

    internal InProcessCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        // One-second protocol windows: a server that reaches a period later than its KeyTable's judging
        // window (two of them) sits it out, and on two shared cores a loop can be that late.
        _cluster = await InProcessCluster.StartAsync(period: TimeSpan.FromSeconds(10), windowsOf: TimeSpan.FromSeconds(40));

        // Dealing keys are checked against a certified KeyTable, which the first refresh makes.
        await _cluster.WaitForPeriodAsync(1);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>A client of server <paramref name="server"/>, signing as <paramref name="credentials"/>.</summary>
    internal ProactiveClient Client(ApplicationCredentials? credentials = null, int server = 1) =>
        new(new ProactiveClientOptions { Server = Cluster.Api(server), Credentials = credentials, MaxRetries = 5 });
}

/// <summary>
/// The SDK's application calls against the node's own gateway and ledger: registration (centralized and
/// by password), the five data types stored and retrieved (secrets dealt and rebuilt by the client),
/// versioned writes, releases, StoreUntil, quotas, keys and verified signatures, quorum operations.
/// </summary>
[Collection(ApplicationNetworkCollection.Name)]
public sealed class ClientApplicationTests(ApplicationNetworkFixture fixture)
{
    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    private static async Task<bool> Delay()
    {
        await Task.Delay(500);
        return true;
    }

    private async Task<ApplicationCredentials> RegisterAsync(RequestedQuota? quota = null)
    {
        using var anonymous = fixture.Client();
        return await anonymous.RegisterAsync("sdk-tests", Unique(), quota);
    }

    [Fact]
    public async Task A_centralized_application_registers_and_describes_itself()
    {
        var unique = Unique();
        using var anonymous = fixture.Client();
        using var credentials = await anonymous.RegisterAsync("sdk-tests", unique, new RequestedQuota(MaxEntries: 7));

        // The server that answered the registration has applied it (another applies it a moment later).
        using var client = fixture.Client(credentials);

        var app = await client.DescribeApplicationAsync();

        Assert.Equal(Convert.ToHexStringLower(credentials.ApplicationId), app.ApplicationId);
        Assert.Equal(("sdk-tests", "centralized", 0, 1, 7UL, 0UL), (app.Name, app.Kind, app.Instance, app.Quorum, app.MaxEntries, app.UsedEntries));
        var again = await Assert.ThrowsAsync<ProactiveApiException>(() => anonymous.RegisterAsync("sdk-tests", unique));
        Assert.Equal("already-registered", again.Code);
    }

    [Theory]
    [InlineData(DataType.PublicWriteOnce)]
    [InlineData(DataType.PublicReadWrite)]
    [InlineData(DataType.SecretSingle)]
    [InlineData(DataType.SecretDistributedReader)]
    [InlineData(DataType.SecretDistributed)]
    public async Task Every_data_type_is_stored_and_retrieved(DataType type)
    {
        using var credentials = await RegisterAsync();
        using var client = fixture.Client(credentials);
        var value = Encoding.UTF8.GetBytes($"a value of type {type}");

        var stored = await client.StoreAsync("entry", value, type);
        Assert.False(stored.IsPending);
        Assert.Equal(("entry", DataTypes.Name(type), 1UL), (stored.Entry!.Id, stored.Entry.Type, stored.Entry.Version));
        if (type is DataType.SecretDistributedReader or DataType.SecretDistributed)
        {
            // Reconstructed only once a quorum asked (a centralized application is its own quorum).
            var refused = await Assert.ThrowsAsync<ProactiveApiException>(() => client.RetrieveAsync("entry"));
            Assert.Equal("quorum-required", refused.Code);
            Assert.True((await client.ReleaseAsync("entry", 1)).Entry!.Released);
        }

        using var other = fixture.Client(credentials, server: 2);
        var retrieved = await other.RetrieveAsync("entry");
        Assert.Equal(value, retrieved.Value);
        Assert.Equal(DataTypes.Name(type), retrieved.Type);
        Assert.Equal(type is DataType.PublicWriteOnce or DataType.PublicReadWrite ? null : retrieved.Sharing, retrieved.Sharing);
        if (type is not (DataType.PublicWriteOnce or DataType.PublicReadWrite))
        {
            Assert.Equal(2, retrieved.Servers.Count);
        }
    }

    [Fact]
    public async Task Writes_need_the_current_version_and_a_write_once_entry_refuses_them()
    {
        using var credentials = await RegisterAsync();
        using var client = fixture.Client(credentials);
        await client.StoreAsync("counter", "1"u8.ToArray(), DataType.PublicReadWrite);
        await client.StoreAsync("fixed", "1"u8.ToArray(), DataType.PublicWriteOnce);

        Assert.Equal("version-mismatch", (await Assert.ThrowsAsync<ProactiveApiException>(() => client.WriteAsync("counter", "2"u8.ToArray(), 5))).Code);
        Assert.Equal(2UL, (await client.WriteAsync("counter", "2"u8.ToArray(), 1)).Entry!.Version);
        Assert.Equal("2", Encoding.UTF8.GetString((await client.RetrieveAsync("counter")).Value));
        Assert.Equal("write-once", (await Assert.ThrowsAsync<ProactiveApiException>(() => client.WriteAsync("fixed", "2"u8.ToArray(), 1))).Code);

        // A distributed secret's new value gets a new data key.
        await client.StoreAsync("vault", "old"u8.ToArray(), DataType.SecretDistributed);
        var written = await client.WriteAsync("vault", "new"u8.ToArray(), 1);
        Assert.Equal(2UL, written.Entry!.Version);
        await client.ReleaseAsync("vault", 2);
        Assert.Equal("new", Encoding.UTF8.GetString((await client.RetrieveAsync("vault")).Value));
    }

    [Fact]
    public async Task A_secret_stored_until_a_date_is_refused_before_it_by_every_server()
    {
        using var credentials = await RegisterAsync();
        using var client = fixture.Client(credentials);
        await client.StoreAsync("sealed", "later"u8.ToArray(), DataType.SecretDistributedReader, DateTimeOffset.UtcNow.AddHours(1));
        await client.ReleaseAsync("sealed", 1);

        var refused = await Assert.ThrowsAsync<ProactiveApiException>(() => client.RetrieveAsync("sealed"));

        Assert.Equal("not-yet", refused.Code);
    }

    [Fact]
    public async Task The_quota_is_enforced()
    {
        using var credentials = await RegisterAsync(new RequestedQuota(MaxEntries: 2));
        using var client = fixture.Client(credentials);
        await client.StoreAsync("one", "1"u8.ToArray(), DataType.PublicWriteOnce);
        await client.StoreAsync("two", "2"u8.ToArray(), DataType.SecretSingle);

        var refused = await Assert.ThrowsAsync<ProactiveApiException>(() => client.StoreAsync("three", "3"u8.ToArray(), DataType.PublicWriteOnce));

        Assert.Equal(("quota-exceeded", 403), (refused.Code, refused.Status));
        Assert.Equal(2UL, (await client.DescribeApplicationAsync()).UsedEntries);
    }

    [Fact]
    public async Task A_generated_key_signs_and_the_signature_is_a_standard_ed25519_one()
    {
        using var credentials = await RegisterAsync();
        using var client = fixture.Client(credentials);

        var key = await client.GenerateKeyAsync("signing");
        Assert.Equal(("ready", "ed25519"), (key.Status, key.Suite));
        var message = "pay 10 to bob"u8.ToArray();
        using var other = fixture.Client(credentials, server: 2);
        var signature = await other.SignAsync("signing", message);

        Assert.Equal(key.PublicKey, Convert.ToHexStringLower(signature.PublicKey));
        Assert.True(Ed25519PublicKey.Decode(signature.PublicKey).Verify(message, signature.Signature));
        Assert.Equal("unknown-key", (await Assert.ThrowsAsync<ProactiveApiException>(() => client.SignAsync("nothing", message))).Code);
    }

    [Fact]
    public async Task A_distributed_applications_quorum_operations_apply_once_a_majority_of_its_instances_asked()
    {
        var name = "distributed-" + Unique();
        using var anonymous = fixture.Client();
        using var first = await anonymous.RegisterInstanceAsync(name, "a password", 1);
        Assert.Equal("bad-password", (await Assert.ThrowsAsync<ProactiveApiException>(() => anonymous.RegisterInstanceAsync(name, "another password", 2))).Code);
        using var second = await anonymous.RegisterInstanceAsync(name, "a password", 2);
        Assert.Equal(first.ApplicationId.ToArray(), second.ApplicationId.ToArray());
        using var one = fixture.Client(first, server: 1);
        using var two = fixture.Client(second, server: 2);

        // n = 2: the quorum is both instances.
        var pending = await one.StoreAsync("shared", "v1"u8.ToArray(), DataType.PublicReadWrite);
        Assert.Equal((1, 2), (pending.Pending!.Approvals, pending.Pending.Needed));
        Assert.Equal("unknown-data", (await Assert.ThrowsAsync<ProactiveApiException>(() => one.RetrieveAsync("shared"))).Code);
        var stored = await two.StoreAsync("shared", "v1"u8.ToArray(), DataType.PublicReadWrite);
        Assert.Equal(1UL, stored.Entry!.Version);
        Assert.Equal("v1", Encoding.UTF8.GetString((await one.RetrieveAsync("shared")).Value));

        Assert.Equal("pending", (await one.GenerateKeyAsync("joint")).Status);
        var key = await two.GenerateKeyAsync("joint");
        Assert.Equal("ready", key.Status);
        var message = "both of us agree"u8.ToArray();
        Assert.Equal("quorum-required", (await Assert.ThrowsAsync<ProactiveApiException>(() => one.SignAsync("joint", message))).Code);
        Assert.False((await one.ApproveSigningAsync("joint", message)).Approved);
        Assert.True((await two.ApproveSigningAsync("joint", message)).Approved);
        var signature = await one.SignAsync("joint", message);
        Assert.True(Ed25519PublicKey.Decode(signature.PublicKey).Verify(message, signature.Signature));
    }

    [Fact]
    public async Task Secrets_stored_one_after_another_across_a_period_change_are_all_kept()
    {
        // A store seals the shares to the current period's keys; across the change it meets a server whose
        // new period is not certified yet, or a ledger of the other period (stale-period), and must go on.
        using var credentials = await RegisterAsync();
        using var client = fixture.Client(credentials);
        var start = fixture.Cluster.Period;
        var stored = new List<(string Id, byte[] Value)>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while ((fixture.Cluster.Period <= start || stored.Count(s => s.Id.EndsWith("-after", StringComparison.Ordinal)) < 3) && DateTime.UtcNow < deadline)
        {
            var id = $"s{stored.Count}-{(fixture.Cluster.Period > start ? "after" : "before")}";
            var value = Encoding.UTF8.GetBytes(id + Unique());
            await client.StoreAsync(id, value);
            stored.Add((id, value));
            await Task.Delay(100);
        }

        Assert.True(fixture.Cluster.Period > start, "no period change during the test");
        foreach (var (id, value) in stored)
        {
            Assert.Equal(value, (await client.RetrieveAsync(id)).Value);
        }
    }

    [Fact]
    public async Task A_secret_is_retrieved_after_two_refreshes_from_the_refreshed_shares()
    {
        using var credentials = await RegisterAsync();
        using var client = fixture.Client(credentials);
        var value = Encoding.UTF8.GetBytes("kept across refreshes");
        await client.StoreAsync("durable", value);
        var storedIn = fixture.Cluster.Period;

        // Stored in ledger L, the secret is held as dealt until the refresh of L + 2 takes it into the share
        // vector; from then on it is refreshed every period with the rest.
        Assert.Equal("dealt", (await client.RetrieveAsync("durable")).Sharing);
        await fixture.Cluster.WaitForPeriodAsync(storedIn + 2);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        RetrievedData retrieved;
        do
        {
            retrieved = await client.RetrieveAsync("durable");
            Assert.Equal(value, retrieved.Value);
        }
        while (retrieved.Sharing == "dealt" && DateTime.UtcNow < deadline && await Delay());

        Assert.Matches("^p[0-9]+$", retrieved.Sharing);
        Assert.True(ulong.Parse(retrieved.Sharing![1..], System.Globalization.CultureInfo.InvariantCulture) >= storedIn + 2, $"sharing {retrieved.Sharing}, stored in {storedIn}");
    }
}

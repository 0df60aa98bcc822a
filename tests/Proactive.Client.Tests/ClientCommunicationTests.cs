using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;

namespace Proactive.Client.Tests;

/// <summary>
/// The SDK's registration by certificate, period keys, links and joint secrets against the node's own
/// gateway and ledger (two servers, 10 s periods): certificates register once and only under the
/// application's CA; a period-key certificate verifies under the network key (and offline); link messages
/// reach the other instance once; a joint secret is rebuilt from verified shares and matches its public value.
/// </summary>
[Collection(ApplicationNetworkCollection.Name)]
public sealed class ClientCommunicationTests(ApplicationNetworkFixture fixture)
{
    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task Instances_registered_by_certificate_run_quorum_operations_and_a_certificate_registers_once()
    {
        var name = "certified-" + Unique();
        using var authority = CertificateAuthority.Create();
        using var stranger = CertificateAuthority.Create();
        using var anonymous = fixture.Client();
        var network = (await anonymous.GetClusterAsync()).Network;
        var now = DateTimeOffset.UtcNow;
        using var first = ApplicationCredentials.CreateInstance(name, 1);
        using var second = ApplicationCredentials.CreateInstance(name, 2);
        var firstCertificate = authority.Issue(network, name, 1, first.PublicKey, now.AddMinutes(-1), now.AddHours(1));

        await anonymous.RegisterInstanceAsync(first, firstCertificate);

        Assert.Equal("certificate-used", (await Assert.ThrowsAsync<ProactiveApiException>(() => anonymous.RegisterInstanceAsync(first, firstCertificate))).Code);
        var foreign = stranger.Issue(network, name, 2, second.PublicKey, now.AddMinutes(-1), now.AddHours(1));
        Assert.Equal("wrong-certificate-authority", (await Assert.ThrowsAsync<ProactiveApiException>(() => anonymous.RegisterInstanceAsync(second, foreign))).Code);
        var expired = authority.Issue(network, name, 2, second.PublicKey, now.AddHours(-2), now.AddHours(-1));
        Assert.Equal("certificate-expired", (await Assert.ThrowsAsync<ProactiveApiException>(() => anonymous.RegisterInstanceAsync(second, expired))).Code);
        await Assert.ThrowsAsync<ArgumentException>(() => anonymous.RegisterInstanceAsync(second, firstCertificate));
        await anonymous.RegisterInstanceAsync(second, authority.Issue(network, name, 2, second.PublicKey, now.AddMinutes(-1), now.AddHours(1)));

        using var one = fixture.Client(first, server: 1);
        using var two = fixture.Client(second, server: 2);
        var app = await one.DescribeApplicationAsync();
        Assert.Equal(("distributed", 2, "certificate"), (app.Kind, app.Quorum, app.RegisteredBy));
        Assert.Equal(new[] { 1, 2 }, app.Instances);
        var pending = await one.StoreAsync("shared", "v1"u8.ToArray(), DataType.PublicReadWrite);
        Assert.True(pending.IsPending);
        var stored = await two.StoreAsync("shared", "v1"u8.ToArray(), DataType.PublicReadWrite);
        Assert.Equal(1UL, stored.Entry!.Version);
    }

    [Fact]
    public async Task A_period_key_is_certified_by_the_network_key_and_the_certificate_verifies_offline()
    {
        using var anonymous = fixture.Client();
        using var credentials = await anonymous.RegisterAsync("period-keys", Unique());
        using var client = fixture.Client(credentials, server: 2);
        using var periodKey = Ed25519PrivateKey.Generate(Proactive.Crypto.Random.SystemRandomSource.Instance);

        var certificate = await client.CertifyPeriodKeyAsync(periodKey.PublicKey.Bytes.ToArray());

        var cluster = await client.GetClusterAsync();
        Assert.Equal(Convert.ToHexStringLower(periodKey.PublicKey.Bytes), certificate.PublicKey);
        Assert.Equal((0, Convert.ToHexStringLower(credentials.ApplicationId), cluster.NetworkKey), (certificate.Instance, certificate.ApplicationId, certificate.NetworkKey));
        Assert.True(ProactiveClient.VerifyPeriodKey(certificate, cluster.NetworkKey!));
        Assert.True(Ed25519PublicKey.Decode(Convert.FromHexString(cluster.NetworkKey!)).Verify(Convert.FromHexString(certificate.Statement), Convert.FromHexString(certificate.Certificate)));
        Assert.Equal(certificate, PeriodKeyCertificate.FromJson(certificate.ToJson()));

        // Another period, instance or key, or another network key: not this certificate.
        Assert.False(ProactiveClient.VerifyPeriodKey(certificate with { Period = certificate.Period + 1 }, cluster.NetworkKey!));
        Assert.False(ProactiveClient.VerifyPeriodKey(certificate with { Instance = 1 }, cluster.NetworkKey!));
        Assert.False(ProactiveClient.VerifyPeriodKey(certificate with { PublicKey = new string('0', 64) }, cluster.NetworkKey!));
        Assert.False(ProactiveClient.VerifyPeriodKey(certificate, Convert.ToHexStringLower(periodKey.PublicKey.Bytes)));
        await Assert.ThrowsAsync<ArgumentException>(() => client.CertifyPeriodKeyAsync(new byte[31]));
    }

    [Fact]
    public async Task A_link_message_reaches_the_other_instance_once()
    {
        var name = "linked-" + Unique();
        using var anonymous = fixture.Client();
        using var first = await anonymous.RegisterInstanceAsync(name, "a password", 1);
        using var second = await anonymous.RegisterInstanceAsync(name, "a password", 2);
        using var one = fixture.Client(first, server: 1);
        using var two = fixture.Client(second, server: 1);

        await one.SendLinkMessageAsync(2, "hello, instance 2"u8.ToArray());

        var received = new List<LinkMessage>();
        for (var attempt = 0; attempt < 50 && received.Count == 0; attempt++)
        {
            received.AddRange(await two.ReceiveLinkMessagesAsync());
            if (received.Count == 0)
            {
                await Task.Delay(100);
            }
        }

        var message = Assert.Single(received);
        Assert.Equal((1, "hello, instance 2"), (message.From, System.Text.Encoding.UTF8.GetString(message.Payload)));
        Assert.Empty(await two.ReceiveLinkMessagesAsync());
        Assert.Equal("unknown-instance", (await Assert.ThrowsAsync<ProactiveApiException>(() => two.SendLinkMessageAsync(3, "x"u8.ToArray()))).Code);

        using var centralized = await anonymous.RegisterAsync("alone", Unique());
        using var alone = fixture.Client(centralized);
        Assert.Equal("no-link", (await Assert.ThrowsAsync<ProactiveApiException>(() => alone.SendLinkMessageAsync(1, "x"u8.ToArray()))).Code);
    }

    [Fact]
    public async Task A_random_joint_secret_is_rebuilt_from_verified_shares_and_a_given_one_is_read_back()
    {
        using var anonymous = fixture.Client();
        using var credentials = await anonymous.RegisterAsync("joint", Unique());
        using var client = fixture.Client(credentials);

        var generated = await client.GenerateJointSecretAsync("j1");
        Assert.Equal("ready", generated.Status);

        var secret = await client.RetrieveJointSecretAsync("j1");
        var group = PrimeOrderGroup.Ed25519;
        Assert.True(group.TryDecodeScalar(secret.Value, out var x));
        Assert.Equal(generated.PublicKey, Convert.ToHexStringLower(group.EncodeElement(group.MultiplyBase(x))));
        Assert.Equal(generated.PublicKey, secret.PublicValue);
        using var other = fixture.Client(credentials, server: 2);
        Assert.Equal(secret.Value, (await other.RetrieveJointSecretAsync("j1")).Value);
        Assert.Equal("unknown-key", (await Assert.ThrowsAsync<ProactiveApiException>(() => client.RetrieveJointSecretAsync("nothing"))).Code);

        // A joint secret never signs.
        Assert.Equal("unknown-key", (await Assert.ThrowsAsync<ProactiveApiException>(() => client.SignAsync("j1", "m"u8.ToArray()))).Code);

        await client.StoreJointSecretAsync("given", "a value we chose"u8.ToArray());
        Assert.Equal("a value we chose"u8.ToArray(), (await client.RetrieveAsync("given")).Value);
    }
}

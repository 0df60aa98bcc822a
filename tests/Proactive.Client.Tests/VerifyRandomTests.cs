using Proactive.Node.Tests.Support;

namespace Proactive.Client.Tests;

/// <summary>Offline verification of a random value's proof: every part that is changed makes it fail, and says which.</summary>
public sealed class VerifyRandomTests : IAsyncLifetime, IDisposable
{
    private ServiceServers _servers = null!;
    private ApplicationCredentials _credentials = null!;
    private RandomProof _proof = null!;
    private string _networkKey = null!;

    public async Task InitializeAsync()
    {
        _servers = await ServiceServers.StartAsync();
        var (instance, key) = _servers.Directory.Register("verify tests");
        _credentials = new ApplicationCredentials(instance.Handle, instance.ApplicationId, instance.Instance, instance.Name, key);
        using var client = new ProactiveClient(_servers.BaseAddress(1), _credentials);
        _proof = (await client.GetRandomAsync("seed"u8.ToArray())).Proof;
        _networkKey = _servers.Network.NetworkKeyHex;
    }

    public async Task DisposeAsync() => await _servers.DisposeAsync();

    public void Dispose() => _credentials.Dispose();

    [Fact]
    public void The_untouched_proof_verifies()
    {
        Assert.Equal(new RandomVerification(true, null), ProactiveClient.VerifyRandom(_proof, _networkKey));
    }

    public static TheoryData<string, string> Tampering => new()
    {
        { "value", "value is not the one" },
        { "input", "message is not the one of this application and input" },
        { "application", "message is not the one of this application and input" },
        { "message+input", "proofs or their combination" },
        { "period", "certificate is not the network's certificate of period" },
        { "format", "format" },
        { "suite", "unknown suite" },
        { "output", "output does not decode" },
        { "certificate", "certificate does not decode" },
        { "publicState", "public state is not the one the certificate certifies" },
        { "networkKey", "another network key" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void A_changed_part_fails_and_says_what(string part, string reason)
    {
        var changed = part switch
        {
            "value" => _proof with { Value = Flip(_proof.Value) },
            "input" => _proof with { Input = _proof.Input + "00" },
            "application" => _proof with { Application = Flip(_proof.Application) },
            "message+input" => _proof with { Input = _proof.Input + "00", Message = _proof.Message + "00" },
            "period" => _proof with { Period = _proof.Period + 1 },
            "format" => _proof with { Format = "proactive-random-proof-v0" },
            "suite" => _proof with { Suite = "rsa" },
            "output" => _proof with { Output = Convert.ToBase64String(Convert.FromBase64String(_proof.Output)[..^1]) },
            "certificate" => _proof with { Certificate = "not base64!" },
            "publicState" => _proof with { PublicState = Convert.ToBase64String([.. Convert.FromBase64String(_proof.PublicState), 0]) },
            "networkKey" => _proof with { NetworkKey = Flip(_proof.NetworkKey) },
            _ => throw new ArgumentOutOfRangeException(nameof(part)),
        };

        var verification = ProactiveClient.VerifyRandom(changed, _networkKey);

        Assert.False(verification.Valid);
        Assert.Contains(reason, verification.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_proof_is_only_as_good_as_the_network_key_it_is_checked_under()
    {
        using var other = new DealtNetwork();

        // Checked under another network's key: refused even before the certificate.
        Assert.False(ProactiveClient.VerifyRandom(_proof, other.NetworkKeyHex).Valid);

        // A proof that claims the other key still carries this network's certificate, which that key did not sign.
        var relabelled = _proof with { NetworkKey = other.NetworkKeyHex };
        var verification = ProactiveClient.VerifyRandom(relabelled, other.NetworkKeyHex);
        Assert.False(verification.Valid);
        Assert.Contains("certificate", verification.Failure, StringComparison.Ordinal);

        // Another network's certificate and state under this key: refused.
        var transplanted = _proof with { Certificate = Convert.ToBase64String(other.Certificate.Encode()), PublicState = Convert.ToBase64String(other.PublicState.Encode()) };
        Assert.False(ProactiveClient.VerifyRandom(transplanted, _networkKey).Valid);

        Assert.False(ProactiveClient.VerifyRandom(_proof, "not a key").Valid);
    }

    [Fact]
    public void Proof_json_is_read_strictly()
    {
        var json = _proof.ToJson();
        Assert.Equal(_proof, RandomProof.FromJson(json));

        Assert.Throws<ProactiveVerificationException>(() => RandomProof.FromJson(json.Replace("\"format\"", "\"extra\": 1, \"format\"", StringComparison.Ordinal)));
        Assert.Throws<ProactiveVerificationException>(() => RandomProof.FromJson(json.Replace("\"period\"", "\"perod\"", StringComparison.Ordinal)));
        Assert.Throws<ProactiveVerificationException>(() => RandomProof.FromJson("[]"));
        Assert.Throws<ProactiveVerificationException>(() => RandomProof.FromJson("null"));
    }

    /// <summary>The same hex with its first digit changed.</summary>
    private static string Flip(string hex) => (hex[0] == '0' ? '1' : '0') + hex[1..];
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Proactive.Client;
using Xunit.Abstractions;

namespace Proactive.Cli.Tests.Cluster;

/// <summary>
/// Issue 5 as a new user tries it, on one real local cluster (five processes, 10 s periods) through the
/// real <c>proactive</c> program and the SDK: register; every server's verified time; the certified
/// period keys; the same random
/// value across a refresh, verified; a secret retrieved after two refreshes and after a server was wiped,
/// the wiped server serving its share again once recovered; StoreUntil refusing before its date; public
/// data with versions; a key and a signature that OpenSSL and <c>proactive verify</c> accept; an
/// unregistered instance; a quota used up; a distributed application registered by certificate writing
/// with a quorum of its instances. One cluster for all of it (it takes a while to start);
/// run with <c>--filter Category=EndToEnd</c>.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ApplicationEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "proactive-app-e2e-" + Guid.NewGuid().ToString("N"));
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _server = string.Empty;

    public void Dispose()
    {
        ProactiveProcess.Run("cluster", "down", "--dir", _dir);
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_application_registers_stores_retrieves_across_refreshes_and_a_wipe_and_gets_standard_signatures()
    {
        var up = ProactiveProcess.Run("cluster", "up", "--nodes", "5", "--threshold", "2", "--faults", "1", "--period", "10s", "--detach", "--timeout", "120s", "--dir", _dir);
        Assert.True(up.ExitCode == 0, up.StandardOutput + up.StandardError);
        _server = Status().Single(s => Id(s) == 1).GetProperty("apiUrl").GetString()!;
        Step("cluster up");

        // Dealing keys are checked against a certified KeyTable, which the first refresh makes.
        Assert.True(WaitUntil(() => Status().All(s => Period(s) >= 1), TimeSpan.FromSeconds(40)), "period 1 did not start");
        var credentials = Path.Combine(_dir, "app", "credentials.json");
        var registered = Cli("app", "register", "--name", "e2e", "--unique-id", "first", "--credentials", credentials, "--json");
        using (var json = JsonDocument.Parse(registered))
        {
            Assert.StartsWith("app_", json.RootElement.GetProperty("handle").GetString(), StringComparison.Ordinal);
        }

        using (var time = JsonDocument.Parse(Cli("time", "--credentials", credentials, "--json")))
        {
            Assert.Equal(5, time.RootElement.GetProperty("verifiedCount").GetInt32());
        }

        using (var keys = JsonDocument.Parse(Cli("period-key", "--json")))
        {
            Assert.Equal(5, keys.RootElement.GetProperty("servers").GetArrayLength());
            Assert.True(keys.RootElement.GetProperty("period").GetUInt64() >= 1);
        }

        var firstRandom = Cli("random", "--input", "6c6f7474657279", "--credentials", credentials, "--json");
        var secret = "the launch codes: " + Guid.NewGuid().ToString("N");
        Cli("store", "codes", "--value", secret, "--credentials", credentials);
        var storedIn = Status().Min(Period);
        Step($"registered, time, random, secret stored in period {storedIn}");

        // While the secret waits for the refreshes: StoreUntil, public data, a key and its signatures.
        var early = ProactiveProcess.Run("store-until", "sealed", "--value", "not before next year", "--until", "+365d", "--server", _server, "--credentials", credentials);
        Assert.True(early.ExitCode == 0, early.StandardError);
        var refused = ProactiveProcess.Run("retrieve", "sealed", "--server", _server, "--credentials", credentials);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not-yet", refused.StandardError, StringComparison.Ordinal);

        Cli("store", "notice", "--type", "public-read-write", "--value", "v1", "--credentials", credentials);
        var stale = ProactiveProcess.Run("write", "notice", "--version", "2", "--value", "v2", "--server", _server, "--credentials", credentials);
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("version-mismatch", stale.StandardError, StringComparison.Ordinal);
        Cli("write", "notice", "--version", "1", "--value", "v2", "--credentials", credentials);
        Assert.Equal("v2", Cli("retrieve", "notice", "--credentials", credentials));

        Cli("key", "generate", "signer", "--credentials", credentials);
        using (var signed = JsonDocument.Parse(Cli("sign", "--key", "signer", "--message", "pay 10 to bob", "--credentials", credentials, "--json")))
        {
            var publicKey = signed.RootElement.GetProperty("publicKey").GetString()!;
            var message = signed.RootElement.GetProperty("message").GetString()!;
            var signature = signed.RootElement.GetProperty("signature").GetString()!;
            Assert.Equal(Convert.ToHexStringLower("pay 10 to bob"u8), message);
            Assert.Equal(0, ProactiveProcess.Run("verify", "--public-key", publicKey, "--message-hex", message, "--signature", signature).ExitCode);
            OpenSslVerifies(publicKey, Convert.FromHexString(message), Convert.FromHexString(signature));
        }

        var stranger = Path.Combine(_dir, "stranger", "credentials.json");
        using (var unregistered = ApplicationCredentials.Create(new byte[16], 0, "stranger"))
        {
            unregistered.Save(stranger);
        }

        var unknown = ProactiveProcess.Run("app", "show", "--server", _server, "--credentials", stranger);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown-handle", unknown.StandardError, StringComparison.Ordinal);

        var small = Path.Combine(_dir, "small", "credentials.json");
        Cli("app", "register", "--name", "e2e", "--unique-id", "small", "--max-entries", "1", "--credentials", small);
        Cli("store", "only", "--type", "public-write-once", "--value", "x", "--credentials", small);
        var full = ProactiveProcess.Run("store", "another", "--type", "public-write-once", "--value", "y", "--server", _server, "--credentials", small);
        Assert.Equal(1, full.ExitCode);
        Assert.Contains("quota-exceeded", full.StandardError, StringComparison.Ordinal);
        Step("store-until, public data, key and signatures, unregistered, quota");

        // A distributed application registered by certificate (toolkit 5.1 option 2): its CA certifies three
        // instances' keys, each registers at its server, and a quorum of them (3 of 5) writes shared data.
        var name = "certified-e2e";
        var ca = Path.Combine(_dir, "ca", "ca.json");
        Offline("app", "ca", "create", "--ca", ca);
        var instances = new Dictionary<int, string>();
        foreach (var instance in new[] { 1, 2, 3 })
        {
            instances[instance] = Path.Combine(_dir, $"instance{instance}", "credentials.json");
            var publicKey = Offline("app", "keygen", "--name", name, "--instance", $"{instance}", "--credentials", instances[instance]).Trim();
            var certificate = Path.Combine(_dir, $"instance{instance}", "certificate.hex");
            Cli("app", "certify", "--ca", ca, "--name", name, "--instance", $"{instance}", "--public-key", publicKey, "--valid-until", "+10m", "--out", certificate);
            Cli("app", "register", "--certificate", certificate, "--credentials", instances[instance]);
        }

        foreach (var instance in new[] { 1, 2, 3 })
        {
            Cli("store", "roster", "--type", "public-read-write", "--value", "alice, bob", "--credentials", instances[instance]);
        }

        Assert.Equal("alice, bob", Cli("retrieve", "roster", "--credentials", instances[2]));
        Step("a certificate-registered application: three instances, a quorum write");

        // Two refreshes later: the secret has joined the share vector (at the refresh of its period + 2).
        Assert.True(WaitUntil(() => Status().All(s => Period(s) >= storedIn + 2), TimeSpan.FromSeconds(40)), "two refreshes did not happen");
        Assert.True(WaitUntil(() => Sharing(Cli("retrieve", "codes", "--credentials", credentials, "--json")) != "dealt", TimeSpan.FromSeconds(20)), "the secret did not join the share vector");
        using (var retrieved = JsonDocument.Parse(Cli("retrieve", "codes", "--credentials", credentials, "--json")))
        {
            Assert.Equal(secret, Encoding.UTF8.GetString(Convert.FromBase64String(retrieved.RootElement.GetProperty("value").GetString()!)));
        }

        var secondRandom = Cli("random", "--input", "6c6f7474657279", "--credentials", credentials, "--json");
        var (first, second) = (RandomProof.FromJson(firstRandom), RandomProof.FromJson(secondRandom));
        Assert.True(second.Period > first.Period, $"both values are of period {first.Period}");
        Assert.Equal(first.Value, second.Value);
        var proofFile = Path.Combine(_dir, "proof.json");
        File.WriteAllText(proofFile, firstRandom);
        Assert.Equal(0, ProactiveProcess.Run("random", "verify", proofFile, "--network-key", first.NetworkKey).ExitCode);
        Step("retrieved after two refreshes; random across a refresh");

        // A server wiped: the secret is still there from the others, and the wiped server, recovered, serves its share again.
        var wipe = ProactiveProcess.Run("cluster", "break-in", "--server", "3", "--wipe", "--dir", _dir);
        Assert.True(wipe.ExitCode == 0, wipe.StandardOutput + wipe.StandardError);
        var wipedAt = Status().Max(Period);
        Assert.Equal(secret, Cli("retrieve", "codes", "--credentials", credentials));
        Step($"server 3 wiped in period {wipedAt}, secret retrieved from the others");

        var third = Status().Single(s => Id(s) == 3).GetProperty("apiUrl").GetString()!;
        using var sdkCredentials = ApplicationCredentials.Load(credentials);
        using var client = new ProactiveClient(new ProactiveClientOptions { Server = new Uri(third), Credentials = sdkCredentials, MaxRetries = 0 });
        RetrievedData? fromThird = null;
        string? failure = null;
        var served = await WaitUntilAsync(async () =>
        {
            try
            {
                fromThird = await client.RetrieveAsync("codes");
                failure = string.Join("; ", fromThird.Failures.Select(f => $"{f.Key}: {f.Value}"));
                return fromThird.Servers.Contains(3);
            }
            catch (ProactiveException e)
            {
                failure = e.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(70));
        Assert.True(served, $"server 3 did not serve its share again (states: {string.Join(", ", Status().Select(s => $"{Id(s)}: {s.GetProperty("state").GetString()} p{Period(s)}"))}; last: {string.Join(", ", fromThird?.Servers ?? [])}: {failure})");
        Assert.Equal(secret, Encoding.UTF8.GetString(fromThird!.Value));
        Step("server 3 recovered and served its share");
    }

    /// <summary>OpenSSL's Ed25519 verifier accepts the signature under the public key (as an RFC 8410 DER SubjectPublicKeyInfo).</summary>
    private void OpenSslVerifies(string publicKeyHex, byte[] message, byte[] signature)
    {
        var folder = Path.Combine(_dir, "openssl");
        Directory.CreateDirectory(folder);
        var key = Path.Combine(folder, "key.der");
        var data = Path.Combine(folder, "message.bin");
        var sig = Path.Combine(folder, "signature.bin");
        File.WriteAllBytes(key, Convert.FromHexString("302a300506032b6570032100" + publicKeyHex));
        File.WriteAllBytes(data, message);
        File.WriteAllBytes(sig, signature);
        var start = new ProcessStartInfo("openssl");
        foreach (var argument in new[] { "pkeyutl", "-verify", "-pubin", "-inkey", key, "-keyform", "DER", "-rawin", "-in", data, "-sigfile", sig })
        {
            start.ArgumentList.Add(argument);
        }

        var run = ProactiveProcess.RunProcess(start, TimeSpan.FromSeconds(30));
        Assert.True(run.ExitCode == 0, "openssl: " + run.StandardOutput + run.StandardError);
        Assert.Contains("Signature Verified Successfully", run.StandardOutput, StringComparison.Ordinal);

        // And refuses it for another message.
        File.WriteAllBytes(data, [.. message, 0]);
        Assert.NotEqual(0, ProactiveProcess.RunProcess(start, TimeSpan.FromSeconds(30)).ExitCode);
    }

    /// <summary>Runs the program against server 1 and returns its output; any exit but 0 fails the test with what it said.</summary>
    private string Cli(params string[] arguments)
    {
        var run = ProactiveProcess.Run([.. arguments, "--server", _server]);
        Assert.True(run.ExitCode == 0, $"proactive {string.Join(' ', arguments)}: exit {run.ExitCode}: {run.StandardOutput}{run.StandardError}");
        return run.StandardOutput;
    }

    /// <summary>Runs a command that talks to no server (it takes no --server) and returns its output; any exit but 0 fails the test.</summary>
    private static string Offline(params string[] arguments)
    {
        var run = ProactiveProcess.Run(arguments);
        Assert.True(run.ExitCode == 0, $"proactive {string.Join(' ', arguments)}: exit {run.ExitCode}: {run.StandardOutput}{run.StandardError}");
        return run.StandardOutput;
    }

    private static string? Sharing(string retrieveJson)
    {
        using var json = JsonDocument.Parse(retrieveJson);
        return json.RootElement.GetProperty("sharing").GetString();
    }

    private void Step(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s  {what}");

    private List<JsonElement> Status()
    {
        var run = ProactiveProcess.Run("cluster", "status", "--json", "--dir", _dir);
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StandardOutput);
        return [.. json.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static int Id(JsonElement server) => server.GetProperty("id").GetInt32();

    private static ulong Period(JsonElement server) =>
        server.TryGetProperty("period", out var period) && period.ValueKind == JsonValueKind.Number ? period.GetUInt64() : 0;

    private static bool WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(1000);
        }

        return condition();
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(2000);
        }

        return await condition();
    }
}

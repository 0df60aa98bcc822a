using System.Text.Json;
using Proactive.Crypto.Groups;
using Proactive.Node.Tests;
using Proactive.Node.Tests.Support;

namespace Proactive.Cli.Tests;

/// <summary>
/// <c>proactive app keygen | ca create | certify</c>, <c>app register --certificate</c>, <c>period-key
/// register | verify</c>, <c>link send | receive</c> and <c>joint-secret generate | show</c>: the real
/// program against a real two-server network in this process (period 0). Usage errors: <see cref="CommunicationUsageTests"/>.
/// </summary>
public sealed class CommunicationCommandsTests : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _temp = new();
    private InProcessCluster? _cluster;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync(windowsOf: TimeSpan.FromSeconds(20));

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    public void Dispose() => _temp.Dispose();

    private string Server => _cluster!.Api(1).ToString();

    [Fact]
    public void Instances_registered_by_certificate_link_certify_period_keys_and_share_a_joint_secret()
    {
        var name = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var ca = _temp.Combine("ca", "ca.json");
        var created = Run("app", "ca", "create", "--ca", ca, "--json");
        using (var json = JsonDocument.Parse(created.StandardOutput))
        {
            Assert.Equal(64, json.RootElement.GetProperty("publicKey").GetString()!.Length);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ca));
        }

        Assert.Equal(1, ProactiveProcess.Run("app", "ca", "create", "--ca", ca).ExitCode);

        // Each instance: its key, the CA's certificate for it, its registration at its server.
        var credentials = new Dictionary<int, string>();
        foreach (var instance in new[] { 1, 2 })
        {
            credentials[instance] = _temp.Combine($"instance{instance}", "credentials.json");
            var publicKey = Run("app", "keygen", "--name", name, "--instance", $"{instance}", "--credentials", credentials[instance]).StandardOutput.Trim();
            var certificate = _temp.Combine($"instance{instance}", "certificate.hex");
            Run("app", "certify", "--ca", ca, "--name", name, "--instance", $"{instance}", "--public-key", publicKey, "--valid-until", "+10m", "--out", certificate, "--server", Server);
            var registered = Run("app", "register", "--certificate", certificate, "--credentials", credentials[instance], "--server", Server, "--json");
            using var json = JsonDocument.Parse(registered.StandardOutput);
            Assert.EndsWith($"_{instance}", json.RootElement.GetProperty("handle").GetString(), StringComparison.Ordinal);
            Assert.Equal(instance, json.RootElement.GetProperty("certificate").GetProperty("serverId").GetInt32());

            var again = ProactiveProcess.Run("app", "register", "--certificate", certificate, "--credentials", credentials[instance], "--server", Server);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("certificate-used", again.StandardError, StringComparison.Ordinal);
        }

        string[] As(int instance) => ["--server", Server, "--credentials", credentials[instance]];
        var shown = Run(["app", "show", .. As(2)]);
        Assert.Contains("a quorum operation needs 2", shown.StandardOutput, StringComparison.Ordinal);

        // A certificate for a key the instance does not hold: refused before anything is sent.
        var stranger = _temp.Combine("stranger", "credentials.json");
        var strangerKey = Run("app", "keygen", "--name", name, "--instance", "1", "--credentials", stranger).StandardOutput.Trim();
        var forOther = _temp.Combine("stranger", "certificate.hex");
        Run("app", "certify", "--ca", ca, "--name", name, "--instance", "1", "--public-key", strangerKey, "--out", forOther, "--server", Server);
        var mismatched = ProactiveProcess.Run(["app", "register", "--certificate", forOther, .. As(2)]);
        Assert.Equal(2, mismatched.ExitCode);

        // Links: instance 1 to instance 2, received once.
        Assert.Equal(0, Run(["link", "send", "--to", "2", "--message", "hello from 1", .. As(1)]).ExitCode);
        var messages = new List<JsonElement>();
        for (var attempt = 0; attempt < 20 && messages.Count == 0; attempt++)
        {
            using var received = JsonDocument.Parse(Run(["link", "receive", "--json", .. As(2)]).StandardOutput);
            messages.AddRange(received.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.Clone()));
        }

        var message = Assert.Single(messages);
        Assert.Equal(1, message.GetProperty("from").GetInt32());
        Assert.Equal(Convert.ToHexStringLower("hello from 1"u8), message.GetProperty("payload").GetString());
        Assert.Equal("No messages.", Run(["link", "receive", .. As(2)]).StandardOutput.Trim());

        // A period key of instance 1, certified by the network key, then checked offline.
        var periodKey = Run("app", "keygen", "--name", "unused", "--instance", "1", "--credentials", _temp.Combine("period", "key.json")).StandardOutput.Trim();
        var certificateFile = _temp.Combine("period", "certificate.json");
        var certified = Run(["period-key", "register", "--public-key", periodKey, "--out", certificateFile, "--json", .. As(1)]);
        string networkKey;
        using (var json = JsonDocument.Parse(certified.StandardOutput))
        {
            Assert.Equal(periodKey, json.RootElement.GetProperty("publicKey").GetString());
            networkKey = json.RootElement.GetProperty("networkKey").GetString()!;
        }

        Assert.Equal(0, Run("period-key", "verify", "--certificate", certificateFile, "--network-key", networkKey).ExitCode);
        var wrongKey = ProactiveProcess.Run("period-key", "verify", "--certificate", certificateFile, "--network-key", periodKey);
        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("NOT", wrongKey.StandardOutput, StringComparison.Ordinal);

        // A random joint secret: a quorum (both instances) asks, then either rebuilds it and it matches g^x.
        using (var pending = JsonDocument.Parse(Run(["joint-secret", "generate", "j1", "--json", .. As(1)]).StandardOutput))
        {
            Assert.Equal("pending", pending.RootElement.GetProperty("status").GetString());
        }

        string publicValue;
        using (var generated = JsonDocument.Parse(Run(["joint-secret", "generate", "j1", "--json", .. As(2)]).StandardOutput))
        {
            Assert.Equal("ready", generated.RootElement.GetProperty("status").GetString());
            publicValue = generated.RootElement.GetProperty("publicValue").GetString()!;
        }

        using (var shownSecret = JsonDocument.Parse(Run(["joint-secret", "show", "j1", "--json", .. As(1)]).StandardOutput))
        {
            var group = PrimeOrderGroup.Ed25519;
            Assert.True(group.TryDecodeScalar(Convert.FromHexString(shownSecret.RootElement.GetProperty("value").GetString()!), out var x));
            Assert.Equal(publicValue, Convert.ToHexStringLower(group.EncodeElement(group.MultiplyBase(x))));
            Assert.Equal(publicValue, shownSecret.RootElement.GetProperty("publicValue").GetString());
        }
    }

    [Fact]
    public void A_given_joint_secret_is_stored_as_a_secret_and_shown_back()
    {
        var credentials = _temp.Combine("given", "credentials.json");
        Run("app", "register", "--name", "given", "--unique-id", Guid.NewGuid().ToString("N"), "--server", Server, "--credentials", credentials);

        // In period 0 no certified KeyTable lists the dealing keys: a given value (a dealt secret) waits for the first refresh.
        var early = ProactiveProcess.Run("joint-secret", "generate", "g", "--value-hex", "00ff", "--server", Server, "--credentials", credentials);
        Assert.Equal(1, early.ExitCode);
        Assert.Contains("KeyTable", early.StandardError, StringComparison.Ordinal);

        var unknown = ProactiveProcess.Run("joint-secret", "show", "nothing", "--server", Server, "--credentials", credentials);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown-data", unknown.StandardError, StringComparison.Ordinal);
    }

    private static ProactiveProcess.Result Run(params string[] arguments)
    {
        var run = ProactiveProcess.Run(arguments);
        Assert.True(run.ExitCode == 0, $"{string.Join(' ', arguments)}: exit {run.ExitCode}\n{run.StandardOutput}\n{run.StandardError}");
        return run;
    }
}

/// <summary>The usage errors of the certificate, period-key, link and joint-secret commands (no network needed: they exit before connecting).</summary>
public sealed class CommunicationUsageTests
{
    [Theory]
    [InlineData("app", "register", "--certificate", "cert.hex", "--name", "n")]
    [InlineData("app", "register", "--certificate", "cert.hex", "--instance", "1")]
    [InlineData("app", "keygen", "--name", "n")]
    [InlineData("app", "certify", "--name", "n", "--instance", "1")]
    [InlineData("app", "certify", "--name", "n", "--instance", "1", "--public-key", "XYZ")]
    [InlineData("app", "certify", "--name", "n", "--instance", "1", "--public-key", "00", "--valid-until", "yesterday")]
    [InlineData("period-key", "register")]
    [InlineData("period-key", "register", "--public-key", "0011")]
    [InlineData("period-key", "verify", "--certificate", "c.json")]
    [InlineData("link", "send", "--message", "m")]
    [InlineData("link", "send", "--to", "2")]
    [InlineData("joint-secret", "generate", "j", "--value", "a", "--value-hex", "00")]
    [InlineData("joint-secret", "show")]
    public void Usage_errors_exit_2_with_a_message(params string[] arguments)
    {
        var run = ProactiveProcess.Run(arguments);

        Assert.True(run.ExitCode == 2, $"{string.Join(' ', arguments)}: exit {run.ExitCode}, {run.StandardOutput}{run.StandardError}");
        Assert.False(string.IsNullOrWhiteSpace(run.StandardError));
    }
}

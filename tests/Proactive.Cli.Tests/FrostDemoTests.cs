using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Frost;

namespace Proactive.Cli.Tests;

/// <summary>End to end: the real program, its JSON, and independent verification of what it prints.</summary>
public class FrostDemoTests
{
    [Fact]
    public void Json_output_is_one_object_whose_Ed25519_signature_OpenSSL_accepts()
    {
        var run = ProactiveProcess.Run("frost-demo", "--nodes", "5", "--threshold", "2", "--message", "hello", "--json");
        Assert.Equal(0, run.ExitCode);

        using var json = JsonDocument.Parse(run.StandardOutput); // throws if there is anything but one JSON value
        var root = json.RootElement;
        Assert.Equal("ed25519", root.GetProperty("suite").GetString());
        Assert.Equal("68656c6c6f", root.GetProperty("message").GetString());
        var signers = root.GetProperty("signers").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(3, signers.Length);
        Assert.All(signers, s => Assert.InRange(s, 1, 5));
        Assert.Equal(signers.Length, signers.Distinct().Count());

        var publicKey = Convert.FromHexString(root.GetProperty("groupPublicKey").GetString()!);
        var signature = Convert.FromHexString(root.GetProperty("signature").GetString()!);
        Assert.Equal(32, publicKey.Length);
        Assert.Equal(64, signature.Length);
        Assert.True(OpenSslVerifiesEd25519(publicKey, "hello"u8.ToArray(), signature), "openssl pkeyutl rejected the signature");

        // And a tampered message is rejected by the same independent verifier, so the check can fail.
        Assert.False(OpenSslVerifiesEd25519(publicKey, "hellp"u8.ToArray(), signature));
    }

    [Theory]
    [InlineData("ristretto255")]
    [InlineData("p256")]
    public void Other_suites_print_signatures_that_verify_under_the_printed_key(string suiteName)
    {
        var run = ProactiveProcess.Run("frost-demo", "--nodes", "7", "--threshold", "3", "--message", "période", "--suite", suiteName, "--json");
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.StandardOutput);
        var root = json.RootElement;
        Assert.Equal(suiteName, root.GetProperty("suite").GetString());
        Assert.Equal(4, root.GetProperty("signers").GetArrayLength());
        var message = Convert.FromHexString(root.GetProperty("message").GetString()!);
        Assert.Equal("période", Encoding.UTF8.GetString(message));

        var suite = suiteName == "p256" ? Ciphersuite.P256 : Ciphersuite.Ristretto255;
        Assert.True(GroupPublicKey.TryDecode(suite, Convert.FromHexString(root.GetProperty("groupPublicKey").GetString()!), out var key));
        Assert.True(Signature.TryDecode(suite, Convert.FromHexString(root.GetProperty("signature").GetString()!), out var signature));
        Assert.True(key!.Verify(message, signature!));
        Assert.False(key.Verify("other"u8, signature!));
    }

    [Fact]
    public void Text_output_names_the_signers_and_the_verification()
    {
        var run = ProactiveProcess.Run("frost-demo", "--message", "hello");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("verified      yes", run.StandardOutput);
        Assert.Contains("Ed25519       yes", run.StandardOutput);
    }

    [Theory]
    [InlineData("--nodes", "5", "--threshold", "5")]
    [InlineData("--nodes", "5", "--threshold", "0")]
    [InlineData("--nodes", "1", "--threshold", "1")]
    [InlineData("--nodes", "300", "--threshold", "2")]
    public void Impossible_thresholds_are_refused_with_a_reason(params string[] arguments)
    {
        var run = ProactiveProcess.Run(["frost-demo", "--message", "x", .. arguments]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("must", run.StandardError);
        Assert.Equal(string.Empty, run.StandardOutput);
    }

    [Fact]
    public void Unknown_suite_and_missing_message_are_usage_errors()
    {
        Assert.NotEqual(0, ProactiveProcess.Run("frost-demo", "--message", "x", "--suite", "secp256k1").ExitCode);
        Assert.NotEqual(0, ProactiveProcess.Run("frost-demo").ExitCode);
    }

    /// <summary>Verifies with the openssl command-line tool: a verifier that shares no code with Proactive.</summary>
    private static bool OpenSslVerifiesEd25519(byte[] publicKey, byte[] message, byte[] signature)
    {
        var dir = Directory.CreateTempSubdirectory("proactive-ed25519-");
        try
        {
            // SubjectPublicKeyInfo for Ed25519 (RFC 8410): fixed 12-byte prefix, then the raw key.
            var spki = Convert.FromHexString("302a300506032b6570032100").Concat(publicKey).ToArray();
            File.WriteAllBytes(Path.Combine(dir.FullName, "pub.der"), spki);
            File.WriteAllBytes(Path.Combine(dir.FullName, "msg"), message);
            File.WriteAllBytes(Path.Combine(dir.FullName, "sig"), signature);
            var start = new ProcessStartInfo("openssl") { WorkingDirectory = dir.FullName };
            foreach (var a in new[] { "pkeyutl", "-verify", "-pubin", "-inkey", "pub.der", "-keyform", "DER", "-rawin", "-in", "msg", "-sigfile", "sig" })
            {
                start.ArgumentList.Add(a);
            }

            var result = ProactiveProcess.RunProcess(start, TimeSpan.FromSeconds(30));
            return result.ExitCode == 0 && result.StandardOutput.Contains("Signature Verified Successfully", StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}

using System.CommandLine;
using System.Text;
using System.Text.Json;
using Proactive.Crypto.Interop;
using Proactive.Crypto.Random;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive frost-demo</c>: the in-process signing ceremony. A trusted dealer (RFC 9591
/// appendix C) splits a fresh group key among N participants with threshold T; T+1 randomly chosen
/// participants run the two FROST rounds; the coordinator aggregates and verifies.
/// </summary>
internal static class FrostDemoCommand
{
    internal const int ExitVerified = 0;
    internal const int ExitNotVerified = 1;
    internal const int ExitUsage = 2;

    internal static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of participants N (2..255).", DefaultValueFactory = _ => 5 };
        var threshold = new Option<int>("--threshold")
        {
            Description = "Privacy threshold T: any T learn nothing, T+1 sign (1..N-1).",
            DefaultValueFactory = _ => 2,
        };
        var message = new Option<string>("--message") { Description = "The message to sign (UTF-8).", Required = true };
        var suite = new Option<string>("--suite") { Description = "Ciphersuite.", DefaultValueFactory = _ => "ed25519" };
        suite.AcceptOnlyFromAmong(SuiteNames.All);
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };

        var command = new Command("frost-demo", "Run trusted-dealer key generation and a FROST signing by T+1 random participants, in process.")
        {
            nodes,
            threshold,
            message,
            suite,
            json,
        };
        command.SetAction(parse =>
        {
            var n = parse.GetValue(nodes);
            var t = parse.GetValue(threshold);
            if (n is < 2 or > 255)
            {
                Console.Error.WriteLine($"--nodes must be between 2 and 255 (got {n}).");
                return ExitUsage;
            }

            if (t < 1 || t >= n)
            {
                Console.Error.WriteLine($"--threshold must satisfy 1 <= T < N, because T+1 of the N participants sign (got T={t}, N={n}).");
                return ExitUsage;
            }

            try
            {
                var result = FrostCeremony.Run(SuiteNames.Parse(parse.GetValue(suite)!), n, t, Encoding.UTF8.GetBytes(parse.GetValue(message)!), SystemRandomSource.Instance);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(result.ToJson(), CliJson.Options));
                }
                else
                {
                    PrintText(result);
                }

                return result.Verified ? ExitVerified : ExitNotVerified;
            }
            catch (NativeLibraryMissingException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitNotVerified;
            }
        });
        return command;
    }

    private static void PrintText(FrostCeremonyResult r)
    {
        Console.WriteLine($"FROST({r.Suite}) ceremony: {r.Nodes} participants, threshold {r.Threshold} ({r.Threshold + 1} sign)");
        Console.WriteLine($"  dealer        split a fresh group key; every share checked against the VSS commitment");
        Console.WriteLine($"  signers       {string.Join(", ", r.Signers)}");
        Console.WriteLine($"  group key     {Convert.ToHexStringLower(r.GroupPublicKey)}");
        Console.WriteLine($"  message       \"{Encoding.UTF8.GetString(r.Message)}\" ({Convert.ToHexStringLower(r.Message)})");
        Console.WriteLine($"  signature     {Convert.ToHexStringLower(r.Signature)}");
        Console.WriteLine($"  verified      {(r.Verified ? "yes" : "NO")} (FROST verification)");
        if (r.StandardEd25519Verified is { } standard)
        {
            Console.WriteLine($"  Ed25519       {(standard ? "yes" : "NO")} (libsodium crypto_sign_verify_detached, a standard RFC 8032 verifier)");
        }
    }
}

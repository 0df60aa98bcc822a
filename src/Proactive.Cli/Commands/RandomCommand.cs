using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Proactive.Client;
using Proactive.Protocols.Services;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive random [--input HEX]</c> (toolkit GetRandom): a joint random value, the DPRF of the
/// application and the input evaluated by t+1 servers, verified before it is printed; <c>--json</c>
/// prints the proof material (one object). Without <c>--input</c> a fresh 32-byte input is drawn, so
/// every call gives a new value; with one, the same input always gives the same value, and anyone can
/// check it. <c>proactive random verify FILE</c> (or <c>-</c> for stdin) checks such a proof offline.
/// Exit 0 ok (verify: the proof holds), 1 failed (verify: it does not), 2 usage.
/// </summary>
internal static class RandomCommand
{
    /// <summary>Bytes of the input drawn when none is given.</summary>
    internal const int DefaultInputLength = 32;

    internal static Command Create()
    {
        var connection = new ClientConnection();
        var input = new Option<string?>("--input") { Description = $"The input, lowercase hex, at most {ApplicationRandomness.MaxInputLength} bytes (default: {DefaultInputLength} fresh random bytes)." };
        var command = new Command("random", "A joint random value of t+1 servers, verifiable by anyone (see 'random verify').") { input, CreateVerify() };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            byte[] bytes;
            if (parse.GetValue(input) is { } text)
            {
                if (!ClientConnection.TryParseHex(text, "--input", ApplicationRandomness.MaxInputLength, out bytes, out var error))
                {
                    Console.Error.WriteLine(error);
                    return ClientConnection.ExitUsage;
                }
            }
            else
            {
                bytes = RandomNumberGenerator.GetBytes(DefaultInputLength);
            }

            var (client, credentials, exit) = connection.Open(parse, needsCredentials: true);
            if (client is null)
            {
                return exit;
            }

            using (client)
            using (credentials)
            {
                try
                {
                    var result = await client.GetRandomAsync(bytes, cancellationToken).ConfigureAwait(false);
                    if (parse.GetValue(connection.Json))
                    {
                        Console.WriteLine(result.Proof.ToJson());
                    }
                    else
                    {
                        Console.WriteLine($"Value   {result.Proof.Value}");
                        Console.WriteLine($"Input   {(result.Proof.Input.Length == 0 ? "(empty)" : result.Proof.Input)}");
                        Console.WriteLine($"Period  {result.Proof.Period}, partials of servers {string.Join(", ", result.Servers)}");
                        Console.WriteLine($"Verified under the network key {result.Proof.NetworkKey}.");
                        foreach (var (server, why) in result.Failures.OrderBy(f => f.Key))
                        {
                            Console.WriteLine($"  server {server} not used: {why}");
                        }

                        Console.WriteLine("Keep the proof with --json; 'proactive random verify FILE' checks it.");
                    }

                    return ClientConnection.ExitOk;
                }
                catch (ProactiveException e)
                {
                    Console.Error.WriteLine(e.Message);
                    return ClientConnection.ExitFailed;
                }
            }
        });
        return command;
    }

    private static Command CreateVerify()
    {
        var file = new Argument<string>("file") { Description = "The proof ('proactive random --json' printed it), or - for stdin." };
        var networkKey = new Option<string?>("--network-key") { Description = "The network key to trust, lowercase hex (default: the one in the proof, which only checks that the proof is consistent)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("verify", "Check a random value's proof offline under the network key.") { file, networkKey, json };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            string text;
            try
            {
                text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"Cannot read {path}: {e.Message}");
                return ClientConnection.ExitFailed;
            }

            RandomProof proof;
            try
            {
                proof = RandomProof.FromJson(text);
            }
            catch (ProactiveVerificationException e)
            {
                Console.Error.WriteLine($"{(path == "-" ? "stdin" : path)}: {e.Message}");
                return ClientConnection.ExitFailed;
            }

            var trusted = parse.GetValue(networkKey);
            if (trusted is not null && !ClientConnection.TryParseHex(trusted, "--network-key", 64, out _, out var keyError))
            {
                Console.Error.WriteLine(keyError);
                return ClientConnection.ExitUsage;
            }

            var key = trusted ?? proof.NetworkKey;
            var verification = ProactiveClient.VerifyRandom(proof, key);
            if (parse.GetValue(json))
            {
                var output = new JsonObject
                {
                    ["valid"] = verification.Valid,
                    ["failure"] = verification.Failure,
                    ["value"] = proof.Value,
                    ["period"] = proof.Period,
                    ["networkKey"] = key,
                    ["networkKeySource"] = trusted is null ? "proof" : "argument",
                };
                Console.WriteLine(output.ToJsonString());
            }
            else if (verification.Valid)
            {
                Console.WriteLine($"Valid: the value {proof.Value} is the network's for this application and input (period {proof.Period}).");
                if (trusted is null)
                {
                    Console.WriteLine($"Checked under the network key the proof names ({key}); pass --network-key to check it against the key you trust.");
                }
            }
            else
            {
                Console.WriteLine($"NOT valid: {verification.Failure}.");
            }

            return verification.Valid ? ClientConnection.ExitOk : ClientConnection.ExitFailed;
        });
        return command;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Proactive.Client;
using Proactive.Protocols.Application;

namespace Proactive.Cli.Commands;

/// <summary>
/// Application keys over the SDK (toolkit 5.3): <c>proactive key generate | show | approve</c>,
/// <c>proactive sign</c> (the signature verified before it is printed; <c>--json</c> gives at least
/// <c>publicKey</c>, <c>message</c> and <c>signature</c> in hex) and <c>proactive verify</c>, which checks an
/// Ed25519 signature offline (exit 0 valid, 1 not). Exit 0 ok, 1 failed, 2 usage.
/// </summary>
internal static class KeyCommands
{
    /// <summary>The longest message <c>verify</c> reads (it checks any Ed25519 signature, not only the API's, whose messages are at most 64 KiB).</summary>
    private const int MaxVerifiedMessage = 64 * 1024 * 1024;

    internal static Command CreateKey() => new("key", "Threshold signing keys owned by the application.") { CreateGenerate(), CreateShow(), CreateApprove() };

    internal static Command CreateSign()
    {
        var connection = new ClientConnection();
        var message = new MessageInput();
        var key = new Option<string>("--key") { Description = "The key's id ('proactive key generate ID').", Required = true };
        var command = new Command("sign", "Sign a message with one of the application's keys: the servers run FROST, the signature is checked here before it is printed.") { key };
        message.AddTo(command);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!message.TryRead(parse, KeyRecord.MaxMessageLength, out var bytes, out var error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            return await connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
            {
                var signature = await client.SignAsync(parse.GetValue(key)!, bytes, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(connection.Json))
                {
                    Console.WriteLine(signature.ToJson());
                }
                else
                {
                    Console.WriteLine($"Signature  {Convert.ToHexStringLower(signature.Signature)}");
                    Console.WriteLine($"Public key {Convert.ToHexStringLower(signature.PublicKey)} ({signature.Suite}, key '{signature.KeyId}')");
                    Console.WriteLine($"Message    {bytes.Length} bytes; signed by servers {string.Join(", ", signature.Signers)}; verified here.");
                }

                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    internal static Command CreateVerify()
    {
        var message = new MessageInput();
        var publicKey = new Option<string>("--public-key") { Description = "The public key, lowercase hex (32 bytes for Ed25519).", Required = true };
        var signature = new Option<string>("--signature") { Description = "The signature, lowercase hex (64 bytes for Ed25519).", Required = true };
        var suite = new Option<string>("--suite") { Description = "The key's suite: ed25519, ristretto255 or p256.", DefaultValueFactory = _ => "ed25519", HelpName = "suite" };
        suite.AcceptOnlyFromAmong("ed25519", "ristretto255", "p256");
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("verify", "Check a signature offline (no server): exit 0 when it is valid, 1 when not. Ed25519 is the standard RFC 8032 check.") { publicKey, signature, suite, json };
        message.AddTo(command);
        command.SetAction(parse =>
        {
            if (!ClientConnection.TryParseHex(parse.GetValue(publicKey)!, "--public-key", 65, out var key, out var error)
                || !ClientConnection.TryParseHex(parse.GetValue(signature)!, "--signature", 128, out var signed, out error))
            {
                Console.Error.WriteLine(error);
                return ClientConnection.ExitUsage;
            }

            if (!message.TryRead(parse, MaxVerifiedMessage, out var bytes, out error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            var valid = ProactiveClient.VerifySignature(parse.GetValue(suite)!, key, bytes, signed);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonObject { ["valid"] = valid, ["suite"] = parse.GetValue(suite), ["publicKey"] = Convert.ToHexStringLower(key) }.ToJsonString());
            }
            else
            {
                Console.WriteLine(valid ? "Valid signature." : "NOT a valid signature of this message under this key.");
            }

            return valid ? ClientConnection.ExitOk : ClientConnection.ExitFailed;
        });
        return command;
    }

    private static Command CreateGenerate()
    {
        var connection = new ClientConnection();
        var id = new Argument<string>("id") { Description = "The key's id: letters, digits, '.', '_' or '-'." };
        var command = new Command("generate", "Generate a threshold signing key owned by the application (a DKG among the servers, refreshed every period).") { id };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
        {
            Print(parse, connection, await client.GenerateKeyAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false));
            return ClientConnection.ExitOk;
        }));
        return command;
    }

    private static Command CreateShow()
    {
        var connection = new ClientConnection();
        var id = new Argument<string>("id") { Description = "The key's id." };
        var command = new Command("show", "One of the application's keys, as f+1 servers describe it.") { id };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
        {
            Print(parse, connection, await client.DescribeKeyAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false));
            return ClientConnection.ExitOk;
        }));
        return command;
    }

    private static Command CreateApprove()
    {
        var connection = new ClientConnection();
        var message = new MessageInput();
        var id = new Argument<string>("id") { Description = "The key's id." };
        var command = new Command("approve", "As an instance of a distributed application, approve signing a message with the key (a quorum of instances must).") { id };
        message.AddTo(command);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!message.TryRead(parse, KeyRecord.MaxMessageLength, out var bytes, out var error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            return await connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
            {
                var approval = await client.ApproveSigningAsync(parse.GetValue(id)!, bytes, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(connection.Json))
                {
                    Console.WriteLine(new JsonObject { ["keyId"] = approval.KeyId, ["approved"] = approval.Approved, ["approvals"] = approval.Pending?.Approvals, ["needed"] = approval.Pending?.Needed }.ToJsonString());
                }
                else
                {
                    Console.WriteLine(approval.Approved
                        ? $"Approved by a quorum: any instance may now sign this message with '{approval.KeyId}'."
                        : $"{approval.Pending!.Approvals} of the {approval.Pending.Needed} instances needed have approved.");
                }

                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static void Print(ParseResult parse, ClientConnection connection, ApplicationKey key)
    {
        if (parse.GetValue(connection.Json))
        {
            Console.WriteLine(key.ToJson());
        }
        else if (key.Pending is { } pending)
        {
            Console.WriteLine($"{key.Id}: {pending.Approvals} of the {pending.Needed} instances needed have asked for it.");
        }
        else
        {
            Console.WriteLine($"{key.Id}: {key.Status}, {key.Suite}, public key {key.PublicKey ?? "(not yet)"}");
        }
    }
}

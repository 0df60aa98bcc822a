using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Proactive.Client;

namespace Proactive.Cli.Commands;

/// <summary>
/// Links between a distributed application's instances (toolkit 5.4): <c>proactive link send --to I</c>
/// and <c>proactive link receive</c>; and joint secrets (toolkit 5.3 GenerateJointSecret):
/// <c>proactive joint-secret generate ID [--value ...]</c> and <c>proactive joint-secret show ID</c>.
/// Exit 0 ok (a quorum operation still waiting for other instances is ok too, and says so), 1 failed, 2 usage.
/// </summary>
internal static class CommunicationCommands
{
    internal static Command CreateLink() => new("link", "Messages between the instances of a distributed application, relayed over the servers' channels.") { CreateSend(), CreateReceive() };

    internal static Command CreateJointSecret() => new("joint-secret", "Joint secrets: random (a DKG among the servers; nobody knows the value) or given (dealt here).")
    {
        CreateGenerate(), CreateShow(),
    };

    private static Command CreateSend()
    {
        var connection = new ClientConnection();
        var message = new MessageInput();
        var to = new Option<int>("--to") { Description = "The recipient instance (its server id).", Required = true };
        var command = new Command("send", "Send a message (at most 64 KiB) to another instance of this application; its server keeps it until that instance receives it.") { to };
        message.AddTo(command);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!message.TryRead(parse, ProactiveClient.MaxLinkPayload, out var bytes, out var error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            return await connection.RunAsync(parse, needsCredentials: true, async (client, credentials) =>
            {
                await client.SendLinkMessageAsync(parse.GetValue(to), bytes, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(connection.Json))
                {
                    Console.WriteLine(new JsonObject { ["from"] = credentials!.Instance, ["to"] = parse.GetValue(to), ["bytes"] = bytes.Length, ["status"] = "relayed" }.ToJsonString());
                }
                else
                {
                    Console.WriteLine($"Sent {bytes.Length} bytes from instance {credentials!.Instance} to instance {parse.GetValue(to)}.");
                }

                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateReceive()
    {
        var connection = new ClientConnection();
        var command = new Command("receive", "Receive the messages other instances sent this one (each is handed over once).");
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
        {
            var messages = await client.ReceiveLinkMessagesAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(connection.Json))
            {
                var list = new JsonArray();
                foreach (var message in messages)
                {
                    list.Add(new JsonObject
                    {
                        ["from"] = message.From,
                        ["sentAt"] = message.SentAt.ToString("O", CultureInfo.InvariantCulture),
                        ["payload"] = Convert.ToHexStringLower(message.Payload),
                    });
                }

                Console.WriteLine(new JsonObject { ["messages"] = list }.ToJsonString());
                return ClientConnection.ExitOk;
            }

            if (messages.Count == 0)
            {
                Console.WriteLine("No messages.");
            }

            foreach (var message in messages)
            {
                Console.WriteLine($"from {message.From} at {message.SentAt.ToString("O", CultureInfo.InvariantCulture)}: {Printable(message.Payload)}");
            }

            return ClientConnection.ExitOk;
        }));
        return command;
    }

    private static Command CreateGenerate()
    {
        var connection = new ClientConnection();
        var id = new Argument<string>("id") { Description = "The joint secret's id: letters, digits, '.', '_' or '-'." };
        var value = new Option<string?>("--value") { Description = "A given value, as text (its UTF-8 bytes): dealt here and stored as a secret-single secret. Without it (and --value-hex) the value is random: a DKG among the servers." };
        var valueHex = new Option<string?>("--value-hex") { Description = "A given value, lowercase hex." };
        var command = new Command("generate", "GenerateJointSecret: a random value nobody knows (a DKG, refreshed every period), or a given one.") { id, value, valueHex };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            byte[]? given = null;
            if (parse.GetValue(value) is { } text)
            {
                given = Encoding.UTF8.GetBytes(text);
            }

            if (parse.GetValue(valueHex) is { } hex)
            {
                if (given is not null)
                {
                    Console.Error.WriteLine("Give the value once: --value or --value-hex.");
                    return ClientConnection.ExitUsage;
                }

                if (!ClientConnection.TryParseHex(hex, "--value-hex", 1 << 20, out var bytes, out var error))
                {
                    Console.Error.WriteLine(error);
                    return ClientConnection.ExitUsage;
                }

                given = bytes;
            }

            return await connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
            {
                var json = parse.GetValue(connection.Json);
                if (given is not null)
                {
                    var stored = await client.StoreJointSecretAsync(parse.GetValue(id)!, given, cancellationToken).ConfigureAwait(false);
                    Console.WriteLine(json
                        ? new JsonObject { ["id"] = stored.Entry!.Id, ["source"] = "given", ["type"] = stored.Entry.Type, ["version"] = stored.Entry.Version }.ToJsonString()
                        : $"{stored.Entry!.Id}: the given value is dealt to the servers ({stored.Entry.Type}); 'proactive joint-secret show {stored.Entry.Id}' reads it back.");
                    return ClientConnection.ExitOk;
                }

                var key = await client.GenerateJointSecretAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
                if (json)
                {
                    Console.WriteLine(new JsonObject
                    {
                        ["id"] = key.Id,
                        ["source"] = "random",
                        ["status"] = key.Status,
                        ["publicValue"] = key.PublicKey,
                        ["approvals"] = key.Pending?.Approvals,
                        ["needed"] = key.Pending?.Needed,
                    }.ToJsonString());
                }
                else if (key.Pending is { } pending)
                {
                    Console.WriteLine($"{key.Id}: {pending.Approvals} of the {pending.Needed} instances needed have asked for it.");
                }
                else
                {
                    Console.WriteLine($"{key.Id}: {key.Status}, a random value nobody knows; its public value g^x is {key.PublicKey ?? "(not yet)"}.");
                }

                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateShow()
    {
        var connection = new ClientConnection();
        var id = new Argument<string>("id") { Description = "The joint secret's id." };
        var command = new Command("show", "Rebuild a joint secret here: a random one from t+1 shares checked against their commitments, a given one as it was stored. Prints the value in hex.") { id };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
        {
            var name = parse.GetValue(id)!;
            var json = parse.GetValue(connection.Json);
            JointSecret secret;
            try
            {
                secret = await client.RetrieveJointSecretAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (ProactiveApiException e) when (e.Code is "unknown-key" or "unknown-data")
            {
                // Not a random joint secret: a given value is a stored secret.
                var stored = await client.RetrieveAsync(name, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(json
                    ? new JsonObject { ["id"] = stored.Id, ["source"] = "given", ["value"] = Convert.ToHexStringLower(stored.Value), ["servers"] = Servers(stored.Servers) }.ToJsonString()
                    : Convert.ToHexStringLower(stored.Value));
                return ClientConnection.ExitOk;
            }

            if (json)
            {
                Console.WriteLine(new JsonObject
                {
                    ["id"] = secret.Id,
                    ["source"] = "random",
                    ["suite"] = secret.Suite,
                    ["value"] = Convert.ToHexStringLower(secret.Value),
                    ["publicValue"] = secret.PublicValue,
                    ["sharing"] = secret.Sharing,
                    ["servers"] = Servers(secret.Servers),
                }.ToJsonString());
            }
            else
            {
                Console.WriteLine(Convert.ToHexStringLower(secret.Value));
                Console.Error.WriteLine($"{secret.Id}: rebuilt from the shares of servers {string.Join(", ", secret.Servers)} ({secret.Sharing}), each checked against its commitments; g^x = {secret.PublicValue}.");
            }

            return ClientConnection.ExitOk;
        }));
        return command;
    }

    private static JsonArray Servers(IEnumerable<int> servers) => [.. servers.Select(s => (JsonNode?)s)];

    /// <summary>The payload as text when it is printable UTF-8, else as hex.</summary>
    private static string Printable(byte[] payload)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload);
            return text.All(c => !char.IsControl(c) || c is '\n' or '\t') ? text : "hex " + Convert.ToHexStringLower(payload);
        }
        catch (DecoderFallbackException)
        {
            return "hex " + Convert.ToHexStringLower(payload);
        }
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Proactive.Client;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive period-key [--period P]</c>: every server's keys of a period (the current one unless
/// given) as the period's KeyTable lists them, from a certificate verified under the network key: what
/// a client checks signed times and dealing keys against. <c>proactive period-key register</c> has the
/// network key certify an application instance's own key of the current period (toolkit 5.4,
/// <c>POST /v1/period-keys</c>), and <c>proactive period-key verify</c> checks such a certificate offline.
/// Exit 0 ok (verify: valid), 1 failed (also for period 0, whose certificate lists no servers' keys; verify:
/// not valid), 2 usage.
/// </summary>
internal static class PeriodKeyCommand
{
    internal static Command Create()
    {
        var connection = new ClientConnection();
        var period = new Option<ulong?>("--period") { Description = "The period (default: the latest one the server holds a certificate of; it keeps the current and the previous)." };
        var command = new Command(
            "period-key",
            "Every server's certified keys of a period (signing V_i, encryption E_i), with the period certificate verified under the network key; "
            + "'register' has the network key certify this instance's own key of the period, 'verify' checks such a certificate offline.")
        {
            period, CreateRegister(), CreateVerify(),
        };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: false, async (client, _) =>
        {
            var cluster = await client.GetClusterAsync(cancellationToken).ConfigureAwait(false);
            var failures = new List<string>();
            foreach (var server in cluster.Servers)
            {
                CertifiedPeriod certified;
                try
                {
                    certified = await client.GetPeriodCertificateAsync(server.Id, parse.GetValue(period), cancellationToken).ConfigureAwait(false);
                }
                catch (ProactiveException e)
                {
                    failures.Add($"server {server.Id}: {e.Message}");
                    continue;
                }

                if (certified.Table is not { } table)
                {
                    Console.Error.WriteLine($"The certificate of period {certified.Period} verifies under the network key but lists no keys: period 0's certifies the invariant information instead. The first refresh makes a KeyTable.");
                    return ClientConnection.ExitFailed;
                }

                var networkKey = cluster.NetworkKey;
                if (parse.GetValue(connection.Json))
                {
                    var servers = new JsonArray();
                    foreach (var entry in table.Entries.OrderBy(e => e.Entry.Keys.ServerId))
                    {
                        servers.Add(new JsonObject
                        {
                            ["id"] = entry.Entry.Keys.ServerId,
                            ["signingKey"] = Convert.ToHexStringLower(entry.Entry.Keys.Signing.Bytes),
                            ["encryptionKey"] = Convert.ToHexStringLower(entry.Entry.Keys.Encryption.ToArray()),
                        });
                    }

                    Console.WriteLine(new JsonObject
                    {
                        ["period"] = certified.Period,
                        ["networkKey"] = networkKey,
                        ["certifiedBy"] = server.Id,
                        ["servers"] = servers,
                    }.ToJsonString());
                }
                else
                {
                    Console.WriteLine($"Period {certified.Period.ToString(CultureInfo.InvariantCulture)}: certificate from server {server.Id} verified under the network key {networkKey}");
                    foreach (var entry in table.Entries.OrderBy(e => e.Entry.Keys.ServerId))
                    {
                        Console.WriteLine($"  server {entry.Entry.Keys.ServerId,3}  signing {Convert.ToHexStringLower(entry.Entry.Keys.Signing.Bytes)}  encryption {Convert.ToHexStringLower(entry.Entry.Keys.Encryption.ToArray())}");
                    }
                }

                return ClientConnection.ExitOk;
            }

            Console.Error.WriteLine("No server gave a certificate that verifies: " + string.Join("; ", failures));
            return ClientConnection.ExitFailed;
        }));
        return command;
    }

    private static Command CreateRegister()
    {
        var connection = new ClientConnection();
        var publicKey = new Option<string>("--public-key") { Description = "The instance's key of this period, 64 lowercase hex digits (an Ed25519 or X25519 public key it made).", Required = true };
        var output = new Option<string?>("--out") { Description = "Also write the certificate (JSON) to this file, for 'period-key verify' or a peer." };
        var command = new Command("register", "Have the network key certify this instance's key of the current period (toolkit 5.4, (K, t)); the certificate is checked here before it is printed.")
        {
            publicKey, output,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!ClientConnection.TryParseHex(parse.GetValue(publicKey)!, "--public-key", 32, out var key, out var error) || key.Length != 32)
            {
                Console.Error.WriteLine(error.Length > 0 ? error : "--public-key must be 64 lowercase hex digits (32 bytes).");
                return ClientConnection.ExitUsage;
            }

            return await connection.RunAsync(parse, needsCredentials: true, async (client, credentials) =>
            {
                var certificate = await client.CertifyPeriodKeyAsync(key, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(output) is { } file)
                {
                    try
                    {
                        File.WriteAllText(file, certificate.ToJson() + "\n");
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        Console.Error.WriteLine($"Certified, but the certificate could not be written to {file}: {e.Message}");
                        return ClientConnection.ExitFailed;
                    }
                }

                if (parse.GetValue(connection.Json))
                {
                    Console.WriteLine(certificate.ToJson());
                }
                else
                {
                    Console.WriteLine($"Key {certificate.PublicKey} of instance {certificate.Instance} ({credentials!.Handle}) certified for period {certificate.Period} by the network key {certificate.NetworkKey}; verified here.");
                    Console.WriteLine($"Certificate {certificate.Certificate}");
                }

                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateVerify()
    {
        var certificate = new Option<string>("--certificate") { Description = "The certificate, as 'period-key register --out' writes it (JSON; - for stdin).", Required = true };
        var networkKey = new Option<string>("--network-key") { Description = "The network key to trust, lowercase hex.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("verify", "Check an application period-key certificate offline (no server): exit 0 when the network key certifies the key for its instance and period, 1 when not.")
        {
            certificate, networkKey, json,
        };
        command.SetAction(parse =>
        {
            if (!ClientConnection.TryParseHex(parse.GetValue(networkKey)!, "--network-key", 65, out _, out var error))
            {
                Console.Error.WriteLine(error);
                return ClientConnection.ExitUsage;
            }

            if (!ValueInput.TryReadBytes(parse.GetValue(certificate)!, out var bytes, out error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            if (PeriodKeyCertificate.FromJson(System.Text.Encoding.UTF8.GetString(bytes)) is not { } read)
            {
                Console.Error.WriteLine($"{parse.GetValue(certificate)} is not a period-key certificate ('period-key register --out FILE' writes one).");
                return ClientConnection.ExitUsage;
            }

            var valid = ProactiveClient.VerifyPeriodKey(read, parse.GetValue(networkKey)!);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonObject { ["valid"] = valid, ["period"] = read.Period, ["instance"] = read.Instance, ["applicationId"] = read.ApplicationId, ["publicKey"] = read.PublicKey }.ToJsonString());
            }
            else
            {
                Console.WriteLine(valid
                    ? $"Valid: the network key certifies {read.PublicKey} as instance {read.Instance}'s key of period {read.Period} (application {read.ApplicationId})."
                    : "NOT a certificate of this key, instance and period by this network key.");
            }

            return valid ? ClientConnection.ExitOk : ClientConnection.ExitFailed;
        });
        return command;
    }
}

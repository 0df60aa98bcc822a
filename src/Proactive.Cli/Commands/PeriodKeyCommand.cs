using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Proactive.Client;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive period-key [--period P]</c>: every server's keys of a period (the current one unless
/// given) as the period's KeyTable lists them, from a certificate verified under the network key: what
/// a client checks signed times and dealing keys against. It does not make or certify an application's
/// own period key (issue 5 item 5: the server side is <c>POST /v1/period-keys</c>, with no SDK call or
/// command over it yet); it prints the servers' period keys. Exit 0 ok, 1 failed (also for period 0,
/// whose certificate lists no keys), 2 usage.
/// </summary>
internal static class PeriodKeyCommand
{
    internal static Command Create()
    {
        var connection = new ClientConnection();
        var period = new Option<ulong?>("--period") { Description = "The period (default: the latest one the server holds a certificate of; it keeps the current and the previous)." };
        var command = new Command(
            "period-key",
            "Every server's certified keys of a period (signing V_i, encryption E_i), with the period certificate verified under the network key. "
            + "It does not certify an application's own period key (issue 5, item 5: POST /v1/period-keys has no command yet): it shows the servers' period keys.")
        {
            period,
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
}

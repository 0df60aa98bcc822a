using System.CommandLine;
using System.Globalization;
using Proactive.Client;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive time</c> (toolkit GetTime): every server's signed local time, each checked under the
/// network key (the server's period key as the period certificate lists it, over this request's nonce).
/// Exit 0 when at least t+1 servers' times verified (then at least one honest server's is among them),
/// 1 otherwise or when the network cannot be reached, 2 for usage errors.
/// </summary>
internal static class TimeCommand
{
    internal static Command Create()
    {
        var connection = new ClientConnection();
        var command = new Command("time", "Every server's local time, signed with its period key and verified under the network key.");
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
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
                    var cluster = await client.GetClusterAsync(cancellationToken).ConfigureAwait(false);
                    var vector = await client.GetTimeAsync(cancellationToken).ConfigureAwait(false);
                    if (parse.GetValue(connection.Json))
                    {
                        Console.WriteLine(vector.ToJson());
                    }
                    else
                    {
                        Print(cluster, vector);
                    }

                    return vector.VerifiedCount >= cluster.Threshold + 1 ? ClientConnection.ExitOk : ClientConnection.ExitFailed;
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

    private static void Print(ClusterInfo cluster, TimeVector vector)
    {
        Console.WriteLine($"Network {vector.Network} ({cluster.Suite}), key {vector.NetworkKey}");
        Console.WriteLine($"{vector.VerifiedCount} of {vector.Servers.Count} servers' times verified (t+1 = {cluster.Threshold + 1} needed)");
        foreach (var time in vector.Servers)
        {
            var when = time.Time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "-";
            var period = time.Period is { } p ? $"period {p}" : string.Empty;
            var outcome = time.Verified ? "verified" : $"NOT verified: {time.Error}";
            Console.WriteLine($"  server {time.Server,3}  {when,-24}  {period,-12}  {outcome}");
        }
    }
}

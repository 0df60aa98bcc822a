using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Proactive.Client;
using Proactive.Protocols.Application;

namespace Proactive.Cli.Commands;

/// <summary>
/// Data storage over the SDK (toolkit 5.2, Table 4): <c>proactive store</c>, <c>store-until</c>,
/// <c>retrieve</c>, <c>write</c> and <c>release</c>. Secrets are dealt and rebuilt by the SDK in this
/// process; no server ever holds the value in the clear. Exit 0 ok (a quorum operation still waiting for
/// other instances is ok too, and says so), 1 failed, 2 usage.
/// </summary>
internal static class DataCommands
{
    internal static IEnumerable<Command> Create() => [CreateStore(untilRequired: false), CreateStore(untilRequired: true), CreateRetrieve(), CreateWrite(), CreateRelease()];

    private static Command CreateStore(bool untilRequired)
    {
        var connection = new ClientConnection();
        var input = new ValueInput();
        var id = new Argument<string>("id") { Description = "The entry's id: letters, digits, '.', '_' or '-' (at most 128)." };
        var defaultType = untilRequired ? DataType.SecretDistributedReader : DataType.SecretSingle;
        var type = new Option<string>("--type")
        {
            Description = $"The data type: {string.Join(", ", DataTypes.Names)}.",
            DefaultValueFactory = _ => DataTypes.Name(defaultType),
            HelpName = "type",
        };
        type.AcceptOnlyFromAmong([.. DataTypes.Names]);
        var until = new Option<string?>("--until")
        {
            Description = "StoreUntil: no server releases a share before this date, by its own clock (ISO 8601, UTC unless an offset is given, or +30s, +10m, +2h, +7d).",
            Required = untilRequired,
        };
        var command = untilRequired
            ? new Command("store-until", "Store a secret no server releases before a date (StoreUntil; a distributed-reader secret by default, released at once for a centralized application).") { id, type, until }
            : new Command("store", "Store a value: public, or a secret whose data key is dealt to the servers here.") { id, type, until };
        input.AddTo(command);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!input.TryRead(parse, out var value, out var error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            DateTimeOffset? date = null;
            if (parse.GetValue(until) is { } text)
            {
                if (!CommandDates.TryParse(text, DateTimeOffset.UtcNow, out var parsed))
                {
                    Console.Error.WriteLine($"--until must be an ISO 8601 date (2026-12-24T18:00:00Z) or +N followed by s, m, h or d (got '{text}').");
                    return ClientConnection.ExitUsage;
                }

                date = parsed;
            }

            var dataType = DataTypeOf(parse.GetValue(type)!);
            return await connection.RunAsync(parse, needsCredentials: true, async (client, credentials) =>
            {
                var entryId = parse.GetValue(id)!;
                var result = await client.StoreAsync(entryId, value, dataType, date, cancellationToken).ConfigureAwait(false);
                var released = false;
                if (untilRequired && credentials!.Instance == 0 && result.Entry is { } entry
                    && dataType is DataType.SecretDistributedReader or DataType.SecretDistributed)
                {
                    // A centralized application is its own quorum: release now, so that only the date holds the secret back.
                    result = await client.ReleaseAsync(entryId, entry.Version, cancellationToken).ConfigureAwait(false);
                    released = true;
                }

                Print(parse, connection, result, untilRequired ? (released ? $"retrievable from {date:O}" : $"retrievable from {date:O} once a quorum of the instances released it ('proactive release {entryId} --version 1')") : null);
                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateRetrieve()
    {
        var connection = new ClientConnection();
        var id = new Argument<string>("id") { Description = "The entry's id." };
        var output = new Option<string?>("--out") { Description = "Write the value to this file (owner-only) instead of stdout." };
        var force = new Option<bool>("--force") { Description = "With --out: overwrite an existing file." };
        var command = new Command("retrieve", "Retrieve a value: public data as f+1 servers agree on it, a secret rebuilt here from t+1 shares and checked by its authentication tag.") { id, output, force };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
        {
            var retrieved = await client.RetrieveAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(output) is { } path)
            {
                try
                {
                    AtomicFile.Write(path, retrieved.Value, parse.GetValue(force), UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"Cannot write {path}: {e.Message}{(File.Exists(path) ? " (it exists: --force overwrites it)" : string.Empty)}");
                    return ClientConnection.ExitFailed;
                }
            }

            if (parse.GetValue(connection.Json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["id"] = retrieved.Id,
                    ["type"] = retrieved.Type,
                    ["version"] = retrieved.Version,
                    ["value"] = Convert.ToBase64String(retrieved.Value),
                    ["sharing"] = retrieved.Sharing,
                    ["servers"] = new JsonArray([.. retrieved.Servers.Select(s => (JsonNode)s)]),
                }.ToJsonString());
            }
            else if (parse.GetValue(output) is null)
            {
                // The value exactly as stored, so that it can be piped; what it is goes to stderr.
                using var stdout = Console.OpenStandardOutput();
                stdout.Write(retrieved.Value);
                stdout.Flush();
            }

            var from = retrieved.Sharing is { } sharing ? $"rebuilt from the {sharing} shares of servers" : "as servers";
            Console.Error.WriteLine($"{retrieved.Id}: {retrieved.Type}, version {retrieved.Version}, {retrieved.Value.Length} bytes, {from} {string.Join(", ", retrieved.Servers)}{(retrieved.Sharing is null ? " agree" : string.Empty)}.");
            return ClientConnection.ExitOk;
        }));
        return command;
    }

    private static Command CreateWrite()
    {
        var connection = new ClientConnection();
        var input = new ValueInput();
        var id = new Argument<string>("id") { Description = "The entry's id (a public-read-write or secret-distributed entry)." };
        var version = new Option<ulong>("--version") { Description = "The entry's current version (the write makes version + 1).", Required = true };
        var command = new Command("write", "Replace a read/write entry's value at its current version (a secret gets a new data key).") { id, version };
        input.AddTo(command);
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!input.TryRead(parse, out var value, out var error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed;
            }

            return await connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
            {
                Print(parse, connection, await client.WriteAsync(parse.GetValue(id)!, value, parse.GetValue(version), cancellationToken).ConfigureAwait(false), null);
                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateRelease()
    {
        var connection = new ClientConnection();
        var id = new Argument<string>("id") { Description = "The entry's id (a distributed-reader secret)." };
        var version = new Option<ulong>("--version") { Description = "The version to release.", Required = true };
        var command = new Command("release", "Ask for (or approve) the release of a distributed-reader secret: once a quorum of instances asked, it can be retrieved.") { id, version };
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, _) =>
        {
            Print(parse, connection, await client.ReleaseAsync(parse.GetValue(id)!, parse.GetValue(version), cancellationToken).ConfigureAwait(false), null);
            return ClientConnection.ExitOk;
        }));
        return command;
    }

    private static DataType DataTypeOf(string name) => Enum.GetValues<DataType>().Single(t => DataTypes.Name(t) == name);

    private static void Print(ParseResult parse, ClientConnection connection, DataResult result, string? note)
    {
        if (parse.GetValue(connection.Json))
        {
            Console.WriteLine(result.ToJson());
            return;
        }

        if (result.Pending is { } pending)
        {
            Console.WriteLine($"{pending.Id}: {pending.Approvals} of the {pending.Needed} instances needed have asked; it applies once the others ask for exactly the same.");
            return;
        }

        var entry = result.Entry!;
        var details = new List<string> { entry.Type, $"version {entry.Version.ToString(CultureInfo.InvariantCulture)}", $"period {entry.StoredPeriod.ToString(CultureInfo.InvariantCulture)}" };
        if (entry.Released is true && entry.Type != DataTypes.Name(DataType.SecretSingle))
        {
            details.Add("released");
        }

        if (note is not null)
        {
            details.Add(note);
        }

        Console.WriteLine($"{entry.Id}: {string.Join(", ", details)}");
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Proactive.Client;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive app register</c> (toolkit 5.1: a centralized application by name and unique id, one
/// instance of a distributed application by name and password, or by certificate) and <c>proactive app
/// show</c>; the certificate steps (<c>app keygen</c>, <c>app ca create</c>, <c>app certify</c>) are in
/// <see cref="AppCertificateCommands"/>. Register makes the instance's Ed25519 key here and writes it with
/// the handle to the credentials file (owner-only; an existing file is kept unless <c>--force</c>, since its
/// key would be lost); by certificate it registers the key <c>app keygen</c> made. Exit 0 ok, 1 failed, 2 usage.
/// </summary>
internal static class AppCommand
{
    internal static Command Create() => new("app", "Register an application instance, or show the registered application.")
    {
        CreateRegister(), CreateShow(), AppCertificateCommands.CreateKeygen(), AppCertificateCommands.CreateCa(), AppCertificateCommands.CreateCertify(),
    };

    private static Command CreateRegister()
    {
        var connection = new ClientConnection();
        var name = new Option<string?>("--name") { Description = "The application's name (not with --certificate: the credentials file names it)." };
        var uniqueId = new Option<string?>("--unique-id") { Description = "A centralized application's unique id (toolkit Reg(name, uniqueId))." };
        var password = new Option<string?>("--password")
        {
            Description = "A distributed application's password, the same for every instance (- reads it from stdin: a password on the command line is visible to other local users). Sent only as a PBKDF2 verifier.",
        };
        var instance = new Option<int?>("--instance") { Description = "With --password: this instance's server id (1..n); it registers at that server." };
        var certificate = new Option<string?>("--certificate")
        {
            Description = "Register by certificate: the instance's one-time certificate from the application's CA, in this file (hex; 'proactive app certify' writes it). The instance's key and name come from the credentials file 'proactive app keygen' wrote.",
        };
        var maxEntries = new Option<ulong?>("--max-entries") { Description = "A smaller entry quota than the network's default (250,000)." };
        var maxBytes = new Option<ulong?>("--max-bytes") { Description = "A smaller byte quota than the network's default (512 MiB)." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing credentials file (its key is lost)." };
        var command = new Command("register", "Register this application (or this instance of it) and write its credentials file.") { name, uniqueId, password, instance, certificate, maxEntries, maxBytes, force };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var centralized = parse.GetValue(uniqueId);
            var secret = parse.GetValue(password);
            var server = parse.GetValue(instance);
            var quota = new RequestedQuota(parse.GetValue(maxEntries), parse.GetValue(maxBytes));
            if (parse.GetValue(certificate) is { } certificateFile)
            {
                if (centralized is not null || secret is not null || server is not null || parse.GetValue(name) is not null || parse.GetValue(force))
                {
                    Console.Error.WriteLine("With --certificate FILE, the name, instance and key come from the credentials file 'proactive app keygen' wrote (--credentials): give none of --name, --unique-id, --password, --instance, --force.");
                    return ClientConnection.ExitUsage;
                }

                return await AppCertificateCommands.RegisterAsync(parse, connection, certificateFile, quota, cancellationToken).ConfigureAwait(false);
            }

            if (parse.GetValue(name) is null || (centralized is null) == (secret is null) || (secret is null) != (server is null))
            {
                Console.Error.WriteLine("Give --name N and --unique-id U (a centralized application), --name N --password P --instance I (an instance of a distributed application), or --certificate FILE (an instance registering by certificate).");
                return ClientConnection.ExitUsage;
            }

            var path = parse.GetValue(connection.Credentials)!;
            var overwrite = parse.GetValue(force);
            if (File.Exists(path) && !overwrite)
            {
                Console.Error.WriteLine($"{path} exists: it holds the credentials of a registered instance, whose key would be lost. Pass another --credentials FILE, or --force.");
                return ClientConnection.ExitFailed;
            }

            if (secret == "-")
            {
                secret = Console.In.ReadLine() ?? string.Empty;
            }

            return await connection.RunAsync(parse, needsCredentials: false, async (client, _) =>
            {
                using var credentials = centralized is not null
                    ? await client.RegisterAsync(parse.GetValue(name)!, centralized, quota, cancellationToken).ConfigureAwait(false)
                    : await client.RegisterInstanceAsync(parse.GetValue(name)!, secret!, server!.Value, quota, cancellationToken).ConfigureAwait(false);
                try
                {
                    credentials.Save(path, overwrite);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"Registered {credentials.Handle}, but its credentials could not be written to {path}: {e.Message}. The key is lost; register another instance.");
                    return ClientConnection.ExitFailed;
                }

                if (parse.GetValue(connection.Json))
                {
                    Console.WriteLine(new JsonObject
                    {
                        ["handle"] = credentials.Handle,
                        ["applicationId"] = Convert.ToHexStringLower(credentials.ApplicationId),
                        ["name"] = credentials.Name,
                        ["instance"] = credentials.Instance,
                        ["credentials"] = Path.GetFullPath(path),
                    }.ToJsonString());
                }
                else
                {
                    Console.WriteLine($"Registered {credentials.Name} as {credentials.Handle}.");
                    Console.WriteLine($"Credentials (with the private key) written to {path}, readable by you only.");
                }

                return ClientConnection.ExitOk;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command CreateShow()
    {
        var connection = new ClientConnection();
        var command = new Command("show", "The registered application: its kind, instances, quorum, quota and use.");
        connection.AddTo(command);
        command.SetAction((parse, cancellationToken) => connection.RunAsync(parse, needsCredentials: true, async (client, credentials) =>
        {
            var app = await client.DescribeApplicationAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(connection.Json))
            {
                Console.WriteLine(app.ToJson());
                return ClientConnection.ExitOk;
            }

            Console.WriteLine($"Application {app.Name} ({app.Kind}, instances register by {app.RegisteredBy}), id {app.ApplicationId}");
            Console.WriteLine($"This instance: {credentials!.Handle} (instance {app.Instance}); registered in period {app.RegisteredPeriod}");
            Console.WriteLine($"Instances {string.Join(", ", app.Instances)}; a quorum operation needs {app.Quorum}");
            Console.WriteLine($"Quota: {app.UsedEntries} of {app.MaxEntries} entries, {app.UsedBytes} of {app.MaxBytes} bytes");
            return ClientConnection.ExitOk;
        }));
        return command;
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Proactive.Client;
using Proactive.Protocols.Application;

namespace Proactive.Cli.Commands;

/// <summary>
/// Registration by certificate (toolkit 5.1 option 2, Figure 3), in three steps by two parties:
/// <c>proactive app keygen</c> (the instance makes its key and its credentials file, not registered yet,
/// and prints the public key), <c>proactive app ca create</c> and <c>proactive app certify</c> (the
/// application's CA, whoever runs it, makes its key once and issues each instance a one-time certificate
/// for the instance's public key), then <c>proactive app register --certificate FILE</c> (the instance
/// registers at its server). Exit 0 ok, 1 failed, 2 usage.
/// </summary>
internal static class AppCertificateCommands
{
    internal static Command CreateKeygen()
    {
        var name = new Option<string>("--name") { Description = "The distributed application's name.", Required = true };
        var instance = new Option<int>("--instance") { Description = "This instance's server id (1..n): the server it will register at.", Required = true };
        var credentials = new Option<string>("--credentials") { Description = "Where to write the credentials.", DefaultValueFactory = _ => ApplicationCredentials.DefaultPath };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing credentials file (its key is lost)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("keygen", "Make this instance's key and credentials file (not registered yet: the application's CA certifies the printed public key first).")
        {
            name, instance, credentials, force, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(credentials)!;
            var overwrite = parse.GetValue(force);
            if (File.Exists(path) && !overwrite)
            {
                Console.Error.WriteLine($"{path} exists: it holds an instance's credentials, whose key would be lost. Pass another --credentials FILE, or --force.");
                return ClientConnection.ExitFailed;
            }

            ApplicationCredentials made;
            try
            {
                made = ApplicationCredentials.CreateInstance(parse.GetValue(name)!, parse.GetValue(instance));
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return ClientConnection.ExitUsage;
            }

            using (made)
            {
                try
                {
                    made.Save(path, overwrite);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"Cannot write {path}: {e.Message}");
                    return ClientConnection.ExitFailed;
                }

                var publicKey = Convert.ToHexStringLower(made.PublicKey.Bytes);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(new JsonObject
                    {
                        ["name"] = made.Name,
                        ["instance"] = made.Instance,
                        ["handle"] = made.Handle,
                        ["publicKey"] = publicKey,
                        ["credentials"] = Path.GetFullPath(path),
                    }.ToJsonString());
                }
                else
                {
                    Console.WriteLine(publicKey);
                    Console.Error.WriteLine($"Instance {made.Instance} of {made.Name}: key made, credentials in {path} (readable by you only). Have the application's CA certify the public key above, then 'proactive app register --certificate FILE'.");
                }
            }

            return ClientConnection.ExitOk;
        });
        return command;
    }

    internal static Command CreateCa()
    {
        var ca = CaOption();
        var force = new Option<bool>("--force") { Description = "Overwrite an existing CA key file (its key is lost, and with it every application created with it)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var create = new Command("create", "Make a Certificate Authority key for a distributed application: the first instance that registers with one of its certificates fixes it as the application's CA.")
        {
            ca, force, json,
        };
        create.SetAction(parse =>
        {
            var path = parse.GetValue(ca)!;
            var overwrite = parse.GetValue(force);
            if (File.Exists(path) && !overwrite)
            {
                Console.Error.WriteLine($"{path} exists: it holds a CA key that would be lost. Pass another --ca FILE, or --force.");
                return ClientConnection.ExitFailed;
            }

            using var authority = CertificateAuthority.Create();
            try
            {
                authority.Save(path, overwrite);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"Cannot write {path}: {e.Message}");
                return ClientConnection.ExitFailed;
            }

            var publicKey = Convert.ToHexStringLower(authority.PublicKey.Bytes);
            if (parse.GetValue(json))
            {
                Console.WriteLine(new JsonObject { ["publicKey"] = publicKey, ["ca"] = Path.GetFullPath(path) }.ToJsonString());
            }
            else
            {
                Console.WriteLine(publicKey);
                Console.Error.WriteLine($"CA key written to {path}, readable by you only.");
            }

            return ClientConnection.ExitOk;
        });
        return new Command("ca", "The Certificate Authority of a distributed application registered by certificate.") { create };
    }

    internal static Command CreateCertify()
    {
        var connection = new ClientConnection();
        var ca = CaOption();
        var name = new Option<string>("--name") { Description = "The distributed application's name.", Required = true };
        var instance = new Option<int>("--instance") { Description = "The instance (its server id, 1..n).", Required = true };
        var publicKey = new Option<string>("--public-key") { Description = "The instance's public key, 64 lowercase hex digits ('proactive app keygen' prints it).", Required = true };
        var validUntil = new Option<string>("--valid-until")
        {
            Description = "When the certificate stops registering (ISO 8601, or +30m, +2h, +7d); it is one-time either way.",
            DefaultValueFactory = _ => "+1h",
        };
        var output = new Option<string?>("--out") { Description = "Write the certificate (hex) to this file instead of printing it." };
        var command = new Command("certify", "As the application's CA, issue an instance a one-time certificate for its public key, for the network the server belongs to.")
        {
            ca, name, instance, publicKey, validUntil, output,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            if (!CommandDates.TryParse(parse.GetValue(validUntil)!, now, out var until) || until <= now)
            {
                Console.Error.WriteLine($"--valid-until must be a date in the future: ISO 8601 (2026-12-24T18:00:00Z) or +N followed by s, m, h or d (got '{parse.GetValue(validUntil)}').");
                return ClientConnection.ExitUsage;
            }

            if (!ClientConnection.TryParseHex(parse.GetValue(publicKey)!, "--public-key", 32, out var keyBytes, out var error)
                || !Proactive.Crypto.Signing.Ed25519PublicKey.TryDecode(keyBytes, out var instanceKey))
            {
                Console.Error.WriteLine(error.Length > 0 ? error : "--public-key is not an Ed25519 public key.");
                return ClientConnection.ExitUsage;
            }

            CertificateAuthority authority;
            try
            {
                authority = CertificateAuthority.Load(parse.GetValue(ca)!);
            }
            catch (CertificateAuthorityException e)
            {
                Console.Error.WriteLine(e.Message + " ('proactive app ca create' makes a CA key.)");
                return ClientConnection.ExitFailed;
            }

            using (authority)
            {
                return await connection.RunAsync(parse, needsCredentials: false, async (client, _) =>
                {
                    var cluster = await client.GetClusterAsync(cancellationToken).ConfigureAwait(false);

                    // A minute of slack for the registering server's clock.
                    var certificate = authority.Issue(cluster.Network, parse.GetValue(name)!, parse.GetValue(instance), instanceKey, now.AddMinutes(-1), until);
                    var hex = Convert.ToHexStringLower(certificate.Encode());
                    if (parse.GetValue(output) is { } file)
                    {
                        try
                        {
                            File.WriteAllText(file, hex + "\n");
                        }
                        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                        {
                            Console.Error.WriteLine($"Cannot write {file}: {e.Message}");
                            return ClientConnection.ExitFailed;
                        }
                    }

                    if (parse.GetValue(connection.Json))
                    {
                        Console.WriteLine(Describe(certificate).ToJsonString());
                    }
                    else if (parse.GetValue(output) is null)
                    {
                        Console.WriteLine(hex);
                    }
                    else
                    {
                        Console.WriteLine($"Certificate for instance {certificate.Instance} of {certificate.Name}, serial {Convert.ToHexStringLower(certificate.Serial)}, valid until {Iso(certificate.NotAfter)}, written to {parse.GetValue(output)}.");
                    }

                    return ClientConnection.ExitOk;
                }).ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>
    /// <c>proactive app register --certificate FILE</c>: registers the instance whose credentials file
    /// <c>app keygen</c> wrote, with the certificate in FILE (hex, as <c>app certify</c> writes it).
    /// </summary>
    internal static Task<int> RegisterAsync(ParseResult parse, ClientConnection connection, string certificateFile, RequestedQuota quota, CancellationToken cancellationToken)
    {
        if (!ValueInput.TryReadBytes(certificateFile, out var bytes, out var error, out var usage))
        {
            Console.Error.WriteLine(error);
            return Task.FromResult(usage ? ClientConnection.ExitUsage : ClientConnection.ExitFailed);
        }

        var text = Encoding.UTF8.GetString(bytes).Trim();
        if (!ClientConnection.TryParseHex(text, "The certificate", ApplicationCertificate.MaxEncodedLength, out var encoded, out error) || !ApplicationCertificate.TryDecode(encoded, out var certificate))
        {
            Console.Error.WriteLine($"{certificateFile} does not hold an application certificate in hex ('proactive app certify' writes one). {error}".TrimEnd());
            return Task.FromResult(ClientConnection.ExitUsage);
        }

        return connection.RunAsync(parse, needsCredentials: true, async (client, credentials) =>
        {
            await client.RegisterInstanceAsync(credentials!, certificate, quota, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(connection.Json))
            {
                Console.WriteLine(new JsonObject
                {
                    ["handle"] = credentials!.Handle,
                    ["applicationId"] = Convert.ToHexStringLower(credentials.ApplicationId),
                    ["name"] = credentials.Name,
                    ["instance"] = credentials.Instance,
                    ["credentials"] = Path.GetFullPath(parse.GetValue(connection.Credentials)!),
                    ["certificate"] = Describe(certificate),
                }.ToJsonString());
            }
            else
            {
                Console.WriteLine($"Registered {credentials!.Name} as {credentials.Handle} with the certificate {Convert.ToHexStringLower(certificate.Serial)} of CA {Convert.ToHexStringLower(certificate.IssuerKey)}.");
            }

            return ClientConnection.ExitOk;
        });
    }

    private static Option<string> CaOption() => new("--ca")
    {
        Description = "The CA key file.",
        DefaultValueFactory = _ => CertificateAuthority.DefaultPath,
    };

    private static JsonObject Describe(ApplicationCertificate certificate) => new()
    {
        ["certificate"] = Convert.ToHexStringLower(certificate.Encode()),
        ["network"] = certificate.Network.ToString(),
        ["name"] = certificate.Name,
        ["instance"] = certificate.Instance,
        ["serverId"] = certificate.ServerId,
        ["publicKey"] = Convert.ToHexStringLower(certificate.SubjectKey),
        ["notBefore"] = Iso(certificate.NotBefore),
        ["notAfter"] = Iso(certificate.NotAfter),
        ["serial"] = Convert.ToHexStringLower(certificate.Serial),
        ["issuer"] = Convert.ToHexStringLower(certificate.IssuerKey),
    };

    private static string Iso(ulong unixMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Min(unixMilliseconds, (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())).ToString("O", CultureInfo.InvariantCulture);
}

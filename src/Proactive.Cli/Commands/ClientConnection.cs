using System.CommandLine;
using Proactive.Cli.Commands.Cluster;
using Proactive.Client;
using Proactive.Node.Configuration;

namespace Proactive.Cli.Commands;

/// <summary>
/// What every command that talks to a network as an application takes: <c>--server URL</c> (default:
/// server 1's API of the local cluster, <c>.cluster/cluster.json</c>), <c>--credentials FILE</c>
/// (default <c>.proactive/credentials.json</c>, as <c>proactive app register</c> writes it),
/// <c>--network-key HEX</c> (the key to trust; default: the one the server names) and <c>--json</c>.
/// </summary>
internal sealed class ClientConnection
{
    internal const int ExitOk = 0;
    internal const int ExitFailed = 1;
    internal const int ExitUsage = 2;

    internal Option<string?> Server { get; } = new("--server")
    {
        Description = $"A server's API, e.g. http://127.0.0.1:7101/ (default: server 1 of the local cluster in {ClusterLayout.DefaultDirectory}/{ClusterLayout.ConfigFileName}).",
    };

    internal Option<string> Credentials { get; } = new("--credentials")
    {
        Description = "The application's credentials file ('proactive app register' writes it).",
        DefaultValueFactory = _ => ApplicationCredentials.DefaultPath,
    };

    internal Option<string?> NetworkKey { get; } = new("--network-key")
    {
        Description = "The network key to trust, lowercase hex (default: the one the server names: trust on first use).",
    };

    internal Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object instead of text." };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    internal void AddTo(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(Credentials);
        command.Options.Add(NetworkKey);
        command.Options.Add(Json);
    }

    /// <summary>
    /// The server to start from: <paramref name="server"/> when given (an absolute http or https URL), else
    /// server 1's API in the local cluster's configuration under <paramref name="clusterDirectory"/>.
    /// False with a message that says what to do, and whether it is a usage error.
    /// </summary>
    internal static bool TryResolveServer(string? server, string clusterDirectory, out Uri resolved, out string error, out bool usage)
    {
        resolved = null!;
        error = string.Empty;
        usage = false;
        if (server is not null)
        {
            if (Uri.TryCreate(server, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                resolved = uri;
                return true;
            }

            error = $"--server must be an http:// or https:// URL of a server's API, e.g. http://127.0.0.1:7101/ (got '{server}').";
            usage = true;
            return false;
        }

        var layout = new ClusterLayout(clusterDirectory);
        if (!File.Exists(layout.ConfigPath))
        {
            error = $"No --server given and no local cluster at {layout.Root} (start one with 'proactive cluster up', or pass --server URL).";
            return false;
        }

        try
        {
            var config = ClusterConfig.Load(layout.ConfigPath);
            if (config.Servers.FirstOrDefault(s => s.ApiEndpoint is not null) is not { ApiEndpoint: { } endpoint })
            {
                error = $"The local cluster's {layout.ConfigPath} gives no server an API port; pass --server URL.";
                return false;
            }

            resolved = new Uri($"http://{endpoint}/");
            return true;
        }
        catch (ClusterConfigException e)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>Lowercase hex, or false with a message naming <paramref name="option"/>.</summary>
    internal static bool TryParseHex(string text, string option, int maxBytes, out byte[] bytes, out string error)
    {
        bytes = [];
        error = string.Empty;
        if (text.Length % 2 != 0 || text.Length > maxBytes * 2 || !text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
        {
            error = $"{option} must be lowercase hex of at most {maxBytes} bytes (an even number of digits; got '{(text.Length > 40 ? text[..40] + "..." : text)}').";
            return false;
        }

        bytes = Convert.FromHexString(text);
        return true;
    }

    /// <summary>
    /// Runs <paramref name="action"/> with a client opened for the parsed options, and turns what can go
    /// wrong into a message on stderr and an exit code: a server's refusal (its code and detail), an
    /// unreachable or unverifiable network (1), a value the SDK refuses (2, a usage error).
    /// </summary>
    internal async Task<int> RunAsync(ParseResult parse, bool needsCredentials, Func<ProactiveClient, ApplicationCredentials?, Task<int>> action)
    {
        var (client, credentials, exit) = Open(parse, needsCredentials);
        if (client is null)
        {
            return exit;
        }

        using (client)
        using (credentials)
        {
            try
            {
                return await action(client, credentials).ConfigureAwait(false);
            }
            catch (ProactiveApiException e)
            {
                Console.Error.WriteLine($"{e.Code}: {e.Detail ?? e.Title} ({e.Server}, HTTP {e.Status})");
                return ExitFailed;
            }
            catch (ProactiveException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitFailed;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                return ExitUsage;
            }
        }
    }

    /// <summary>
    /// Opens a client for the parsed options: the server resolved, the credentials loaded (when
    /// <paramref name="needsCredentials"/>). Null with the exit code after printing why.
    /// </summary>
    internal (ProactiveClient? Client, ApplicationCredentials? Credentials, int Exit) Open(ParseResult parse, bool needsCredentials, string clusterDirectory = ClusterLayout.DefaultDirectory)
    {
        if (!TryResolveServer(parse.GetValue(Server), clusterDirectory, out var server, out var error, out var usage))
        {
            Console.Error.WriteLine(error);
            return (null, null, usage ? ExitUsage : ExitFailed);
        }

        var networkKey = parse.GetValue(NetworkKey);
        if (networkKey is not null && !TryParseHex(networkKey, "--network-key", 64, out _, out var keyError))
        {
            Console.Error.WriteLine(keyError);
            return (null, null, ExitUsage);
        }

        ApplicationCredentials? credentials = null;
        if (needsCredentials)
        {
            var path = parse.GetValue(Credentials)!;
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"No credentials at {path}: register the application first ('proactive app register'), or pass --credentials FILE.");
                return (null, null, ExitFailed);
            }

            try
            {
                credentials = ApplicationCredentials.Load(path);
            }
            catch (ApplicationCredentialsException e)
            {
                Console.Error.WriteLine(e.Message);
                return (null, null, ExitFailed);
            }
        }

        var client = new ProactiveClient(new ProactiveClientOptions { Server = server, Credentials = credentials, NetworkKey = networkKey });
        return (client, credentials, ExitOk);
    }
}

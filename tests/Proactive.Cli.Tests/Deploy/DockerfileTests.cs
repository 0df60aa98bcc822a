using System.Text.Json;
using System.Text.RegularExpressions;

namespace Proactive.Cli.Tests.Deploy;

/// <summary>
/// deploy/Dockerfile without a container engine: its entry point, command and health check must be
/// command lines the <c>proactive</c> program accepts; the runtime stage must be non-root with the server
/// directory on a volume and the ports the manifests use. <see cref="DockerBuildStageTests"/> replays
/// the build stage.
/// </summary>
public sealed partial class DockerfileTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("proactive-dockerfile-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string Dockerfile => Path.Combine(HostTools.RepositoryRoot(), "deploy", "Dockerfile");

    [Fact]
    public void Runtime_stage_runs_the_node_as_a_non_root_user_with_its_directory_on_a_volume()
    {
        var runtime = Stage("runtime");
        var user = Single(runtime, "USER");
        Assert.DoesNotMatch(@"^(0|root)(:|$)", user);
        Assert.Contains("\"/var/lib/proactive\"", Single(runtime, "VOLUME"), StringComparison.Ordinal);
        Assert.Equal("--from=build /app /opt/proactive", Single(runtime, "COPY"));
        var packages = string.Join(' ', runtime.Where(i => i.Keyword == "RUN").Select(i => i.Arguments));
        Assert.Contains("libsodium23", packages, StringComparison.Ordinal);
        Assert.Contains("libssl3", packages, StringComparison.Ordinal);

        // The ports deploy/k8s gives the node container.
        var exposed = Single(runtime, "EXPOSE").Split(' ').Select(p => p.Split('/')[0]).ToHashSet();
        var node = LoadStatefulSet()["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Single(c => KubernetesManifestTests.Text(c!["name"]) == "node")!;
        Assert.All(node["ports"]!.AsArray(), p => Assert.Contains(KubernetesManifestTests.Text(p!["containerPort"]), exposed));
    }

    [Fact]
    public void Entry_point_command_and_health_check_are_command_lines_proactive_accepts()
    {
        var runtime = Stage("runtime");
        var entry = JsonSerializer.Deserialize<string[]>(Single(runtime, "ENTRYPOINT"))!;
        var command = JsonSerializer.Deserialize<string[]>(Single(runtime, "CMD"))!;
        Assert.Equal(["/opt/proactive/proactive"], entry);
        var health = HealthCheckCommand();
        Assert.Equal(entry[0], health[0]);

        // With the mounted files absent, each gets past the command-line parser (2 would be a usage
        // error) and stops at the first missing file, naming itself.
        foreach (var (arguments, name) in new[] { (command, "proactive node run"), (health[1..], "proactive node health") })
        {
            var mapped = arguments.Select(a => a.StartsWith('/') ? Path.Combine(_temp, "absent", a.TrimStart('/')) : a).ToList();
            var run = HostTools.Run(HostTools.ProactiveProgram(), mapped);
            Assert.True(run.ExitCode == 1 && run.StandardError.Contains(name + ":", StringComparison.Ordinal), $"{HostTools.Describe(arguments)}: exit {run.ExitCode}: {run.Both}");
        }
    }

    /// <summary>The HEALTHCHECK's command (exec form).</summary>
    internal static string[] HealthCheckCommand()
    {
        var health = Single(Stage("runtime"), "HEALTHCHECK");
        var cmd = health.IndexOf("CMD [", StringComparison.Ordinal);
        Assert.True(cmd >= 0, $"HEALTHCHECK is not in exec form: {health}");
        return JsonSerializer.Deserialize<string[]>(health[(cmd + 4)..])!;
    }

    /// <summary>The instructions of a stage (its FROM first), continuation lines joined, comments left out.</summary>
    internal static List<(string Keyword, string Arguments)> Stage(string name)
    {
        var instructions = new List<(string, string)>();
        var pending = string.Empty;
        foreach (var raw in File.ReadAllLines(Dockerfile))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1].TrimEnd() + " ";
                continue;
            }

            line = Spaces().Replace(pending + line, " ");
            pending = string.Empty;
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add((line[..space].ToUpperInvariant(), line[(space + 1)..]));
        }

        var start = instructions.FindIndex(i => i.Item1 == "FROM" && i.Item2.EndsWith(" AS " + name, StringComparison.OrdinalIgnoreCase));
        Assert.True(start >= 0, $"no stage '{name}' in {Dockerfile}");
        var end = instructions.FindIndex(start + 1, i => i.Item1 == "FROM");
        return instructions[start..(end < 0 ? instructions.Count : end)];
    }

    private static string Single(List<(string Keyword, string Arguments)> stage, string keyword) =>
        Assert.Single(stage, i => i.Keyword == keyword).Arguments;

    private static System.Text.Json.Nodes.JsonObject LoadStatefulSet() =>
        MiniYaml.LoadAll(File.ReadAllText(Path.Combine(HostTools.RepositoryRoot(), "deploy", "k8s", "statefulset.yaml"))).Single()!.AsObject();

    /// <summary>The folder names Dockerfile.dockerignore leaves out: "**/name" anywhere, "name" at the top.</summary>
    internal static (HashSet<string> Anywhere, HashSet<string> Top) DockerIgnore(string path)
    {
        var anywhere = new HashSet<string>(StringComparer.Ordinal);
        var top = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            Assert.Matches("^(\\*\\*/)?[A-Za-z0-9._-]+$", line);
            (line.StartsWith("**/", StringComparison.Ordinal) ? anywhere : top).Add(line.TrimStart('*', '/'));
        }

        return (anywhere, top);
    }

    /// <summary>COPY: a file into the destination folder; a folder's content into the destination folder.</summary>
    internal static void Copy(string root, string source, string destination, (HashSet<string> Anywhere, HashSet<string> Top) ignored)
    {
        var from = Path.Combine(root, source);
        if (File.Exists(from))
        {
            Directory.CreateDirectory(destination);
            File.Copy(from, Path.Combine(destination, Path.GetFileName(from)));
            return;
        }

        Assert.True(Directory.Exists(from), $"COPY {source}: not in the repository");
        Assert.DoesNotContain(source.Split('/')[0], ignored.Top);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split('/').SkipLast(1).Any(ignored.Anywhere.Contains))
            {
                continue;
            }

            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}

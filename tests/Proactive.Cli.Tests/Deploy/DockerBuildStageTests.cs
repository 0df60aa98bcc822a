using System.Diagnostics;
using Xunit.Abstractions;

namespace Proactive.Cli.Tests.Deploy;

/// <summary>
/// deploy/Dockerfile's build stage, replayed without a container engine: its COPY lines into an empty
/// folder (minus what Dockerfile.dockerignore leaves out), then its <c>dotnet publish</c>; the published
/// program must run. A full Release build of the CLI and its projects, so it runs with the end-to-end
/// tests, alone (<see cref="AloneCollection"/>).
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(AloneCollection.Name)]
public sealed class DockerBuildStageTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("proactive-docker-build-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    /// <summary>
    /// The image's build stage, replayed: a slow test (a full Release build of the CLI and its projects in
    /// a fresh folder, as a container build does), so it runs with the end-to-end tests.
    /// </summary>
    [Fact]
    public void Build_stage_publishes_a_proactive_program_that_runs()
    {
        var root = HostTools.RepositoryRoot();
        var ignored = DockerfileTests.DockerIgnore(Path.Combine(root, "deploy", "Dockerfile.dockerignore"));
        var context = Path.Combine(_temp, "context");
        var published = Path.Combine(_temp, "app");
        var workdir = context;
        var clock = Stopwatch.StartNew();
        foreach (var (keyword, arguments) in DockerfileTests.Stage("build").Skip(1))
        {
            switch (keyword)
            {
                case "WORKDIR":
                    workdir = Path.Combine(context, arguments.TrimStart('/'));
                    Directory.CreateDirectory(workdir);
                    break;
                case "COPY":
                    var parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    Assert.DoesNotContain(parts, p => p.StartsWith("--", StringComparison.Ordinal));
                    var destination = Path.Combine(workdir, parts[^1]);
                    foreach (var source in parts[..^1])
                    {
                        DockerfileTests.Copy(root, source.TrimEnd('/'), destination, ignored);
                    }

                    break;
                case "RUN" when arguments.StartsWith("dotnet publish ", StringComparison.Ordinal):
                    // The image's command with its output folder mapped here; nothing else changes.
                    var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w == "/app" ? published : w).ToList();
                    output.WriteLine($"RUN {arguments}  (in {workdir}, /app = {published})");
                    // A container build leaves no MSBuild or compiler server behind; neither does this.
                    var run = HostTools.Run("dotnet", words.Skip(1), TimeSpan.FromMinutes(10), workdir, new Dictionary<string, string> { ["MSBUILDDISABLENODEREUSE"] = "1", ["UseSharedCompilation"] = "false" });
                    Assert.True(run.ExitCode == 0, run.Both);
                    break;
                case "RUN":
                    output.WriteLine($"not replayed here (prepares the container only): RUN {arguments}");
                    break;
                default:
                    Assert.Fail($"the build stage has a {keyword} this test does not replay: {keyword} {arguments}");
                    break;
            }
        }

        output.WriteLine($"published in {clock.Elapsed.TotalSeconds:F0} s");
        var program = Path.Combine(published, "proactive");
        Assert.True(File.Exists(program), $"no 'proactive' program in the published folder: {string.Join(", ", Directory.GetFileSystemEntries(published).Select(Path.GetFileName))}");
        var version = HostTools.Run(program, "--version");
        output.WriteLine($"proactive --version: {version.Both}");
        Assert.True(version.ExitCode == 0, version.Both);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.StandardOutput.Trim());
        Assert.Equal(0, HostTools.Run(program, "node", "health", "--help").ExitCode);
    }

}

/// <summary>
/// Tests that load the machine (a full build, four server processes with real periods) run after every
/// other test of the assembly, one at a time, so that they neither slow down the timing-sensitive
/// cluster tests nor each other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone: loads the machine";
}

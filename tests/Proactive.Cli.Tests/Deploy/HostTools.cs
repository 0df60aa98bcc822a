using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Proactive.Cli.Tests.Deploy;

/// <summary>Programs of the machine the tests run on (ip, systemd-analyze, bash): where they are, and running them.</summary>
internal static class HostTools
{
    internal sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        public string Both => (StandardOutput + StandardError).Trim();
    }

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    internal static string? Find(string program)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(directory, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        // ip lives in /usr/sbin or /sbin, which a non-login PATH may lack.
        return new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs a program to its end (killed after <paramref name="timeout"/>, default 60 s); never throws for a failure of the program.</summary>
    internal static Result Run(string program, IEnumerable<string> arguments, TimeSpan? timeout = null, string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Find(program) ?? program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new Result(-1, stdout.Result, stderr.Result + $"\n{program} did not finish within {timeout ?? TimeSpan.FromSeconds(60)}");
            }

            return new Result(process.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new Result(-1, string.Empty, $"{program} could not start: {e.Message}");
        }
    }

    internal static Result Run(string program, params string[] arguments) => Run(program, (IEnumerable<string>)arguments);

    /// <summary>The repository's root: the first folder above the tests that holds deploy/Dockerfile.</summary>
    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "deploy", "Dockerfile")) && File.Exists(Path.Combine(directory.FullName, "Proactive.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No repository root (with deploy/Dockerfile) above {AppContext.BaseDirectory}.");
    }

    /// <summary>The <c>proactive</c> program built beside the tests (its apphost, as an installation runs it).</summary>
    internal static string ProactiveProgram()
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "proactive");
        Assert.True(File.Exists(apphost), $"the proactive apphost is not beside the tests at {apphost}");
        return apphost;
    }

    /// <summary>One line per argument, for failure messages.</summary>
    internal static string Describe(IEnumerable<string> command) =>
        new StringBuilder().AppendJoin(' ', command.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a)).ToString();
}

/// <summary>
/// A test that needs a program of the machine (systemd-analyze, bash): where it is missing, the test is
/// reported as skipped with that reason. xunit 2.9 decides skips at discovery (it has no skip from inside
/// a test), hence an attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FactWhenProgramAttribute : FactAttribute
{
    public FactWhenProgramAttribute(string program, [CallerMemberName] string test = "")
    {
        Program = program;
        if (HostTools.Find(program) is null)
        {
            SkipWithReason(this, test, $"'{program}' is not installed here, so this check cannot run");
        }
    }

    public string Program { get; }

    /// <summary>
    /// Skips with <paramref name="reason"/>, also in the test's name: dotnet test prints a skip's reason
    /// only at detailed verbosity, but the name of every skipped test at the default one (./test.sh).
    /// </summary>
    internal static void SkipWithReason(FactAttribute fact, string test, string reason)
    {
        fact.Skip = reason;
        fact.DisplayName = $"{test} (skipped: {reason})";
    }
}

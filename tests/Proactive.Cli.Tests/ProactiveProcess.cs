using System.Diagnostics;

namespace Proactive.Cli.Tests;

/// <summary>Runs the real <c>proactive</c> program (the built proactive.dll beside the tests) as a child process.</summary>
internal static class ProactiveProcess
{
    internal sealed record Result(int ExitCode, string StandardOutput, string StandardError);

    internal static Result Run(params string[] arguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "proactive.dll");
        Assert.True(File.Exists(dll), $"proactive.dll not found beside the tests at {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        return RunProcess(start, TimeSpan.FromSeconds(60));
    }

    internal static Result RunProcess(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} did not finish within {timeout}");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}

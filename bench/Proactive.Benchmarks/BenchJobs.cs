namespace Proactive.Benchmarks;

/// <summary>
/// Ids of the jobs that benchmark classes declare with [SimpleJob(id: ...)]. BenchmarkDotNet adds a
/// job chosen on the command line (--job dry) to those of the class instead of replacing them, so a
/// smoke run would also start the long measured runs; Program drops these jobs when --job is given.
/// </summary>
internal static class BenchJobs
{
    internal const string Feldman = "Feldman";
    internal const string Frost = "Frost";
    internal const string Short = "Short10";

    internal static readonly HashSet<string> ClassJobIds = [Feldman, Frost, Short];

    internal static bool ChoosesJobOnCommandLine(IEnumerable<string> args) =>
        args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
}

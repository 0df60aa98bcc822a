using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;
using Proactive.Benchmarks;

// dotnet run -c Release --project bench/Proactive.Benchmarks -- --filter '*'   (see docs/BENCHMARKS.md)
// With --job (e.g. --job dry for a smoke run) only that job runs, not also the jobs the classes declare.
// dotnet run -c Release --project bench/Proactive.Benchmarks -- protocol-costs [--quick]: DKG and refresh
// through the simulator with real crypto (no BenchmarkDotNet; see ProtocolCosts.cs).
if (args.Length > 0 && args[0] == "protocol-costs")
{
    return ProtocolCosts.Run(args);
}

IConfig config = DefaultConfig.Instance;
if (BenchJobs.ChoosesJobOnCommandLine(args))
{
    config = ManualConfig.Create(DefaultConfig.Instance)
        .AddFilter(new SimpleFilter(c => !BenchJobs.ClassJobIds.Contains(c.Job.Id)));
}

BenchmarkSwitcher.FromAssembly(typeof(GroupBenchmarks).Assembly).Run(args, config);
return 0;

using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Proactive.Benchmarks -- --filter '*'   (see docs/BENCHMARKS.md)
BenchmarkSwitcher.FromAssembly(typeof(Proactive.Benchmarks.GroupBenchmarks).Assembly).Run(args);

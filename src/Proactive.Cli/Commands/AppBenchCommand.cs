// References: issue 5 "Measure" (sign latency p50/p99 and sustained throughput, store + retrieve of a 1 KiB
// secret, the refresh with many stored secrets); docs/BENCHMARKS.md "Applications".
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Proactive.Client;

namespace Proactive.Cli.Commands;

/// <summary>
/// <c>proactive bench app</c>: measures the application API of a running network through the SDK, as an
/// application sees it: a fresh application registers, generates a key, signs (one at a time for the
/// latency, many at once across every server for the throughput), stores and retrieves 1 KiB secrets.
/// Prints one line per figure (or one JSON object); nothing is asserted (machines are shared and noisy).
/// </summary>
internal static class AppBenchCommand
{
    internal static Command Create()
    {
        var server = new Option<string?>("--server") { Description = "A server's API (default: server 1 of the local cluster in .cluster)." };
        var signatures = new Option<int>("--signatures") { Description = "Signatures one at a time, for the latency.", DefaultValueFactory = _ => 200 };
        var seconds = new Option<int>("--seconds") { Description = "How long the throughput run lasts.", DefaultValueFactory = _ => 10 };
        var concurrency = new Option<int>("--concurrency") { Description = "Signatures in flight at once during the throughput run.", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Messages per request in the second throughput run (POST /v1/keys/{id}/sign-batch, 1-256; 0 skips it).", DefaultValueFactory = _ => 64 };
        var stores = new Option<int>("--stores") { Description = "1 KiB secrets stored and retrieved one at a time.", DefaultValueFactory = _ => 50 };
        var secrets = new Option<int>("--secrets") { Description = "Then store this many 32-byte secrets in bulk and time the refreshes that take them in (0: skip).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "One JSON object." };
        var command = new Command("app", "Measure signing and secret storage through the SDK against a running network.")
        {
            server, signatures, seconds, concurrency, batch, stores, secrets, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!ClientConnection.TryResolveServer(parse.GetValue(server), Cluster.ClusterLayout.DefaultDirectory, out var target, out var error, out var usage))
            {
                Console.Error.WriteLine(error);
                return usage ? 2 : 1;
            }

            try
            {
                return await RunAsync(target, parse.GetValue(signatures), parse.GetValue(seconds), parse.GetValue(concurrency), parse.GetValue(batch), parse.GetValue(stores), parse.GetValue(secrets), parse.GetValue(json), cancellationToken).ConfigureAwait(false);
            }
            catch (ProactiveException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }

    /// <summary>Signatures per second with <paramref name="concurrency"/> requests of <paramref name="perRequest"/> messages in flight for <paramref name="seconds"/>, and the failed requests.</summary>
    private static async Task<(double PerSecond, long Failed)> MeasureThroughputAsync(List<ProactiveClient> clients, int concurrency, int seconds, int perRequest, CancellationToken cancellationToken)
    {
        var done = 0L;
        var failed = 0L;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(seconds));
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async w =>
        {
            var messages = Enumerable.Range(0, perRequest).Select(_ => (ReadOnlyMemory<byte>)new byte[32]).ToList();
            while (!stop.IsCancellationRequested)
            {
                foreach (var message in messages)
                {
                    RandomNumberGenerator.Fill(System.Runtime.InteropServices.MemoryMarshal.AsMemory(message).Span);
                }

                try
                {
                    var client = clients[w % clients.Count];
                    if (perRequest == 1)
                    {
                        await client.SignAsync("bench-key", messages[0], stop.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        await client.SignBatchAsync("bench-key", messages, stop.Token).ConfigureAwait(false);
                    }

                    Interlocked.Add(ref done, perRequest);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (ProactiveException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return (done / clock.Elapsed.TotalSeconds, failed);
    }

    /// <summary>Store + retrieve rounds run before the measured ones.</summary>
    private const int StoreWarmUp = 30;

    private static async Task<int> RunAsync(Uri target, int signatures, int seconds, int concurrency, int batch, int stores, int secrets, bool json, CancellationToken cancellationToken)
    {
        using var discovery = new ProactiveClient(target);
        var cluster = await discovery.GetClusterAsync(cancellationToken).ConfigureAwait(false);
        using var credentials = await discovery.RegisterAsync("bench", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), cancellationToken: cancellationToken).ConfigureAwait(false);
        var clients = cluster.Servers.Where(s => s.Api is not null).Select(s => new ProactiveClient(new Uri(s.Api!), credentials)).ToList();
        try
        {
            var first = clients[0];
            await first.GenerateKeyAsync("bench-key", cancellationToken).ConfigureAwait(false);
            var message = new byte[32];

            // Warm-up (not measured): the servers' code paths compiled to their optimized tier, the signers'
            // commitments in every coordinator's stock.
            for (var i = 0; i < 100; i++)
            {
                RandomNumberGenerator.Fill(message);
                await clients[i % clients.Count].SignAsync("bench-key", message, cancellationToken).ConfigureAwait(false);
            }

            // Latency: one signature at a time, round robin over the servers (each coordinates in turn).
            var latencies = new List<double>(signatures);
            for (var i = 0; i < signatures; i++)
            {
                RandomNumberGenerator.Fill(message);
                var started = Stopwatch.GetTimestamp();
                await clients[i % clients.Count].SignAsync("bench-key", message, cancellationToken).ConfigureAwait(false);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }

            // Store + retrieve of a 1 KiB secret, one at a time, after a warm-up as for the signatures (not
            // measured: this process's store and retrieve paths compiled to their optimized tier).
            var storeTimes = new List<double>(stores);
            var retrieveTimes = new List<double>(stores);
            var both = new List<double>(stores);
            var value = new byte[1024];
            for (var i = 0; i < Math.Min(stores, StoreWarmUp); i++)
            {
                RandomNumberGenerator.Fill(value);
                var id = "warm-up-" + i.ToString(CultureInfo.InvariantCulture);
                await first.StoreAsync(id, value, cancellationToken: cancellationToken).ConfigureAwait(false);
                await first.RetrieveAsync(id, cancellationToken).ConfigureAwait(false);
            }

            for (var i = 0; i < stores; i++)
            {
                RandomNumberGenerator.Fill(value);
                var id = "bench-" + i.ToString(CultureInfo.InvariantCulture);
                var started = Stopwatch.GetTimestamp();
                await first.StoreAsync(id, value, cancellationToken: cancellationToken).ConfigureAwait(false);
                var stored = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var retrieved = await first.RetrieveAsync(id, cancellationToken).ConfigureAwait(false);
                var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!retrieved.Value.AsSpan().SequenceEqual(value))
                {
                    Console.Error.WriteLine($"secret {id} came back different");
                    return 1;
                }

                storeTimes.Add(stored);
                retrieveTimes.Add(total - stored);
                both.Add(total);
            }

            // Throughput last, so that the latencies above are measured on an unloaded network: many requests in
            // flight, spread over every server, for a fixed time; one message per request, then (the throughput
            // path) batches of messages per request.
            var (throughput, failed) = await MeasureThroughputAsync(clients, concurrency, seconds, 1, cancellationToken).ConfigureAwait(false);
            var (batchThroughput, batchFailed) = batch > 0
                ? await MeasureThroughputAsync(clients, Math.Max(1, concurrency / 8), seconds, Math.Min(batch, ProactiveClient.MaxBatchMessages), cancellationToken).ConfigureAwait(false)
                : (0, 0);

            var bulk = new List<(string Name, double Value, string Unit)>();
            if (secrets > 0)
            {
                bulk.AddRange(await MeasureBulkAsync(first, cluster, secrets, cancellationToken).ConfigureAwait(false));
            }

            var figures = new (string Name, double Value, string Unit)[]
            {
                ("sign p50", Percentile(latencies, 50), "ms"),
                ("sign p99", Percentile(latencies, 99), "ms"),
                ("sign throughput, 1 message per request", throughput, "signatures/s"),
                ($"sign throughput, {batch} messages per request", batchThroughput, "signatures/s"),
                ("sign failures during throughput", failed + batchFailed, "count"),
                ("store 1 KiB secret p50", Percentile(storeTimes, 50), "ms"),
                ("retrieve 1 KiB secret p50", Percentile(retrieveTimes, 50), "ms"),
                ("store + retrieve 1 KiB secret p50", Percentile(both, 50), "ms"),
                ("store + retrieve 1 KiB secret p99", Percentile(both, 99), "ms"),
            }.Concat(bulk).ToArray();
            if (json)
            {
                Console.WriteLine("{" + string.Join(", ", figures.Select(f => $"\"{f.Name}\": {f.Value.ToString("F1", CultureInfo.InvariantCulture)}")) + "}");
            }
            else
            {
                Console.WriteLine($"network {cluster.Network}: n={cluster.ServerCount}, t={cluster.Threshold}, f={cluster.Faults}, {cluster.Suite}; {signatures} signatures, {seconds} s at {concurrency} in flight, {stores} secrets");
                foreach (var (name, figure, unit) in figures)
                {
                    Console.WriteLine($"  {name,-36} {figure,10:F1} {unit}");
                }
            }

            return 0;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>
    /// Stores <paramref name="count"/> 32-byte secrets in bulk, then follows every server's status until the
    /// refreshes that take them into the share vector (the one of the period after next) and the one after
    /// have committed, and reports the import time and the slowest server's refresh wall time of each.
    /// </summary>
    private static async Task<IEnumerable<(string Name, double Value, string Unit)>> MeasureBulkAsync(ProactiveClient client, ClusterInfo cluster, int count, CancellationToken cancellationToken)
    {
        var secrets = Enumerable.Range(0, count).Select(i => ("bulk-" + i.ToString(CultureInfo.InvariantCulture), RandomNumberGenerator.GetBytes(32))).ToList();
        var started = Stopwatch.GetTimestamp();
        await client.StoreSecretsAsync(secrets, cancellationToken).ConfigureAwait(false);
        var import = Stopwatch.GetElapsedTime(started).TotalSeconds;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var apis = cluster.Servers.Where(s => s.Api is not null).Select(s => new Uri(new Uri(s.Api!), "/v1/status")).ToList();
        async Task<List<(int Server, ulong Period, double? Duration)>> StatusAsync()
        {
            var all = new List<(int, ulong, double?)>();
            for (var i = 0; i < apis.Count; i++)
            {
                using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(apis[i], cancellationToken).ConfigureAwait(false));
                var root = document.RootElement;
                all.Add((i, root.GetProperty("period").GetUInt64(),
                    root.TryGetProperty("lastRefreshDurationMs", out var d) && d.ValueKind == System.Text.Json.JsonValueKind.Number ? d.GetDouble() : null));
            }

            return all;
        }

        // A server's last refresh duration, last seen while it was in a period, is that period's refresh.
        var storedIn = (await StatusAsync().ConfigureAwait(false)).Max(s => s.Period);
        var seen = new Dictionary<(int Server, ulong Period), double>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(cluster.PeriodSeconds * 7);
        while (DateTime.UtcNow < deadline)
        {
            var status = await StatusAsync().ConfigureAwait(false);
            foreach (var (server, period, duration) in status.Where(s => s.Duration is not null))
            {
                seen[(server, period)] = duration!.Value;
            }

            if (status.Min(s => s.Period) >= storedIn + 4)
            {
                break;
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }

        double Slowest(ulong period) => seen.Where(e => e.Key.Period == period).Select(e => e.Value).DefaultIfEmpty(double.NaN).Max();
        return
        [
            ("bulk import of secrets", count, "secrets"),
            ("bulk import time", import, "s"),
            ("refresh taking them in (slowest server)", Slowest(storedIn + 2), "ms"),
            ("next refresh with them (slowest server)", Slowest(storedIn + 3), "ms"),
        ];
    }

    private static double Percentile(List<double> values, int percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }
}

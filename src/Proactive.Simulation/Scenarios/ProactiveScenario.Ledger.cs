// References: docs/BRIEF.md section 1 (invariant 2: no two honest servers commit different results for the
// same write; invariant 4: every write completes with at most f faulty servers); docs/PROTOCOLS.md
// "Application ledger".
using System.Globalization;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;

namespace Proactive.Simulation.Scenarios;

/// <summary>The application workload of a scenario and the ledger invariants it checks every period.</summary>
public sealed partial class ProactiveScenario
{
    private readonly List<(ulong Period, byte[] Id)> _submitted = [];
    private Ed25519PrivateKey? _clientKey;
    private string? _clientHandle;

    /// <summary>How many data entries each honest server's application state holds (tests check the workload was applied).</summary>
    public IReadOnlyDictionary<int, int> StoredEntries() => Honest().ToDictionary(h => h.Server, h => h.Controller.Ledger.State.DataCount);

    /// <summary>Schedules this period's client requests (register in period 1, then stores) at random honest servers, in the first half of the period.</summary>
    private void SubmitApplicationRequests(ulong period)
    {
        if (_options.ApplicationRequests <= 0)
        {
            return;
        }

        var random = SimulationSeed.Integers(_options.Seed, $"ledger-{period}");
        _clientKey ??= Ed25519PrivateKey.FromSeed(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(_options.Seed)));
        var network = _network.ToString();
        var timestamp = (period * SimulatedPeriodMilliseconds) + 1000;
        var requests = new List<SignedRequest>();
        if (_clientHandle is null)
        {
            var name = "sim-app";
            var unique = $"seed-{_options.Seed}";
            var body = System.Text.Encoding.UTF8.GetBytes($"{{\"name\":\"{name}\",\"uniqueId\":\"{unique}\",\"publicKey\":\"{Convert.ToHexStringLower(_clientKey.PublicKey.Bytes)}\"}}");
            requests.Add(Sign(network, SignedRequest.NewHandle, "POST", "/v1/apps", timestamp, body, random));
            _clientHandle = Handles.Format(ApplicationState.CentralizedId(name, unique), 0);
        }
        else
        {
            for (var i = 0; i < _options.ApplicationRequests; i++)
            {
                var body = System.Text.Encoding.UTF8.GetBytes($"{{\"id\":\"p{period}-{i}\",\"type\":\"public-write-once\",\"value\":\"{Convert.ToBase64String(BitConverter.GetBytes(i))}\"}}");
                requests.Add(Sign(network, _clientHandle, "POST", "/v1/data", timestamp + (ulong)i, body, random));
            }
        }

        var start = PeriodStart(period);
        foreach (var request in requests)
        {
            _submitted.Add((period, request.Id));
            var at = start + TimeSpan.FromMilliseconds(random.Next(50, (int)(_options.PeriodLength.TotalMilliseconds / 2)));
            _simulator.Schedule(at, "client request", _ =>
            {
                var honest = Honest().Where(h => h.Controller.IsLedgerCurrent).ToList();
                if (honest.Count > 0)
                {
                    var host = honest[random.Next(honest.Count)];
                    host.Run(context => host.Controller.SubmitRequest(context, request, out SubmitOutcome _));
                }
            });
        }
    }

    private SignedRequest Sign(string network, string handle, string method, string path, ulong timestamp, byte[] body, Random random)
    {
        var nonce = new byte[SignedRequest.NonceLength];
        random.NextBytes(nonce);
        var signed = Proactive.Protocols.Services.ApplicationRequestSigning.SigningBytes(network, handle, method, path, timestamp.ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(nonce), body);
        return new SignedRequest(handle, method, path, timestamp, nonce, body, _clientKey!.Sign(signed));
    }

    /// <summary>
    /// Invariant (b) for the ledger: honest servers at the same ledger position hold the same application
    /// state; and (d): once the network is synchronous, every request submitted in the period is applied
    /// at every honest server that follows the ledger by the period's end.
    /// </summary>
    private void CheckLedger(ulong period, bool synchronous)
    {
        var current = Honest().Where(h => h.Controller.IsLedgerCurrent).ToList();
        foreach (var group in current.GroupBy(h => (h.Controller.Ledger.Period, h.Controller.Ledger.NextSequence)))
        {
            var digests = group.Select(h => Convert.ToHexStringLower(h.Controller.Ledger.State.Digest())).Distinct().ToList();
            if (digests.Count > 1)
            {
                throw new InvariantViolationException($"(b) period {period}: servers {string.Join(",", group.Select(h => h.Server))} at ledger {group.Key.Period}/{group.Key.NextSequence} hold different application states (seed {_options.Seed})");
            }
        }

        if (!synchronous)
        {
            return;
        }

        foreach (var (submittedIn, id) in _submitted.Where(s => s.Period == period))
        {
            var missing = current.Where(h => !h.Controller.Ledger.State.WasApplied(id)).Select(h => h.Server).ToList();
            if (missing.Count > 0)
            {
                throw new InvariantViolationException($"(d) period {period}: a request submitted in period {submittedIn} is not applied at servers {string.Join(",", missing)} (seed {_options.Seed})");
            }
        }
    }
}

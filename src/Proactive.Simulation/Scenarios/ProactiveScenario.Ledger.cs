// References: docs/BRIEF.md section 1 (invariant 2: no two honest servers commit different results for the
// same write; invariant 4: every write completes with at most f faulty servers); docs/PROTOCOLS.md
// "Application ledger".
using System.Globalization;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Scenarios;

/// <summary>The application workload of a scenario and the ledger invariants it checks every period.</summary>
public sealed partial class ProactiveScenario
{
    private readonly List<(ulong Period, byte[] Id)> _submitted = [];
    private readonly Dictionary<string, (ulong Period, int Coordinator, byte[] Message)> _signing = [];
    private Ed25519PrivateKey? _clientKey;
    private string? _clientHandle;
    private bool _keyRequested;

    /// <summary>How many data entries each honest server's application state holds (tests check the workload was applied).</summary>
    public IReadOnlyDictionary<int, int> StoredEntries() => Honest().ToDictionary(h => h.Server, h => h.Controller.Ledger.State.DataCount);

    /// <summary>How many signatures honest coordinators produced (tests check the workload ran).</summary>
    public int SignaturesProduced => _hosts.Values.Sum(h => _simulator.Server(h.Server).Events.Select(e => e.Event).OfType<AppSignatureProduced>().Count());

    /// <summary>
    /// Schedules this period's client requests (register in period 1, then stores; a key in period 2 and
    /// signatures from period 3 on) at random honest servers, in the first half of the period.
    /// </summary>
    private void SubmitApplicationRequests(ulong period)
    {
        if (_options.ApplicationRequests <= 0 && _options.SigningRequests <= 0)
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

            if (_options.SigningRequests > 0 && !_keyRequested)
            {
                requests.Add(Sign(network, _clientHandle, "POST", "/v1/keys", timestamp, "{\"id\":\"sim-key\"}"u8.ToArray(), random));
                _keyRequested = true;
            }
            else if (_options.SigningRequests > 0)
            {
                ScheduleSignatures(period, network, timestamp, random);
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

    /// <summary>This period's signing requests, each started at a random honest server whose ledger is current.</summary>
    private void ScheduleSignatures(ulong period, string network, ulong timestamp, Random random)
    {
        var start = PeriodStart(period);
        for (var i = 0; i < _options.SigningRequests; i++)
        {
            var message = System.Text.Encoding.UTF8.GetBytes($"period {period} message {i}");
            var request = Sign(network, _clientHandle!, "POST", "/v1/keys/sim-key/sign", timestamp + 1000 + (ulong)i,
                System.Text.Encoding.UTF8.GetBytes($"{{\"message\":\"{Convert.ToBase64String(message)}\"}}"), random);
            var at = start + TimeSpan.FromMilliseconds(random.Next(50, (int)(_options.PeriodLength.TotalMilliseconds / 2)));
            _simulator.Schedule(at, "signing request", _ =>
            {
                var honest = Honest().Where(h => h.Controller.IsLedgerCurrent).ToList();
                if (honest.Count == 0)
                {
                    return;
                }

                var host = honest[random.Next(honest.Count)];
                var problem = string.Empty;
                host.Run(context => host.Controller.StartAppSigning(context, request, out InstanceId _, out problem));
                if (problem.Length == 0)
                {
                    _signing[Convert.ToHexStringLower(request.Id)] = (period, host.Server, message);
                }
            });
        }
    }

    /// <summary>
    /// Application signatures: (safety) every signature an honest coordinator produced verifies under the
    /// key every honest server holds, for the message the client asked; (liveness) once the network is
    /// synchronous, every session an honest coordinator started in the period produced its signature.
    /// </summary>
    private void CheckSignatures(ulong period, bool synchronous)
    {
        if (_options.SigningRequests <= 0)
        {
            return;
        }

        var keys = Honest().Select(h => h.Controller.AppKeyPublicKey(0)).Where(k => k is not null).Select(k => Convert.ToHexStringLower(_group.EncodeElement(k!.Value))).Distinct().ToList();
        if (keys.Count > 1)
        {
            throw new InvariantViolationException($"(s) period {period}: honest servers hold different public keys for one application key (seed {_options.Seed})");
        }

        var produced = new HashSet<string>();
        foreach (var host in Honest())
        {
            foreach (var signature in _simulator.Server(host.Server).Events.Select(e => e.Event).OfType<AppSignatureProduced>().Where(e => e.Instance.Period == period))
            {
                var id = Convert.ToHexStringLower(signature.RequestId);
                produced.Add(id);
                if (!_signing.TryGetValue(id, out var asked) || keys.Count == 0 || Convert.ToHexStringLower(signature.PublicKey) != keys[0]
                    || !Verifies(signature, asked.Message))
                {
                    throw new InvariantViolationException($"(s) period {period}: server {host.Server} produced a signature that does not verify for the message asked under the application's key (seed {_options.Seed})");
                }
            }
        }

        if (!synchronous)
        {
            return;
        }

        var honest = Honest().Select(h => h.Server).ToHashSet();
        foreach (var (id, asked) in _signing.Where(s => s.Value.Period == period && honest.Contains(s.Value.Coordinator)))
        {
            if (!produced.Contains(id))
            {
                throw new InvariantViolationException($"(s) period {period}: server {asked.Coordinator} started a signing session that produced no signature (seed {_options.Seed})");
            }
        }
    }

    /// <summary>The suite's FROST (Schnorr) verification; for Ed25519 keys the same as RFC 8032's.</summary>
    private bool Verifies(AppSignatureProduced produced, byte[] message) =>
        Proactive.Crypto.Frost.Ciphersuite.TryFromGroupId(_group.Id, out var suite) && suite is not null
        && Proactive.Crypto.Frost.GroupPublicKey.TryDecode(suite, produced.PublicKey, out var key) && key is not null
        && Proactive.Crypto.Frost.Signature.TryDecode(suite, produced.Signature, out var signature) && signature is not null
        && key.Verify(message, signature);

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

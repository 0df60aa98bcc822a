using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Random;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.KeyTable;

/// <summary>
/// A network about to run the KeyTable of period <see cref="Period"/>: every server's keys of the
/// previous period (what the previous certified table lists) and fresh keys for the period.
/// </summary>
internal sealed class KeyTableFixture : IDisposable
{
    public const ulong Period = 8;

    public static readonly NetworkId Network = NetworkId.FromBytes(Encoding.ASCII.GetBytes("keytable-tests-1"));

    public static readonly InstanceId Instance = new(ProtocolKind.KeyTable, Period, 0);

    private readonly DeterministicRandomSource _random;

    public KeyTableFixture(ClusterParameters parameters, ulong seed)
    {
        Parameters = parameters;
        _random = new DeterministicRandomSource(seed);
        foreach (var j in parameters.Servers)
        {
            Previous[j] = PeriodKeys.Generate(j, Period - 1, _random);
            New[j] = PeriodKeys.Generate(j, Period, _random);
        }
    }

    public ClusterParameters Parameters { get; }

    public Dictionary<int, PeriodKeys> Previous { get; } = [];

    public Dictionary<int, PeriodKeys> New { get; } = [];

    public static byte[] Fingerprint(int server) => SHA256.HashData(Encoding.ASCII.GetBytes($"tls certificate of server {server}"));

    public Ed25519PublicKey? PreviousKeyOf(int server) => Previous.TryGetValue(server, out var keys) ? keys.PublicKeys.Signing : null;

    /// <summary>
    /// Machines for <paramref name="servers"/> (all when null); <paramref name="lostPreviousKey"/> are
    /// recovering (no S_i(p-1)); every machine believes <paramref name="believedRecovering"/> recovering.
    /// </summary>
    public Dictionary<int, KeyTableMachine> Machines(int[]? servers = null, int[]? lostPreviousKey = null, int[]? believedRecovering = null, KeyTableTimeouts? timeouts = null)
    {
        var machines = new Dictionary<int, KeyTableMachine>();
        foreach (var j in servers ?? Parameters.Servers.ToArray())
        {
            var previous = lostPreviousKey?.Contains(j) == true ? null : Previous[j].Signing;
            machines[j] = new KeyTableMachine(
                Instance, Parameters, j, Network, New[j], previous, Fingerprint(j), PreviousKeyOf, believedRecovering ?? [], timeouts);
        }

        return machines;
    }

    /// <summary>An entry for <paramref name="server"/> with keys the adversary made up, sent in the clear.</summary>
    public SignedKeyTableEntry Impostor(int server)
    {
        using var keys = PeriodKeys.Generate(server, Period, _random);
        return SignedKeyTableEntry.Create(new KeyTableEntry(keys.PublicKeys, Fingerprint(99)), Network, keys.Signing, previousKey: null);
    }

    /// <summary>A second, different K_j that server j itself signs with its new and its previous key (equivocation).</summary>
    public SignedKeyTableEntry SecondAuthenticatedEntry(int server)
    {
        using var keys = PeriodKeys.Generate(server, Period, _random);
        return SignedKeyTableEntry.Create(new KeyTableEntry(keys.PublicKeys, Fingerprint(server)), Network, keys.Signing, Previous[server].Signing);
    }

    public static FifoTestBus Bus(ClusterParameters parameters, Dictionary<int, KeyTableMachine> machines, ulong seed) =>
        new(parameters, machines.ToDictionary(kv => kv.Key, kv => (IProtocolMachine)kv.Value), seed);

    public void Dispose()
    {
        foreach (var keys in Previous.Values.Concat(New.Values))
        {
            keys.Dispose();
        }
    }
}

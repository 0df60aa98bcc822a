using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Tests.Envelopes;

/// <summary>
/// Three servers with deterministic keys for periods 6, 7 and 8, a directory holding all of them,
/// and sealers and openers built the way the node builds them.
/// </summary>
internal sealed class EnvelopeTestNetwork : IDisposable
{
    public const ulong Period = 7;
    public const int ServerCount = 3;

    public static readonly NetworkId Network = NetworkId.FromBytes(Convert.FromHexString("00112233445566778899aabbccddeeff"));
    public static readonly NetworkId OtherNetwork = NetworkId.FromBytes(Convert.FromHexString("ffeeddccbbaa99887766554433221100"));
    public static readonly InstanceId Instance = new(ProtocolKind.Refresh, Period, 3);

    private readonly Dictionary<(int Server, ulong Period), PeriodKeys> _keys = [];

    public EnvelopeTestNetwork()
    {
        for (var server = 1; server <= ServerCount; server++)
        {
            for (var period = Period - 1; period <= Period + 1; period++)
            {
                var keys = PeriodKeys.Generate(server, period, new DeterministicRandomSource((ulong)((server * 1000) + (int)period)));
                _keys.Add((server, period), keys);
                Assert.True(Directory.TryAdd(keys.PublicKeys));
            }
        }
    }

    public static PrimeOrderGroup Suite => PrimeOrderGroup.Ed25519;

    public PeriodKeyDirectory Directory { get; } = new();

    public PeriodKeys Keys(int server, ulong period = Period) => _keys[(server, period)];

    public EnvelopeSealer Sealer(int server, ulong period = Period, IRandomSource? random = null) =>
        new(server, Keys(server, period), Directory, Network, Suite, random ?? new DeterministicRandomSource(99));

    public EnvelopeOpener Opener(int server, ReplayGuard? guard = null) =>
        new(server, p => _keys.GetValueOrDefault((server, p)), Directory, Network, Suite, guard ?? new ReplayGuard());

    /// <summary>A header as server <paramref name="sender"/> would write it, for hand-built envelopes.</summary>
    public static EnvelopeHeader Header(ushort sender, ushort recipient = 0, bool confidential = false, byte round = 1, ulong period = Period) =>
        new(Suite.Id, Network, Instance with { Period = period }, Attempt: 2, round, Type: 4, sender, recipient, confidential);

    public void Dispose()
    {
        foreach (var keys in _keys.Values)
        {
            keys.Dispose();
        }
    }
}

// References: docs/BRIEF.md section 3 ("Messages are signed by the sender's current period key;
// private payloads are HPKE-encrypted to the recipient's current period key"; the simulator runs the
// same code as the node, so every message goes through the envelope layer); toolkit paper (seed 001)
// Table 1 (a new key pair per server and period); Proactive.Protocols.Envelopes.Envelope (format and
// guarantees), EnvelopeOpener (period window, replay guard).

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;
using Proactive.Simulation.Byzantine;

namespace Proactive.Simulation.Wire;

/// <summary>
/// The real envelope layer as the simulator's wire: every message is signed with its sender's Ed25519
/// key of the instance's period, confidential payloads are HPKE-encrypted to the recipient's key of
/// that period, and every packet is opened by the recipient's <see cref="EnvelopeOpener"/> with its own
/// <see cref="ReplayGuard"/>. The sender a machine sees is the one that signed, so a Byzantine server
/// can no longer speak for another one.
/// </summary>
/// <remarks>
/// <para><b>Keys.</b> Each server's <see cref="PeriodKeys"/> for period p come from a seeded stream
/// derived from (simulation seed, server, p), and each sealer's HPKE randomness from another stream of
/// (seed, server, p): the same seed gives the same keys, the same ciphertexts and the same trace. Keys
/// exist for every period in [<see cref="CurrentPeriod"/> - 1, <see cref="CurrentPeriod"/> + 1]: the
/// window the opener accepts. <see cref="AdvancePeriod"/> makes the next period's keys, registers their
/// public halves in the shared <see cref="Directory"/> and erases (disposes) keys that fell out of the
/// window, as the node erases them after a refresh. The keys do not go through the KeyTable protocol:
/// the codec plays a directory that every server already agrees on.</para>
/// <para><b>What changes against <see cref="PlainWireCodec"/></b>: identical signed bytes are accepted
/// once per recipient (Ed25519 is deterministic, so a broadcast sent twice with the same attempt, or a
/// packet the network duplicates, is refused as <c>envelope:Replay</c>); a machine that retransmits must
/// change the attempt. A confidential retransmission has fresh HPKE randomness, hence new bytes.</para>
/// <para><b>Adversary.</b> <see cref="ByzantineContext.Send"/> seals as the Byzantine server itself;
/// <see cref="SealerFor"/> gives a strategy its own server's sealer (any header it likes, signed as
/// itself, never as another); <see cref="ByzantineContext.SendRaw"/> with bytes from
/// <see cref="Captured"/> replays an envelope verbatim.</para>
/// <para>Security: the keys are predictable from the seed; this class exists only for simulation.
/// Not thread-safe, like the simulator that owns it.</para>
/// </remarks>
public sealed class EnvelopeWireCodec : IWireCodec, IDisposable
{
    private readonly ClusterParameters _parameters;
    private readonly ulong _seed;
    private readonly Dictionary<(int Server, ulong Period), PeriodKeys> _keys = [];
    private readonly Dictionary<(int Server, ulong Period), EnvelopeSealer> _sealers = [];
    private readonly EnvelopeOpener[] _openers;
    private readonly List<CapturedEnvelope> _captured = [];
    private bool _disposed;

    /// <summary>A codec for <paramref name="parameters"/>'s servers, with keys for periods up to <paramref name="initialPeriod"/> + 1.</summary>
    /// <param name="parameters">The cluster; its servers get keys.</param>
    /// <param name="seed">The simulation seed, from which keys, HPKE randomness and the network id are derived.</param>
    /// <param name="initialPeriod">The period the run starts in.</param>
    /// <param name="suite">The network's group (the suite byte of every envelope); Ristretto255 by default.</param>
    /// <param name="captureEnvelopes">Keep every sealed envelope in <see cref="Captured"/>, for replay scenarios.</param>
    public EnvelopeWireCodec(ClusterParameters parameters, ulong seed, ulong initialPeriod = 0, PrimeOrderGroup? suite = null, bool captureEnvelopes = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parameters.ServerCount, ushort.MaxValue, nameof(parameters));
        if (initialPeriod == ulong.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(initialPeriod), "The period after the initial one must exist.");
        }

        _parameters = parameters;
        _seed = seed;
        Suite = suite ?? PrimeOrderGroup.Ristretto255;
        CaptureEnvelopes = captureEnvelopes;
        Span<byte> network = stackalloc byte[NetworkId.Length];
        SimulationSeed.Source(seed, "envelope network").Fill(network);
        Network = NetworkId.FromBytes(network);
        CurrentPeriod = initialPeriod;

        _openers = new EnvelopeOpener[parameters.ServerCount];
        for (var i = 0; i < _openers.Length; i++)
        {
            var self = i + 1;
            _openers[i] = new EnvelopeOpener(self, period => OwnKeys(self, period), Directory, Network, Suite, new ReplayGuard());
        }

        var first = initialPeriod == 0 ? 0 : initialPeriod - EnvelopeOpener.AllowedPeriodLag;
        for (var period = first; period <= initialPeriod + EnvelopeOpener.AllowedPeriodLead; period++)
        {
            GenerateKeys(period);
        }
    }

    /// <summary>A codec factory for <see cref="SimulationOptions.CodecFactory"/> (which hands over only the parameters).</summary>
    public static Func<ClusterParameters, IWireCodec> Factory(ulong seed, ulong initialPeriod = 0, bool captureEnvelopes = false) =>
        parameters => new EnvelopeWireCodec(parameters, seed, initialPeriod, captureEnvelopes: captureEnvelopes);

    /// <summary>The period every server is in: openers accept envelopes of this period and its neighbours.</summary>
    public ulong CurrentPeriod { get; private set; }

    /// <summary>Every server's public keys by period (K_i of toolkit Table 1).</summary>
    public PeriodKeyDirectory Directory { get; } = new();

    /// <summary>The network id every envelope carries (derived from the seed).</summary>
    public NetworkId Network { get; }

    /// <summary>The suite byte every envelope carries.</summary>
    public PrimeOrderGroup Suite { get; }

    /// <summary>Whether sealed envelopes are kept in <see cref="Captured"/>.</summary>
    public bool CaptureEnvelopes { get; }

    /// <summary>
    /// Every envelope sealed so far, in order, when <see cref="CaptureEnvelopes"/> is set: what an
    /// adversary who watches the network holds, to replay with <see cref="ByzantineContext.SendRaw"/>.
    /// </summary>
    public IReadOnlyList<CapturedEnvelope> Captured => _captured;

    /// <summary>
    /// Moves every server to <paramref name="period"/>: makes and registers keys up to
    /// <paramref name="period"/> + 1, and erases keys (and directory entries) of periods before
    /// <paramref name="period"/> - 1, which the openers refuse from now on as stale.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not after <see cref="CurrentPeriod"/>, or is the last period.</exception>
    public void AdvancePeriod(ulong period)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, CurrentPeriod);
        ArgumentOutOfRangeException.ThrowIfEqual(period, ulong.MaxValue);
        var oldest = period - EnvelopeOpener.AllowedPeriodLag;
        var first = Math.Max(oldest, CurrentPeriod + EnvelopeOpener.AllowedPeriodLead + 1);
        for (var p = first; p <= period + EnvelopeOpener.AllowedPeriodLead; p++)
        {
            GenerateKeys(p);
        }

        foreach (var slot in _keys.Keys.Where(s => s.Period < oldest).ToList())
        {
            _sealers.Remove(slot);
            _keys.Remove(slot, out var keys);
            keys!.Dispose();
        }

        Directory.RemovePeriodsBefore(oldest);
        CurrentPeriod = period;
    }

    /// <summary>
    /// The sealer of the Byzantine server <paramref name="context"/> speaks for, in
    /// <paramref name="period"/> (the current one by default): it signs any header the strategy likes,
    /// but always as that server. There is no way to get another server's sealer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The server has no keys in that period (outside the window).</exception>
    public EnvelopeSealer SealerFor(ByzantineContext context, ulong? period = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Sealer(context.Server, period ?? CurrentPeriod);
    }

    public IReadOnlyList<WirePacket> Encode(int sender, InstanceId instance, OutboundMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        CheckServer(sender, nameof(sender));
        if (message.Recipient is { } recipient)
        {
            CheckServer(recipient, nameof(message));
        }
        else if (message.Confidential)
        {
            throw new ArgumentException("A confidential message must name its one recipient.", nameof(message));
        }

        // Seal throws InvalidOperationException only when a recipient has no HPKE key, which cannot
        // happen here: every server has keys for every period the sealer can sign in.
        var envelope = Sealer(sender, instance.Period).Seal(instance, message);
        if (CaptureEnvelopes)
        {
            _captured.Add(new CapturedEnvelope(sender, message.Recipient ?? EnvelopeHeader.Broadcast, instance, envelope));
        }

        if (message.Recipient is { } one)
        {
            return [new WirePacket(one, envelope)];
        }

        // One signed broadcast envelope, the same bytes to every server (the sender included).
        var packets = new WirePacket[_parameters.ServerCount];
        for (var i = 0; i < packets.Length; i++)
        {
            packets[i] = new WirePacket(i + 1, envelope);
        }

        return packets;
    }

    public bool TryDecode(int recipient, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection)
    {
        message = null;
        if (!IsServer(recipient) || _disposed)
        {
            rejection = "envelope:NoOpener";
            return false;
        }

        var result = _openers[recipient - 1].Open(bytes.Span, CurrentPeriod);
        if (!result.IsAccepted)
        {
            rejection = result.Failure.IsFailure
                ? $"envelope:{result.Rejection} ({result.Failure})"
                : $"envelope:{result.Rejection}";
            return false;
        }

        message = new DecodedMessage(result.Instance, result.Message!);
        rejection = null;
        return true;
    }

    /// <summary>Erases every key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sealers.Clear();
        foreach (var keys in _keys.Values)
        {
            keys.Dispose();
        }

        _keys.Clear();
    }

    private EnvelopeSealer Sealer(int server, ulong period)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckServer(server, nameof(server));
        if (!_sealers.TryGetValue((server, period), out var sealer))
        {
            throw new ArgumentOutOfRangeException(
                nameof(period),
                period,
                $"Server {server} has no keys for period {period}; the codec holds periods {WindowStart}..{CurrentPeriod + EnvelopeOpener.AllowedPeriodLead} (current {CurrentPeriod}). Advance the codec's period first.");
        }

        return sealer;
    }

    private ulong WindowStart => CurrentPeriod < EnvelopeOpener.AllowedPeriodLag ? 0 : CurrentPeriod - EnvelopeOpener.AllowedPeriodLag;

    private void GenerateKeys(ulong period)
    {
        foreach (var server in _parameters.Servers)
        {
            if (_keys.ContainsKey((server, period)))
            {
                continue;
            }

            var keys = PeriodKeys.Generate(server, period, SimulationSeed.Source(_seed, $"envelope keys server {server} period {period}"));
            _keys.Add((server, period), keys);
            if (!Directory.TryAdd(keys.PublicKeys))
            {
                throw new InvalidOperationException($"The directory already holds other keys for server {server} in period {period}.");
            }

            var hpkeRandom = SimulationSeed.Source(_seed, $"envelope hpke server {server} period {period}");
            _sealers.Add((server, period), new EnvelopeSealer(server, keys, Directory, Network, Suite, hpkeRandom));
        }
    }

    private PeriodKeys? OwnKeys(int server, ulong period) => _keys.GetValueOrDefault((server, period));

    private bool IsServer(int id) => id >= 1 && id <= _parameters.ServerCount;

    private void CheckServer(int id, string name)
    {
        if (!IsServer(id))
        {
            throw new ArgumentOutOfRangeException(name, id, $"Server ids are 1..{_parameters.ServerCount}.");
        }
    }
}

/// <summary>
/// A sealed envelope as it left its sender: <see cref="Recipient"/> 0 for a broadcast. The bytes are
/// the signed envelope, to be replayed verbatim.
/// </summary>
public sealed record CapturedEnvelope(int Sender, int Recipient, InstanceId Instance, byte[] Bytes);

// References: docs/BRIEF.md section 3 ("Messages are signed by the sender's current period key;
// private payloads are HPKE-encrypted to the recipient's current period key"; the simulator runs the
// same code as the node, so every message goes through the envelope layer); toolkit paper (seed 001)
// Table 1 (a new key pair per server and period); Proactive.Protocols.Envelopes.Envelope (format and
// guarantees), EnvelopeOpener (period window, replay guard).

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
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
/// <para><b>Keys.</b> Either the codec makes them (the first constructor: each server's
/// <see cref="PeriodKeys"/> for period p from a seeded stream of (simulation seed, server, p), one
/// directory every server shares, kept for [<see cref="CurrentPeriod"/> - 1,
/// <see cref="CurrentPeriod"/> + 1] by <see cref="AdvancePeriod"/>, which also erases keys that fell
/// out of the window), or an <see cref="IEnvelopeKeySource"/> supplies them (the second constructor:
/// in <c>ProactiveScenario</c>, each server's controller, so the key that signs a server's envelopes
/// is the one it votes with and announces in the KeyTable, and each server verifies with its own
/// directory of installed keys). Each sealer's HPKE randomness comes from a stream of (seed, server,
/// p): the same seed gives the same ciphertexts and the same trace.</para>
/// <para><b>Period window.</b> Openers accept envelopes of [<see cref="CurrentPeriod"/> - 1,
/// <see cref="CurrentPeriod"/> + 1] and refuse older ones as <c>envelope:StalePeriod</c>;
/// <see cref="AdvancePeriod"/> moves every server at once, as the simulator's scenario does.</para>
/// <para><b>Restarts.</b> A server's opener is tied to the directory object the key source returns
/// for it: when that changes (a restarted server's restored controller), the opener is rebuilt with
/// an empty replay guard, as a rebooted process starts with an empty memory.</para>
/// <para><b>What changes against <see cref="PlainWireCodec"/></b>: identical signed bytes are accepted
/// once per recipient (Ed25519 is deterministic, so a broadcast sent twice with the same attempt, or a
/// packet the network duplicates, is refused as <c>envelope:Replay</c>); a machine that retransmits must
/// change the attempt. A confidential retransmission has fresh HPKE randomness, hence new bytes.</para>
/// <para><b>Replays and blame.</b> A replay (bytes the recipient already accepted) is authenticated,
/// but only as to who signed: anyone who saw the envelope can put it on the wire again. So the
/// <see cref="AlertType.Replay"/> alert of <see cref="IWireCodec.TryDecode(int, int, ReadOnlyMemory{byte}, out DecodedMessage?, out string?, out Alert?)"/>
/// names the link-level sender that delivered the copy (the transport's peer; the simulator's
/// from-id), never the envelope's signer.</para>
/// <para><b>Adversary.</b> <see cref="ByzantineContext.Send"/> seals as the Byzantine server itself;
/// <see cref="SealerFor"/> gives a strategy its own server's sealer (any header it likes, signed as
/// itself, never as another); <see cref="ByzantineContext.SendRaw"/> with bytes from
/// <see cref="Captured"/> replays an envelope verbatim.</para>
/// <para>Security: seeded keys and HPKE randomness are predictable from the seed; this class exists
/// only for simulation. Not thread-safe, like the simulator that owns it.</para>
/// </remarks>
public sealed class EnvelopeWireCodec : IWireCodec, IDisposable
{
    private readonly ClusterParameters _parameters;
    private readonly ulong _seed;
    private readonly IEnvelopeKeySource _keys;
    private readonly SeededEnvelopeKeys? _seededKeys;
    private readonly Dictionary<(int Server, ulong Period), CachedSealer> _sealers = [];
    private readonly Dictionary<(int Server, ulong Period), IRandomSource> _hpkeRandom = [];
    private readonly CachedOpener?[] _openers;
    private readonly List<CapturedEnvelope> _captured = [];
    private bool _disposed;

    /// <summary>A codec that makes every server's keys itself, for periods up to <paramref name="initialPeriod"/> + 1.</summary>
    /// <param name="parameters">The cluster; its servers get keys.</param>
    /// <param name="seed">The simulation seed, from which keys, HPKE randomness and the network id are derived.</param>
    /// <param name="initialPeriod">The period the run starts in.</param>
    /// <param name="suite">The network's group (the suite byte of every envelope); Ristretto255 by default.</param>
    /// <param name="captureEnvelopes">Keep every sealed envelope in <see cref="Captured"/>, for replay scenarios.</param>
    public EnvelopeWireCodec(ClusterParameters parameters, ulong seed, ulong initialPeriod = 0, PrimeOrderGroup? suite = null, bool captureEnvelopes = false)
        : this(parameters, seed, NetworkFromSeed(seed), suite ?? PrimeOrderGroup.Ristretto255, new SeededEnvelopeKeys(parameters, seed, initialPeriod), initialPeriod, captureEnvelopes)
    {
        _seededKeys = (SeededEnvelopeKeys)_keys;
    }

    /// <summary>A codec whose servers sign, decrypt and verify with the keys <paramref name="keys"/> holds for them.</summary>
    /// <param name="parameters">The cluster.</param>
    /// <param name="seed">The simulation seed, from which the HPKE randomness is derived.</param>
    /// <param name="network">The network id every envelope carries.</param>
    /// <param name="suite">The network's group (the suite byte of every envelope).</param>
    /// <param name="keys">Each server's own keys and directory (not owned: the source erases its keys).</param>
    /// <param name="initialPeriod">The period the run starts in.</param>
    /// <param name="captureEnvelopes">Keep sealed envelopes in <see cref="Captured"/>, for replay scenarios.</param>
    public EnvelopeWireCodec(ClusterParameters parameters, ulong seed, NetworkId network, PrimeOrderGroup suite, IEnvelopeKeySource keys, ulong initialPeriod = 0, bool captureEnvelopes = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parameters.ServerCount, ushort.MaxValue, nameof(parameters));
        if (initialPeriod == ulong.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(initialPeriod), "The period after the initial one must exist.");
        }

        _parameters = parameters;
        _seed = seed;
        _keys = keys;
        Suite = suite;
        Network = network;
        CaptureEnvelopes = captureEnvelopes;
        CurrentPeriod = initialPeriod;
        _openers = new CachedOpener?[parameters.ServerCount];
    }

    /// <summary>A codec factory for <see cref="SimulationOptions.CodecFactory"/> (which hands over only the parameters); the codec makes its own keys.</summary>
    public static Func<ClusterParameters, IWireCodec> Factory(ulong seed, ulong initialPeriod = 0, bool captureEnvelopes = false) =>
        parameters => new EnvelopeWireCodec(parameters, seed, initialPeriod, captureEnvelopes: captureEnvelopes);

    /// <summary>The period every server is in: openers accept envelopes of this period and its neighbours.</summary>
    public ulong CurrentPeriod { get; private set; }

    /// <summary>The network id every envelope carries.</summary>
    public NetworkId Network { get; }

    /// <summary>The suite byte every envelope carries.</summary>
    public PrimeOrderGroup Suite { get; }

    /// <summary>Whether sealed envelopes are kept in <see cref="Captured"/>.</summary>
    public bool CaptureEnvelopes { get; }

    /// <summary>
    /// Sealed envelopes, in order, when <see cref="CaptureEnvelopes"/> is set (all of them, unless
    /// <see cref="ForgetCapturedBefore"/> dropped old periods): what an adversary who watches the
    /// network holds, to replay with <see cref="ByzantineContext.SendRaw"/>.
    /// </summary>
    public IReadOnlyList<CapturedEnvelope> Captured => _captured;

    /// <summary>The public keys <paramref name="server"/> verifies with and encrypts to (with seeded keys, one directory for everyone).</summary>
    public PeriodKeyDirectory DirectoryOf(int server)
    {
        CheckServer(server, nameof(server));
        return _keys.DirectoryOf(server);
    }

    /// <summary>
    /// Moves every server to <paramref name="period"/>: openers refuse periods before
    /// <paramref name="period"/> - 1 from now on as stale. With seeded keys, also makes and registers
    /// keys up to <paramref name="period"/> + 1 and erases keys (and directory entries) of periods
    /// before <paramref name="period"/> - 1; a key source erases its own.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is not after <see cref="CurrentPeriod"/>, or is the last period.</exception>
    public void AdvancePeriod(ulong period)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, CurrentPeriod);
        ArgumentOutOfRangeException.ThrowIfEqual(period, ulong.MaxValue);
        var oldest = period - EnvelopeOpener.AllowedPeriodLag;
        _seededKeys?.Advance(CurrentPeriod, period);
        foreach (var slot in _sealers.Keys.Where(s => s.Period < oldest).ToList())
        {
            _sealers.Remove(slot);
        }

        foreach (var slot in _hpkeRandom.Keys.Where(s => s.Period < oldest).ToList())
        {
            _hpkeRandom.Remove(slot);
        }

        CurrentPeriod = period;
    }

    /// <summary>Drops captured envelopes of periods before <paramref name="period"/> (a long run keeps only what its replay strategies may use).</summary>
    public void ForgetCapturedBefore(ulong period) => _captured.RemoveAll(c => c.Instance.Period < period);

    /// <summary>
    /// The sealer of the Byzantine server <paramref name="context"/> speaks for, in
    /// <paramref name="period"/> (the current one by default): it signs any header the strategy likes,
    /// but always as that server. There is no way to get another server's sealer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The server has no keys in that period.</exception>
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

    public bool TryDecode(int recipient, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection) =>
        TryOpen(recipient, bytes, out message, out rejection, out _);

    /// <summary>
    /// As <see cref="TryDecode(int, ReadOnlyMemory{byte}, out DecodedMessage?, out string?)"/>; a
    /// refused replay comes with the <see cref="AlertType.Replay"/> alert the recipient raises against
    /// <paramref name="linkSender"/>, who delivered the copy (the envelope's signer may be honest: any
    /// server that saw the envelope can replay it).
    /// </summary>
    public bool TryDecode(int recipient, int linkSender, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection, out Alert? alert)
    {
        alert = null;
        if (TryOpen(recipient, bytes, out message, out rejection, out var refused))
        {
            return true;
        }

        if (refused is { Rejection: EnvelopeRejection.Replay, Header: { } header } && IsServer(linkSender) && linkSender != recipient)
        {
            alert = new Alert(
                AlertType.Replay,
                linkSender,
                CurrentPeriod,
                header.Instance,
                $"server {linkSender} delivered again an envelope of server {header.Sender} for {header.Instance} that server {recipient} had accepted",
                bytes.ToArray());
        }

        return false;
    }

    /// <summary>Erases every key the codec made (a key source's keys are its own).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sealers.Clear();
        _seededKeys?.Dispose();
    }

    private static NetworkId NetworkFromSeed(ulong seed)
    {
        Span<byte> network = stackalloc byte[NetworkId.Length];
        SimulationSeed.Source(seed, "envelope network").Fill(network);
        return NetworkId.FromBytes(network);
    }

    private bool TryOpen(int recipient, ReadOnlyMemory<byte> bytes, [NotNullWhen(true)] out DecodedMessage? message, [NotNullWhen(false)] out string? rejection, out EnvelopeOpenResult? refused)
    {
        message = null;
        refused = null;
        if (!IsServer(recipient) || _disposed)
        {
            rejection = "envelope:NoOpener";
            return false;
        }

        var result = OpenerOf(recipient).Open(bytes.Span, CurrentPeriod);
        if (!result.IsAccepted)
        {
            refused = result;
            rejection = result.Failure.IsFailure
                ? $"envelope:{result.Rejection} ({result.Failure})"
                : $"envelope:{result.Rejection}";
            return false;
        }

        message = new DecodedMessage(result.Instance, result.Message!);
        rejection = null;
        return true;
    }

    /// <summary>The server's opener, rebuilt (empty replay guard) when its directory is a new one: a restarted server.</summary>
    private EnvelopeOpener OpenerOf(int server)
    {
        var directory = _keys.DirectoryOf(server);
        if (_openers[server - 1] is { } cached && ReferenceEquals(cached.Directory, directory))
        {
            return cached.Opener;
        }

        var opener = new EnvelopeOpener(server, period => _keys.OwnKeys(server, period), directory, Network, Suite, new ReplayGuard());
        _openers[server - 1] = new CachedOpener(directory, opener);
        return opener;
    }

    private EnvelopeSealer Sealer(int server, ulong period)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckServer(server, nameof(server));
        var keys = _keys.OwnKeys(server, period);
        if (keys is null)
        {
            throw new ArgumentOutOfRangeException(
                nameof(period),
                period,
                $"Server {server} has no keys for period {period} (current period {CurrentPeriod}): advance the codec's period, or install the server's keys, first.");
        }

        var directory = _keys.DirectoryOf(server);
        if (_sealers.TryGetValue((server, period), out var cached) && ReferenceEquals(cached.Keys, keys) && ReferenceEquals(cached.Directory, directory))
        {
            return cached.Sealer;
        }

        if (!_hpkeRandom.TryGetValue((server, period), out var random))
        {
            random = SimulationSeed.Source(_seed, $"envelope hpke server {server} period {period}");
            _hpkeRandom.Add((server, period), random);
        }

        var sealer = new EnvelopeSealer(server, keys, directory, Network, Suite, random);
        _sealers[(server, period)] = new CachedSealer(keys, directory, sealer);
        return sealer;
    }

    private bool IsServer(int id) => id >= 1 && id <= _parameters.ServerCount;

    private void CheckServer(int id, string name)
    {
        if (!IsServer(id))
        {
            throw new ArgumentOutOfRangeException(name, id, $"Server ids are 1..{_parameters.ServerCount}.");
        }
    }

    private sealed record CachedSealer(PeriodKeys Keys, PeriodKeyDirectory Directory, EnvelopeSealer Sealer);

    private sealed record CachedOpener(PeriodKeyDirectory Directory, EnvelopeOpener Opener);
}

/// <summary>
/// Where an <see cref="EnvelopeWireCodec"/> finds a server's keys: its own <see cref="PeriodKeys"/>
/// (to sign and to open what is encrypted to it) and the directory of public keys it has installed
/// (to verify and to encrypt to). The source owns both; the codec reads them on every use, so keys
/// the source installs or erases take effect at once.
/// </summary>
public interface IEnvelopeKeySource
{
    /// <summary>The server's keys of <paramref name="period"/>, or null when it holds none (not installed yet, or erased).</summary>
    PeriodKeys? OwnKeys(int server, ulong period);

    /// <summary>The public keys the server knows, by period.</summary>
    PeriodKeyDirectory DirectoryOf(int server);
}

/// <summary>
/// Keys the codec makes for itself: each server's <see cref="PeriodKeys"/> of period p from a seeded
/// stream of (seed, server, p), kept for the opener's window, and one directory every server shares
/// (a directory every server already agrees on, without the KeyTable protocol).
/// </summary>
internal sealed class SeededEnvelopeKeys : IEnvelopeKeySource, IDisposable
{
    private readonly ClusterParameters _parameters;
    private readonly ulong _seed;
    private readonly Dictionary<(int Server, ulong Period), PeriodKeys> _keys = [];
    private readonly PeriodKeyDirectory _directory = new();

    public SeededEnvelopeKeys(ClusterParameters parameters, ulong seed, ulong initialPeriod)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (initialPeriod == ulong.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(initialPeriod), "The period after the initial one must exist.");
        }

        _parameters = parameters;
        _seed = seed;
        var first = initialPeriod == 0 ? 0 : initialPeriod - EnvelopeOpener.AllowedPeriodLag;
        for (var period = first; period <= initialPeriod + EnvelopeOpener.AllowedPeriodLead; period++)
        {
            Generate(period);
        }
    }

    public PeriodKeys? OwnKeys(int server, ulong period) => _keys.GetValueOrDefault((server, period));

    public PeriodKeyDirectory DirectoryOf(int server) => _directory;

    /// <summary>Keys up to <paramref name="period"/> + 1; keys and directory entries before <paramref name="period"/> - 1 erased.</summary>
    public void Advance(ulong current, ulong period)
    {
        var oldest = period - EnvelopeOpener.AllowedPeriodLag;
        var first = Math.Max(oldest, current + EnvelopeOpener.AllowedPeriodLead + 1);
        for (var p = first; p <= period + EnvelopeOpener.AllowedPeriodLead; p++)
        {
            Generate(p);
        }

        foreach (var slot in _keys.Keys.Where(s => s.Period < oldest).ToList())
        {
            _keys.Remove(slot, out var keys);
            keys!.Dispose();
        }

        _directory.RemovePeriodsBefore(oldest);
    }

    public void Dispose()
    {
        foreach (var keys in _keys.Values)
        {
            keys.Dispose();
        }

        _keys.Clear();
    }

    private void Generate(ulong period)
    {
        foreach (var server in _parameters.Servers)
        {
            if (_keys.ContainsKey((server, period)))
            {
                continue;
            }

            var keys = PeriodKeys.Generate(server, period, SimulationSeed.Source(_seed, $"envelope keys server {server} period {period}"));
            _keys.Add((server, period), keys);
            if (!_directory.TryAdd(keys.PublicKeys))
            {
                throw new InvalidOperationException($"The directory already holds other keys for server {server} in period {period}.");
            }
        }
    }
}

/// <summary>
/// A sealed envelope as it left its sender: <see cref="Recipient"/> 0 for a broadcast. The bytes are
/// the signed envelope, to be replayed verbatim.
/// </summary>
public sealed record CapturedEnvelope(int Sender, int Recipient, InstanceId Instance, byte[] Bytes);

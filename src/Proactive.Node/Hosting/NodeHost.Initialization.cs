// References: toolkit (seed 001) Table 3 (initialization) and Table 2 (Vcert-recover); patent (seed 000)
// figures 3-4, claims 9-10; docs/BRIEF.md section 3 "Initialization"; docs/NODE.md "Initialization".
using System.Buffers.Binary;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Signing;
using Proactive.Node.Storage;
using Proactive.Node.Transport;
using Proactive.Protocols.Bootstrap;
using Proactive.Protocols.Controller;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;

namespace Proactive.Node.Hosting;

/// <summary>Where a server is in its life.</summary>
public enum NodePhase
{
    /// <summary>Table 3 is running: it holds its start key and no [S_cert(M), M] yet.</summary>
    Initializing,

    /// <summary>It holds a copy of [S_cert(M), M] that verifies with its ROM's V_start.</summary>
    Operational,

    /// <summary>It holds neither a start key nor a valid copy: it must adopt one from a peer (Table 2).</summary>
    Recovering,
}

public sealed partial class NodeHost
{
    /// <summary>Initialization's first exchange: every server's period-0 keys and TLS fingerprint, signed with its start key.</summary>
    public static readonly InstanceId InitialKeysExchange = new(ProtocolKind.Bootstrap, 0, 0);

    /// <summary>Initialization's second exchange: the statements M_i = Sign_Sstart(V_cert, C).</summary>
    public static readonly InstanceId StatementsExchange = new(ProtocolKind.Bootstrap, 0, 2);

    private const byte InitialKeysVersion = 1;

    /// <summary>How far a proposed schedule anchor may be from this server's clock (servers start initialization together).</summary>
    private static readonly TimeSpan MaxAnchorSkew = TimeSpan.FromHours(1);
    private const int InitialKeysBodyLength = 1 + KeyTableEntry.EncodedLength + 8;
    private static readonly byte[] InitialKeysLabel = "proactive-initial-keys-v1"u8.ToArray();

    private readonly Dictionary<InstanceId, IProtocolMachine> _bootstrapMachines = [];
    private readonly Dictionary<InstanceId, List<InboundMessage>> _bootstrapBuffer = [];
    private NodePhase _phase;
    private Ed25519PrivateKey? _startKey;
    private int _localDirectoryVersion;
    private byte[]? _constants;
    private DateTimeOffset? _anchor;
    private long _proposedAnchorMs;
    private bool _dataImported;
    private InvariantInformation? _information;
    private DateTimeOffset? _initializationStartedAt;

    /// <summary>Where this server is (initializing, operational, recovering).</summary>
    public NodePhase Phase => _phase;

    /// <summary>How long initialization took here, once it completed in this process.</summary>
    public TimeSpan? InitializationDuration { get; private set; }

    /// <summary>Decides the phase from what the store holds and starts what the phase needs.</summary>
    private void PrepareStart(IReadOnlyDictionary<string, byte[]> entries)
    {
        if (entries.TryGetValue(VcertRecoverMachine.StorageKey, out var stored)
            && InvariantCertificate.TryDecode(stored, _config.Suite, out var certificate)
            && certificate.VerifyFor(Self, Store.Rom.StartPublicKey)
            && TryReadConstants(certificate.Information.Constants, out var anchor))
        {
            _information = certificate.Information;
            _constants = certificate.Information.Constants.ToArray();
            _anchor = anchor;
            _phase = NodePhase.Operational;
            _pinning.Pin(0, LoadPeerEntries(entries, 0));
            if (Controller.CommittedPeriod is >= 1 and var committed)
            {
                UpdateProvider(committed);
            }

            // The controller restores the public state; the shares are read and checked against it here.
            if (Controller.CommittedPeriod is { } last && Controller.PublicState is not null
                && Store.TryGet(DataSpace.Private, ServerController.SharesKey, out var shares))
            {
                Controller.CheckStoredShares(Context, shares, last, out var check);
                Apply(check);
            }

            StartVcertPush(Controller.CurrentPeriod);
            if (Controller.CommittedPeriod is not null && MustRejoin)
            {
                Rejoin(Controller.PublicState is null ? "its stored public state is missing or corrupted" : "its stored shares are missing or corrupted");
            }

            return;
        }

        _startKey = Store.LoadStartKey();
        if (_startKey is null)
        {
            // No start key and no valid copy of M: the store was lost or corrupted after initialization.
            _phase = NodePhase.Recovering;
            NodeLog.Recovering(_logger, Self);
            StartRecovering();
            return;
        }

        _phase = NodePhase.Initializing;
        _initializationStartedAt = DateTimeOffset.UtcNow;
        var own = Controller.PeriodKeysOf(0) ?? CreatePeriodKeys(0);
        _proposedAnchorMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var item = InitialKeysItem(own.PublicKeys, _certificates!.FingerprintOf(0)!, _proposedAnchorMs);
        StartBootstrap(new ExchangeMachine(InitialKeysExchange, _config.Parameters, Self, item, IsValidInitialKeys, _options.ExchangeRetryInterval));
    }

    /// <summary>
    /// Makes, persists (before anything announces them) and installs this server's keys and TLS
    /// certificate of <paramref name="period"/>.
    /// </summary>
    private PeriodKeys CreatePeriodKeys(ulong period)
    {
        var keys = PeriodKeys.Generate(Self, period, _random);
        var tls = PeerCertificate.Create(Self, period, DateTimeOffset.UtcNow);
        var ownKeys = NodeKeyCodec.EncodeOwnKeys(keys);
        var ownTls = NodeKeyCodec.EncodeTls(tls);
        try
        {
            Store.ApplyPersisted([
                new PersistRequest(NodeKeySpace.OwnPeriodKeys(period), ownKeys),
                new PersistRequest(NodeKeySpace.OwnTlsCertificate(period), ownTls),
            ]);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(ownKeys);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(ownTls);
        }
        _certificates!.Install(tls);
        Controller.InstallPeriodKeys(keys, [keys.PublicKeys]);
        if (_certificates.CurrentPeriod is null)
        {
            _certificates.SwitchTo(period);
        }

        return keys;
    }

    /// <summary>After a restart: own keys and TLS certificates of the periods still held, and the peers' keys this server had learned.</summary>
    private void RestoreKeys(IReadOnlyDictionary<string, byte[]> entries)
    {
        var periods = entries.Keys
            .Where(k => k.StartsWith(NodeKeySpace.OwnPeriodKeys(0)[..^1], StringComparison.Ordinal))
            .Select(k => ulong.TryParse(k.AsSpan(NodeKeySpace.OwnPeriodKeys(0).Length - 1), out var p) ? p : (ulong?)null)
            .OfType<ulong>().Order().ToList();
        foreach (var period in periods)
        {
            if (NodeKeyCodec.TryDecodeOwnKeys(entries[NodeKeySpace.OwnPeriodKeys(period)], Self, period, out var keys))
            {
                var everyone = LoadPeerEntries(entries, period).Select(e => e.Keys).Append(keys.PublicKeys).ToList();
                Controller.InstallPeriodKeys(keys, everyone);
            }
            else
            {
                NodeLog.BadStoredKeys(_logger, Self, period);
            }

            if (entries.TryGetValue(NodeKeySpace.OwnTlsCertificate(period), out var tls) && NodeKeyCodec.TryDecodeTls(tls, period, out var certificate))
            {
                _certificates!.Install(certificate);
            }

            var known = LoadPeerEntries(entries, period);
            if (known.Count > 0)
            {
                _pinning.Pin(period, known);
            }
        }

        var held = _certificates!.HeldPeriods;
        if (held.Count > 0)
        {
            // The latest certificate the peers know (its KeyTable was decided), else the latest held.
            var decided = held.Where(p => entries.ContainsKey(NodeKeySpace.PeerKeys(p))).ToList();
            _certificates.SwitchTo(decided.Count > 0 ? decided[^1] : held[^1]);
        }
    }

    private static List<KeyTableEntry> LoadPeerEntries(IReadOnlyDictionary<string, byte[]> entries, ulong period)
    {
        var list = new List<KeyTableEntry>();
        if (!entries.TryGetValue(NodeKeySpace.PeerKeys(period), out var bytes) || bytes.Length % KeyTableEntry.EncodedLength != 0)
        {
            return list;
        }

        for (var offset = 0; offset < bytes.Length; offset += KeyTableEntry.EncodedLength)
        {
            if (KeyTableEntry.TryDecode(bytes.AsSpan(offset, KeyTableEntry.EncodedLength), out var entry) && entry.Period == period)
            {
                list.Add(entry);
            }
        }

        return list;
    }

    private static byte[] EncodePeerEntries(IEnumerable<KeyTableEntry> entries) => [.. entries.SelectMany(e => e.Encode())];

    // ---- Bootstrap machines ------------------------------------------------------------------

    private void StartBootstrap(ExchangeMachine machine)
    {
        _bootstrapMachines[machine.Instance] = machine;
        RunBootstrap(machine, machine.Start);
        if (_bootstrapBuffer.Remove(machine.Instance, out var early))
        {
            foreach (var message in early)
            {
                RunBootstrap(machine, (c, o) => machine.Receive(c, message, o));
            }
        }
    }

    private void RunBootstrap(IProtocolMachine machine, Action<ProtocolContext, Outbox> action)
    {
        var outbox = new Outbox();
        action(Context, outbox);
        Store.ApplyPersisted(outbox.Persisted);
        Emit(machine.Instance, outbox);
    }

    private void RouteBootstrap(InstanceId instance, InboundMessage message)
    {
        if (RouteRecovery(instance, message))
        {
            return;
        }

        if (_bootstrapMachines.TryGetValue(instance, out var machine))
        {
            RunBootstrap(machine, (c, o) => machine.Receive(c, message, o));
            return;
        }

        // An exchange item that arrived before this server started the exchange (bounded per instance).
        if (instance.Period == 0 && (instance == InitialKeysExchange || instance == StatementsExchange))
        {
            var buffer = _bootstrapBuffer.TryGetValue(instance, out var list) ? list : _bootstrapBuffer[instance] = [];
            if (buffer.Count < 4 * _config.Parameters.ServerCount)
            {
                buffer.Add(message);
            }

            return;
        }

        _counters.Count("bootstrap message for no instance");
        Metrics.MessageDropped(instance.Protocol, "bootstrap message for no instance");
    }

    /// <summary>Events of initialization: an exchange completed, M got certified.</summary>
    private void OnInitializationEvent(ProtocolEvent emitted)
    {
        switch (emitted)
        {
            case ExchangeCompleted completed when completed.Instance == InitialKeysExchange:
                OnInitialKeysExchanged(completed.Items);
                break;
            case ExchangeCompleted completed when completed.Instance == StatementsExchange:
                OnStatementsExchanged(completed.Items);
                break;
            case PeriodCertified certified when certified.Period == 0 && _phase == NodePhase.Initializing:
                OnInvariantCertified();
                break;
        }
    }

    private void OnInitialKeysExchanged(IReadOnlyList<byte[]> items)
    {
        var entries = new List<KeyTableEntry>();
        long anchorMs = 0;
        foreach (var item in items)
        {
            // Every item was validated by IsValidInitialKeys before the exchange kept it.
            TryReadInitialKeys(item, out var entry, out var proposed, out _);
            entries.Add(entry!);
            anchorMs = Math.Max(anchorMs, proposed);
        }

        foreach (var entry in entries.Where(e => e.ServerId != Self))
        {
            Controller.KeyDirectory.TryAdd(entry.Keys);
        }

        _localDirectoryVersion++;
        _pinning.Pin(0, entries.Where(e => e.ServerId != Self));
        // Period 1 starts one period length after the latest server was ready (unless C fixes the genesis).
        var anchor = _config.Genesis ?? DateTimeOffset.FromUnixTimeMilliseconds(anchorMs);
        _anchor = anchor;
        _constants = EncodeConstants(anchor);
        Store.ApplyPersisted([
            new PersistRequest(NodeKeySpace.PeerKeys(0), EncodePeerEntries(entries.Where(e => e.ServerId != Self))),
            new PersistRequest(NodeKeySpace.Constants, _constants),
        ]);
        NodeLog.InitialKeysExchanged(_logger, Self, entries.Count);
        if (Controller.NetworkKey is null)
        {
            Apply(Controller.StartDkg(Context, ServerController.NetworkKeyDkg));
        }

        if (Controller.DprfKey is null)
        {
            Apply(Controller.StartDkg(Context, ServerController.DprfKeyDkg));
        }
    }

    /// <summary>Tick during initialization: once both DKGs completed, commit the initial shares and exchange the statements.</summary>
    private void AdvanceInitialization()
    {
        if (_dataImported || Controller.NetworkKey is null || Controller.DprfKey is null || _startKey is null || _constants is null)
        {
            return;
        }

        _dataImported = true;
        if (Controller.CommittedPeriod is null)
        {
            Apply(Controller.ImportDataShares(Context, []));
        }

        var networkKey = new GroupPublicKey(_config.Suite, Controller.NetworkKey.GroupPublicKey);
        var statement = InvariantInformation.SignStatement(_startKey, _config.NetworkId, Self, networkKey, _constants);
        NodeLog.DkgsDone(_logger, Self, new NetworkKeyText(_config.Suite.Group.EncodeElement(networkKey.Element)));
        StartBootstrap(new ExchangeMachine(StatementsExchange, _config.Parameters, Self, statement, IsValidStatement, _options.ExchangeRetryInterval));
    }

    private void OnStatementsExchanged(IReadOnlyList<byte[]> statements)
    {
        var networkKey = new GroupPublicKey(_config.Suite, Controller.NetworkKey!.GroupPublicKey);
        _information = InvariantInformation.Create(_config.NetworkId, networkKey, _constants!, statements);
        NodeLog.SigningM(_logger, Self);
        Apply(Controller.CertifyInitialization(Context, _information.Encode()));
    }

    /// <summary>S_cert(M) exists: keep [S_cert(M), M], erase S_start (Table 3), become operational.</summary>
    private void OnInvariantCertified()
    {
        if (Controller.CertificateOf(0) is not { } root || _information is null)
        {
            return;
        }

        var certificate = new InvariantCertificate(_information, root.PublicStateHash, root.Signature);
        if (!certificate.VerifyFor(Self, Store.Rom.StartPublicKey))
        {
            RaiseAlert(new Alert(AlertType.InvalidSignature, 0, 0, InitialKeysExchange, "the threshold signature on M does not verify: initialization failed", certificate.Encode()));
            return;
        }

        Store.ApplyPersisted([new PersistRequest(VcertRecoverMachine.StorageKey, certificate.Encode())]);
        _startKey?.Dispose();
        _startKey = null;
        var erased = Store.EraseStartKey();
        foreach (var exchange in new[] { InitialKeysExchange, StatementsExchange })
        {
            if (_bootstrapMachines.Remove(exchange, out var machine))
            {
                (machine as IDisposable)?.Dispose();
            }
        }

        _phase = NodePhase.Operational;
        StartVcertPush(0);
        InitializationDuration = DateTimeOffset.UtcNow - (_initializationStartedAt ?? DateTimeOffset.UtcNow);
        var firstPeriod = PeriodStart(1);
        NodeLog.Initialized(_logger, Self, InitializationDuration.Value.TotalSeconds, erased, firstPeriod);
    }

    // ---- Items and constants ---------------------------------------------------------------------

    private byte[] InitialKeysItem(PeriodPublicKeys keys, byte[] tlsFingerprint, long proposedAnchorMs)
    {
        var body = new byte[InitialKeysBodyLength];
        body[0] = InitialKeysVersion;
        new KeyTableEntry(keys, tlsFingerprint).Encode().CopyTo(body, 1);
        BinaryPrimitives.WriteInt64BigEndian(body.AsSpan(1 + KeyTableEntry.EncodedLength), proposedAnchorMs);
        var signature = _startKey!.Sign(InitialKeysMessage(body));
        return [.. body, .. signature];
    }

    private byte[] InitialKeysMessage(ReadOnlySpan<byte> body) => [.. InitialKeysLabel, .. _config.NetworkId.ToArray(), .. body];

    private bool TryReadInitialKeys(ReadOnlySpan<byte> item, out KeyTableEntry? entry, out long proposedAnchorMs, out ReadOnlySpan<byte> signature)
    {
        entry = null;
        proposedAnchorMs = 0;
        signature = default;
        if (item.Length != InitialKeysBodyLength + Ed25519PublicKey.SignatureLength || item[0] != InitialKeysVersion
            || !KeyTableEntry.TryDecode(item.Slice(1, KeyTableEntry.EncodedLength), out entry) || entry.Period != 0)
        {
            return false;
        }

        proposedAnchorMs = BinaryPrimitives.ReadInt64BigEndian(item.Slice(1 + KeyTableEntry.EncodedLength, 8));
        signature = item[InitialKeysBodyLength..];
        return true;
    }

    /// <summary>An item of server <paramref name="server"/>: its own period-0 keys, signed with the start key C lists for it.</summary>
    private bool IsValidInitialKeys(int server, ReadOnlyMemory<byte> item) =>
        TryReadInitialKeys(item.Span, out var entry, out var anchorMs, out var signature)
        && entry!.ServerId == server
        && Math.Abs(anchorMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) <= (long)MaxAnchorSkew.TotalMilliseconds
        && _config.Server(server).StartPublicKey.Verify(InitialKeysMessage(item.Span[..InitialKeysBodyLength]), signature);

    private bool IsValidStatement(int server, ReadOnlyMemory<byte> statement) =>
        Controller.NetworkKey is { } key && _constants is not null
        && InvariantInformation.VerifyStatement(_config.Server(server).StartPublicKey, _config.NetworkId, server, new GroupPublicKey(_config.Suite, key.GroupPublicKey), _constants, statement.Span);

    /// <summary>The constants M signs: C's canonical encoding and the anchor of the period schedule (Unix ms).</summary>
    private byte[] EncodeConstants(DateTimeOffset anchor)
    {
        var encoded = _config.EncodeCanonical();
        var constants = new byte[encoded.Length + 8];
        encoded.CopyTo(constants, 0);
        BinaryPrimitives.WriteInt64BigEndian(constants.AsSpan(encoded.Length), anchor.ToUnixTimeMilliseconds());
        return constants;
    }

    /// <summary>The constants name this configuration (C) and a schedule anchor.</summary>
    private bool TryReadConstants(ReadOnlySpan<byte> constants, out DateTimeOffset anchor)
    {
        anchor = default;
        var encoded = _config.EncodeCanonical();
        if (constants.Length != encoded.Length + 8 || !constants[..encoded.Length].SequenceEqual(encoded))
        {
            return false;
        }

        anchor = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(constants[encoded.Length..]));
        return true;
    }
}

// References: docs/BRIEF.md section 3 ("Other public state (commitments, registrations, public data, the
// log) is restored from any peer and verified"); docs/PROTOCOLS.md "Application ledger" (state transfer).
using System.Buffers;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Controller;

/// <summary>
/// The ledger's state transfer, for a server that cannot catch up by agreement (more than a period
/// behind, wiped, or more decisions behind than peers keep): it asks every peer for an offer (its
/// position and a digest of its application state, its included-secret and included-key counts and the
/// application keys' commitments), and once f + 1 offers agree (so at least one honest server vouches)
/// fetches that copy page by page from one of them, checks it against the agreed digest and installs it.
/// From the copy's position it follows the ledger by agreement again.
/// </summary>
/// <remarks>
/// On the submission channel (Ledger, p, 0), round 2: type 1 request for offers (empty), type 2 offer
/// (u64 period, u64 next sequence, 32-byte digest, u32 pages), type 3 fetch (u32 page), type 4 page
/// (u64 period, u64 next sequence, u32 page, u32 pages, list of (string key, bytes value)). A peer keeps
/// the snapshot it offered until its next offer, so the pages of one copy are consistent.
/// </remarks>
public sealed partial class ServerController
{
    /// <summary>The state transfer's round on the submission channel.</summary>
    public const byte LedgerSyncRound = 2;

    private const byte SyncRequestType = 1;
    private const byte SyncOfferType = 2;
    private const byte SyncFetchType = 3;
    private const byte SyncPageType = 4;
    private const int SyncPageBytes = 1 << 20;
    private const string IncludedSecretsRecord = "sync/included-secrets";
    private const string IncludedKeysRecord = "sync/included-keys";
    private const string KeyCommitmentRecord = "sync/app-key/";

    private readonly HashSet<int> _peersAhead = [];
    private readonly Dictionary<int, (ulong Period, ulong Next, byte[] Digest, uint Pages)> _syncOffers = [];
    private readonly Dictionary<uint, List<KeyValuePair<string, byte[]>>> _syncPages = [];
    private List<List<KeyValuePair<string, byte[]>>>? _offeredSnapshot;
    private (ulong Period, ulong Next) _offeredPosition;
    private (int Peer, ulong Period, ulong Next, byte[] Digest, uint Pages)? _syncSource;
    private bool _syncRequested;
    private TimeSpan _syncRequestedAt;

    /// <summary>How long a transfer waits for matching offers or pages before it asks again.</summary>
    public static readonly TimeSpan LedgerSyncRetry = TimeSpan.FromSeconds(2);

    /// <summary>Offers received for the transfer in progress, and pages of it received (status and tests).</summary>
    public (int Offers, int Pages) LedgerSyncProgress => (_syncOffers.Count, _syncPages.Count);


    /// <summary>Whether this server is fetching the application state from a peer.</summary>
    public bool IsSyncingLedger => _syncRequested;

    /// <summary>
    /// Whether the ledger needs a transfer: it is more than a period behind, or f + 1 peers speak in ledger
    /// instances beyond what this server can reach by agreement.
    /// </summary>
    private bool LedgerNeedsTransfer =>
        PeriodSchedule is not null && _publicState is not null
        && (_ledger.Period + 1 < CurrentPeriod || _peersAhead.Count >= _parameters.Faults + 1);

    /// <summary>Routing hook: a ledger or ledger-agreement message for an instance this server cannot reach marks its sender as ahead.</summary>
    private void NoteLedgerPosition(ProtocolContext context, InstanceId instance, int sender, ControllerStep step)
    {
        var parent = instance;
        if (instance.Protocol == ProtocolKind.Agreement && !AgreementWiring.TryParentOf(instance, out parent))
        {
            return;
        }

        if (parent.Protocol != ProtocolKind.Ledger || parent.Sequence == 0 || sender == Self)
        {
            return;
        }

        var ahead = parent.Period > _ledger.Period + 1
            || (parent.Period == _ledger.Period && parent.Sequence > _ledger.NextSequence + LedgerLookahead)
            || (parent.Period == _ledger.Period + 1 && parent.Sequence > LedgerLookahead);
        if (ahead)
        {
            _peersAhead.Add(sender);
            StartLedgerSyncIfNeeded(context, step);
        }
    }

    /// <summary>Asks every peer for an offer when the ledger needs a transfer (once per need).</summary>
    private void StartLedgerSyncIfNeeded(ProtocolContext context, ControllerStep step)
    {
        if ((_syncRequested && context.Now - _syncRequestedAt < LedgerSyncRetry) || !LedgerNeedsTransfer || !_ownKeys.ContainsKey(CurrentPeriod))
        {
            return;
        }

        _syncRequested = true;
        _syncRequestedAt = context.Now;
        _syncOffers.Clear();
        _syncPages.Clear();
        _syncSource = null;
        var outbox = new Outbox();
        outbox.Broadcast(0, LedgerSyncRound, SyncRequestType, []);
        step.Add(LedgerSubmissions(CurrentPeriod), outbox);
    }

    private void ReceiveLedgerSync(ProtocolContext context, InboundMessage message, ControllerStep step)
    {
        var reader = new CanonicalReader(message.Payload.Span);
        var outbox = new Outbox();
        switch (message.Type)
        {
            case SyncRequestType when IsLedgerCurrent && !_syncRequested:
                _offeredSnapshot = SnapshotPages();
                _offeredPosition = (_ledger.Period, _ledger.NextSequence);
                outbox.Send(message.Sender, message.Attempt, LedgerSyncRound, SyncOfferType, EncodeOffer(_offeredSnapshot), confidential: false);
                break;
            case SyncOfferType when _syncRequested && _syncSource is null:
                if (reader.TryReadU64(out var period) && reader.TryReadU64(out var next) && reader.TryReadFixedBytes(32, out var digest)
                    && reader.TryReadU32(out var pages) && pages is >= 1 and <= 100_000 && reader.TryReadEnd())
                {
                    _syncOffers[message.Sender] = (period, next, digest.ToArray(), pages);
                    var agreed = _syncOffers
                        .GroupBy(o => (o.Value.Period, o.Value.Next, Convert.ToHexStringLower(o.Value.Digest), o.Value.Pages))
                        .FirstOrDefault(g => g.Count() >= _parameters.Faults + 1);
                    if (agreed is not null)
                    {
                        var source = agreed.First();
                        _syncSource = (source.Key, source.Value.Period, source.Value.Next, source.Value.Digest, source.Value.Pages);
                        for (var page = 0u; page < source.Value.Pages; page++)
                        {
                            var fetch = new byte[4];
                            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(fetch, page);
                            outbox.Send(source.Key, page, LedgerSyncRound, SyncFetchType, fetch, confidential: false);
                        }
                    }
                }

                break;
            case SyncFetchType when _offeredSnapshot is not null:
                if (reader.TryReadU32(out var wanted) && wanted < _offeredSnapshot.Count && reader.TryReadEnd())
                {
                    outbox.Send(message.Sender, message.Attempt, LedgerSyncRound, SyncPageType, EncodePage(wanted, _offeredSnapshot), confidential: false);
                }

                break;
            case SyncPageType when _syncSource is { } source && message.Sender == source.Peer:
                if (TryDecodePage(ref reader, out var pagePeriod, out var pageNext, out var index, out var total, out var records)
                    && pagePeriod == source.Period && pageNext == source.Next && total == source.Pages)
                {
                    _syncPages[index] = records;
                    if (_syncPages.Count == (int)source.Pages)
                    {
                        InstallTransferredState(context, source.Period, source.Next, source.Digest, outbox);
                    }
                }

                break;
        }

        step.Add(LedgerSubmissions(CurrentPeriod), outbox);
        if (!_syncRequested)
        {
            StartLedgerIfReady(context, step);
        }
    }

    private void InstallTransferredState(ProtocolContext context, ulong period, ulong next, byte[] digest, Outbox outbox)
    {
        var all = _syncPages.OrderBy(p => p.Key).SelectMany(p => p.Value).ToList();
        _syncPages.Clear();
        if (!CryptographicOperations.FixedTimeEquals(SyncDigest(all), digest))
        {
            // The source sent other pages than it offered: ask again, without it.
            _syncOffers.Remove(_syncSource!.Value.Peer);
            _syncSource = null;
            _syncRequested = false;
            outbox.Emit(new Alert(AlertType.MalformedMessage, 0, CurrentPeriod, LedgerSubmissions(CurrentPeriod), "a peer's application state copy does not match its offer", []));
            return;
        }

        var appRecords = all.Where(r => r.Key.StartsWith(ApplicationKeys.Prefix, StringComparison.Ordinal)).ToList();
        var writes = new List<KeyValuePair<string, byte[]?>>();
        _ledger.Replace(appRecords, period, next, writes);
        foreach (var (key, value) in writes)
        {
            outbox.Persist(value is null ? EraseKey(key) : key, value ?? []);
        }

        foreach (var (key, value) in all)
        {
            if (key == IncludedSecretsRecord && value.Length == 8)
            {
                _includedSecrets = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(value);
                outbox.Persist(IncludedSecretsKey, value);
            }
            else if (key == IncludedKeysRecord && value.Length == 8)
            {
                _includedKeys = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(value);
                outbox.Persist(IncludedKeysKey, value);
            }
            else if (key.StartsWith(KeyCommitmentRecord, StringComparison.Ordinal)
                && ulong.TryParse(key[KeyCommitmentRecord.Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal)
                && FeldmanCommitment.TryDecode(value, _group, out var commitment, out CodecError _))
            {
                _appKeyCommitments[ordinal] = commitment;
                outbox.Persist(AppKeyCommitmentPrefix + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), value);
            }
        }

        _appKeyDkgsStarted = _ledger.State.KeyCount;
        _syncRequested = false;
        _syncSource = null;
        _syncOffers.Clear();
        _peersAhead.Clear();
        _restoredLedgerAgreements.Clear();
        _decidedLedgerInstances.Clear();
        foreach (var stale in _machines.Keys.Where(i => i.Protocol == ProtocolKind.Ledger || (AgreementWiring.TryParentOf(i, out var p) && p.Protocol == ProtocolKind.Ledger)).ToList())
        {
            _machines.Remove(stale);
        }

        outbox.Emit(new LedgerStateInstalled(LedgerSubmissions(CurrentPeriod), period, next));
    }

    /// <summary>This server's application state, what else a transfer carries, in pages of about 1 MiB.</summary>
    private List<List<KeyValuePair<string, byte[]>>> SnapshotPages()
    {
        var records = new List<KeyValuePair<string, byte[]>>(_ledger.State.Records());
        var counts = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(counts, _includedSecrets);
        records.Add(new(IncludedSecretsRecord, counts));
        var keys = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(keys, _includedKeys);
        records.Add(new(IncludedKeysRecord, keys));
        records.AddRange(_appKeyCommitments.OrderBy(c => c.Key).Select(c => new KeyValuePair<string, byte[]>(KeyCommitmentRecord + c.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Value.Encode())));
        var pages = new List<List<KeyValuePair<string, byte[]>>> { new() };
        var size = 0;
        foreach (var record in records)
        {
            var length = record.Key.Length + record.Value.Length + 16;
            if (size + length > SyncPageBytes && pages[^1].Count > 0)
            {
                pages.Add([]);
                size = 0;
            }

            pages[^1].Add(record);
            size += length;
        }

        return pages;
    }

    private byte[] EncodeOffer(List<List<KeyValuePair<string, byte[]>>> pages)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteU64(_ledger.Period);
        writer.WriteU64(_ledger.NextSequence);
        writer.WriteFixedBytes(SyncDigest(pages.SelectMany(p => p)));
        writer.WriteU32((uint)pages.Count);
        return output.WrittenSpan.ToArray();
    }

    private byte[] EncodePage(uint index, List<List<KeyValuePair<string, byte[]>>> pages)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteU64(_offeredPosition.Period);
        writer.WriteU64(_offeredPosition.Next);
        writer.WriteU32(index);
        writer.WriteU32((uint)pages.Count);
        writer.WriteCount(pages[(int)index].Count, 1 << 20);
        foreach (var (key, value) in pages[(int)index])
        {
            writer.WriteString(key, 512);
            writer.WriteBytes(value, Envelopes.Envelope.MaxPayloadLength);
        }

        return output.WrittenSpan.ToArray();
    }

    private static bool TryDecodePage(ref CanonicalReader reader, out ulong period, out ulong next, out uint index, out uint total, out List<KeyValuePair<string, byte[]>> records)
    {
        records = [];
        index = total = 0;
        next = 0;
        if (!reader.TryReadU64(out period) || !reader.TryReadU64(out next) || !reader.TryReadU32(out index) || !reader.TryReadU32(out total)
            || !reader.TryReadCount(1 << 20, 6, out var count))
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadString(512, out var key) || !reader.TryReadBytes(Envelopes.Envelope.MaxPayloadLength, out var value))
            {
                return false;
            }

            records.Add(new(key, value.ToArray()));
        }

        return reader.TryReadEnd();
    }

    /// <summary>SHA-256 over the records in order (length-prefixed keys and values): what f + 1 offers must agree on.</summary>
    private static byte[] SyncDigest(IEnumerable<KeyValuePair<string, byte[]>> records)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("proactive/ledger-transfer/v1"u8);
        Span<byte> length = stackalloc byte[8];
        foreach (var (key, value) in records)
        {
            var keyBytes = System.Text.Encoding.UTF8.GetBytes(key);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)keyBytes.Length);
            hash.AppendData(length);
            hash.AppendData(keyBytes);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)value.Length);
            hash.AppendData(length);
            hash.AppendData(value);
        }

        return hash.GetHashAndReset();
    }
}

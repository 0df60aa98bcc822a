// References: RFC 9591 (FROST) section 5.1 (commit), section 7.3 (a nonce pair must sign at most once:
// two shares with one nonce reveal the signing share); Komlo and Goldberg, FROST (SAC 2020) section 5.2
// "Preprocess" (each participant publishes a list of commitments and erases each nonce after one use);
// docs/PROTOCOLS.md "Threshold signing" (the nonce rule and its crash-safety argument).
using System.Buffers.Binary;
using System.Globalization;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Random;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Signing;

/// <summary>What a signer found when it looked up a package's nonce in its pool.</summary>
public enum NonceLookup
{
    /// <summary>Held, unused, reserved for this coordinator, and the commitment is the one published.</summary>
    Available,

    /// <summary>The index is in the used set (in memory or restored from disk): never sign with it again.</summary>
    AlreadyUsed,

    /// <summary>Not held: discarded at a restart, discarded at a coordinator's restart, or never published.</summary>
    Unknown,

    /// <summary>Held, but reserved for another coordinator.</summary>
    WrongCoordinator,

    /// <summary>Held, but the package carries other commitments for this index (a forged package).</summary>
    CommitmentMismatch,
}

/// <summary>
/// A signer's pool of FROST nonce pairs (RFC 9591 section 5.1) for one key and one period. Each pair is
/// published in advance with an index and reserved for one coordinator; it signs at most once.
/// </summary>
/// <remarks>
/// <para><b>The nonce rule.</b> The secret nonces live only in memory and are never written to disk. A
/// nonce is moved to the used set, and a <see cref="NonceUseRecord"/> is persisted, in the same step
/// that produces the share, and the driver makes persisted state durable before any message of the step
/// leaves. At a restart the pool is rebuilt by <see cref="Restore"/>: no nonce secret survives (they were
/// never stored), the used set is read back, and the generation (the high 32 bits of every index) is one
/// more than the highest generation on disk, so no index is ever issued twice. A persisted 'used' index
/// can therefore never be signed with again, whatever the crash point. Discarding the unused nonces is
/// the price: the restarted server publishes a fresh batch, and coordinators drop its older commitments.</para>
/// <para><b>Security notes.</b> Nonce secrets are SECRET (owned <see cref="SigningNonces"/>, wiped on use,
/// discard and <see cref="Dispose"/>); the generation and used records are not secret.</para>
/// </remarks>
public sealed class NoncePool : IDisposable
{
    /// <summary>How many nonces a pool holds at most (all coordinators together); beyond it, publishing stops.</summary>
    public const int MaxHeld = 4096;

    private readonly Dictionary<ulong, (int Coordinator, SigningNonces Nonces)> _held = [];
    private readonly HashSet<ulong> _used;
    private uint _counter;
    private bool _disposed;

    private NoncePool(KeyPackage keyPackage, ulong period, uint generation, IEnumerable<ulong> used)
    {
        KeyPackage = keyPackage;
        Period = period;
        Generation = generation;
        _used = [.. used];
    }

    /// <summary>The signer's key (owned by the embedder, not by the pool).</summary>
    public KeyPackage KeyPackage { get; }

    /// <summary>The period the pool (and its key shares) belong to.</summary>
    public ulong Period { get; }

    /// <summary>This incarnation's generation, 1 for a fresh pool, one more after every restart.</summary>
    public uint Generation { get; }

    /// <summary>True when the pool was rebuilt from disk (its batches carry the Restarted flag).</summary>
    public bool IsRestored => Generation > 1;

    /// <summary>How many nonces are held (unused).</summary>
    public int HeldCount => _held.Count;

    /// <summary>Indices never to be signed with again (used in this or an earlier incarnation).</summary>
    public IReadOnlyCollection<ulong> UsedIndices => _used;

    /// <summary>The durable key of the generation record.</summary>
    public string GenerationKey => GenerationKeyFor(Period);

    /// <summary>A fresh pool, generation 1 (first start of the period).</summary>
    public static NoncePool Create(KeyPackage keyPackage, ulong period)
    {
        ArgumentNullException.ThrowIfNull(keyPackage);
        return new NoncePool(keyPackage, period, 1, []);
    }

    /// <summary>
    /// The pool after a restart, from the persisted store: the used set is read back, the generation is
    /// one more than the highest on disk (generation record or used index), and no nonce is held.
    /// </summary>
    public static NoncePool Restore(KeyPackage keyPackage, ulong period, IReadOnlyDictionary<string, byte[]> store)
    {
        ArgumentNullException.ThrowIfNull(keyPackage);
        ArgumentNullException.ThrowIfNull(store);
        uint highest = 0;
        if (store.TryGetValue(GenerationKeyFor(period), out var record) && record.Length == 4)
        {
            highest = BinaryPrimitives.ReadUInt32BigEndian(record);
        }

        var used = new List<ulong>();
        var prefix = UsedPrefix(period);
        foreach (var (key, value) in store)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && NonceUseRecord.TryDecode(value, out var use))
            {
                used.Add(use.Index);
                highest = Math.Max(highest, (uint)(use.Index >> 32));
            }
        }

        if (highest == uint.MaxValue)
        {
            throw new InvalidOperationException("The nonce generation is exhausted for this period.");
        }

        return new NoncePool(keyPackage, period, highest + 1, used);
    }

    /// <summary>The durable key of the generation record of <paramref name="period"/>.</summary>
    public static string GenerationKeyFor(ulong period) => $"signing/p{period}/nonce-generation";

    /// <summary>The durable key of the use record of nonce <paramref name="index"/>.</summary>
    public static string UsedKeyFor(ulong period, ulong index) => UsedPrefix(period) + index.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>
    /// Draws <paramref name="count"/> nonce pairs reserved for <paramref name="coordinator"/> and returns their
    /// commitments to publish. Persists the generation record in the same step (before the batch leaves),
    /// so a restart never reissues an index. Returns fewer (or none) when the pool is full.
    /// </summary>
    public IReadOnlyList<PublishedNonce> Publish(int coordinator, int count, IRandomSource random, Outbox outbox)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(coordinator, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(outbox);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var published = new List<PublishedNonce>(count);
        for (var i = 0; i < count && _held.Count < MaxHeld && _counter < uint.MaxValue; i++)
        {
            var index = ((ulong)Generation << 32) | ++_counter;
            var nonces = Round1.Commit(KeyPackage.SigningShare, random);
            _held.Add(index, (coordinator, nonces));
            published.Add(new PublishedNonce(coordinator, index, nonces.Commitments));
        }

        var record = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(record, Generation);
        outbox.Persist(GenerationKey, record);
        return published;
    }

    /// <summary>How many unused nonces are reserved for <paramref name="coordinator"/>.</summary>
    public int CountReservedFor(int coordinator) => _held.Values.Count(h => h.Coordinator == coordinator);

    /// <summary>Checks a package's entry for this signer without touching the pool.</summary>
    public NonceLookup Lookup(int coordinator, ulong index, SigningCommitments commitments)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        if (_used.Contains(index))
        {
            return NonceLookup.AlreadyUsed;
        }

        if (!_held.TryGetValue(index, out var held))
        {
            return NonceLookup.Unknown;
        }

        if (held.Coordinator != coordinator)
        {
            return NonceLookup.WrongCoordinator;
        }

        var own = held.Nonces.Commitments;
        return own.Hiding == commitments.Hiding && own.Binding == commitments.Binding
            ? NonceLookup.Available
            : NonceLookup.CommitmentMismatch;
    }

    /// <summary>
    /// Takes nonce <paramref name="index"/> out of the pool for one signature: it joins the used set and its
    /// use record is persisted in this step, before the share leaves. The caller signs with the returned
    /// nonces (which <see cref="Round2.Sign"/> wipes). Call only after <see cref="Lookup"/> said Available.
    /// </summary>
    public SigningNonces TakeForSigning(ulong index, NonceUseRecord use, Outbox outbox)
    {
        ArgumentNullException.ThrowIfNull(use);
        ArgumentNullException.ThrowIfNull(outbox);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (use.Index != index || !_held.Remove(index, out var held))
        {
            throw new InvalidOperationException($"Nonce {index:x16} is not held; look it up first.");
        }

        _used.Add(index);
        outbox.Persist(UsedKeyFor(Period, index), use.Encode());
        return held.Nonces;
    }

    /// <summary>Wipes every unused nonce reserved for <paramref name="coordinator"/> (it restarted and lost their commitments).</summary>
    public int DiscardReservedFor(int coordinator)
    {
        var stale = _held.Where(h => h.Value.Coordinator == coordinator).Select(h => h.Key).ToList();
        foreach (var index in stale)
        {
            _held.Remove(index, out var held);
            held.Nonces.Dispose();
        }

        return stale.Count;
    }

    public override string ToString() => $"NoncePool(p{Period}, generation {Generation}, {_held.Count} held, {_used.Count} used, <redacted>)";

    /// <summary>Wipes every held nonce.</summary>
    public void Dispose()
    {
        foreach (var held in _held.Values)
        {
            held.Nonces.Dispose();
        }

        _held.Clear();
        _disposed = true;
    }

    private static string UsedPrefix(ulong period) => $"signing/p{period}/nonce-used/";
}

/// <summary>
/// The durable record that nonce <see cref="Index"/> was used, and for what (for audits).
/// Format, version 1: u8 version, u64 index, u16 coordinator, u8 protocol, u64 period, u64 sequence, u32 attempt.
/// </summary>
public sealed record NonceUseRecord(ulong Index, int Coordinator, InstanceId Session, uint Attempt)
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    private const int Length = 1 + 8 + 2 + 1 + 8 + 8 + 4;

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[Length];
        bytes[0] = FormatVersion;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1), Index);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(9), (ushort)Coordinator);
        bytes[11] = (byte)Session.Protocol;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(12), Session.Period);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(20), Session.Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(28), Attempt);
        return bytes;
    }

    /// <summary>Decodes a record read back from disk; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NonceUseRecord? record)
    {
        record = null;
        if (encoding.Length != Length || encoding[0] != FormatVersion)
        {
            return false;
        }

        record = new NonceUseRecord(
            BinaryPrimitives.ReadUInt64BigEndian(encoding[1..]),
            BinaryPrimitives.ReadUInt16BigEndian(encoding[9..]),
            new InstanceId((ProtocolKind)encoding[11], BinaryPrimitives.ReadUInt64BigEndian(encoding[12..]), BinaryPrimitives.ReadUInt64BigEndian(encoding[20..])),
            BinaryPrimitives.ReadUInt32BigEndian(encoding[28..]));
        return true;
    }
}

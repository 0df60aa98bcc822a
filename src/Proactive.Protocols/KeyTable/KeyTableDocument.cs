// References: toolkit paper (seed 001) Table 1 step 4 (KeyTable = [K_1, ..., K_n], threshold-signed
// with S_cert); docs/BRIEF.md section 3 "Refresh for period p"; STYLE.md rule 7 (one canonical encoding).
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.KeyTable;

/// <summary>
/// The KeyTable of period p: one signed K_i per listed server, by increasing server id. It is what
/// agreement decides and what the network threshold-signs in the period root (<see cref="PeriodCertificate"/>); the
/// envelope layer of period p verifies and encrypts with the keys it lists.
/// </summary>
/// <remarks>
/// Encoding: version u8 (<see cref="FormatVersion"/>), period u64, count u32 (1..255), then count
/// <see cref="SignedKeyTableEntry"/> encodings with strictly increasing server ids, each of the table's
/// period. Decoding checks the structure only; the machine checks the signatures.
/// </remarks>
public sealed class KeyTableDocument
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Longest encoding: 255 entries with both signatures.</summary>
    public const int MaxEncodedLength = 1 + 8 + CanonicalWriter.CountPrefixSize + (ClusterParameters.MaxServers * SignedKeyTableEntry.MaxEncodedLength);

    /// <summary>A table of <paramref name="entries"/> (any order; sorted here by server id).</summary>
    /// <exception cref="ArgumentException">No entries, more than 255, a server twice, or an entry of another period.</exception>
    public KeyTableDocument(ulong period, IEnumerable<SignedKeyTableEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sorted = entries.OrderBy(e => e.ServerId).ToArray();
        if (sorted.Length is 0 or > ClusterParameters.MaxServers)
        {
            throw new ArgumentException($"A KeyTable lists 1 to {ClusterParameters.MaxServers} servers.", nameof(entries));
        }

        for (var k = 0; k < sorted.Length; k++)
        {
            if (sorted[k].Entry.Period != period || (k > 0 && sorted[k].ServerId == sorted[k - 1].ServerId))
            {
                throw new ArgumentException("Each server at most once, every entry of the table's period.", nameof(entries));
            }
        }

        Period = period;
        Entries = sorted;
    }

    /// <summary>The period p the keys are for.</summary>
    public ulong Period { get; }

    /// <summary>The entries, by increasing server id.</summary>
    public IReadOnlyList<SignedKeyTableEntry> Entries { get; }

    /// <summary>Server i's entry, if listed.</summary>
    public bool TryGet(int serverId, [NotNullWhen(true)] out SignedKeyTableEntry? entry)
    {
        entry = Entries.FirstOrDefault(e => e.ServerId == serverId);
        return entry is not null;
    }

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        writer.WriteU8(FormatVersion);
        writer.WriteU64(Period);
        writer.WriteCount(Entries.Count, ClusterParameters.MaxServers);
        foreach (var entry in Entries)
        {
            entry.WriteTo(ref writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes untrusted bytes: structure, version, ids strictly increasing and at most
    /// <paramref name="maxServerId"/>, every entry of the table's period. Never throws.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, int maxServerId, [NotNullWhen(true)] out KeyTableDocument? table, out CodecFailure failure)
    {
        table = null;
        var reader = new CanonicalReader(encoding);
        if (!TryRead(ref reader, maxServerId, out var period, out var entries) || !reader.TryReadEnd())
        {
            failure = reader.FailureOrInvalidValue;
            return false;
        }

        table = new KeyTableDocument(period, entries);
        failure = default;
        return true;
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, int maxServerId, [NotNullWhen(true)] out KeyTableDocument? table) =>
        TryDecode(encoding, maxServerId, out table, out _);

    private static bool TryRead(ref CanonicalReader reader, int maxServerId, out ulong period, out SignedKeyTableEntry[] entries)
    {
        entries = [];
        period = 0;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        var countOffset = reader.Offset + 8;
        if (!reader.TryReadU64(out period, "period") ||
            !reader.TryReadCount(ClusterParameters.MaxServers, SignedKeyTableEntry.MinEncodedLength, out var count, "entries"))
        {
            return false;
        }

        if (count == 0)
        {
            return reader.Fail(CodecError.InvalidValue, countOffset, "entries");
        }

        var read = new SignedKeyTableEntry[count];
        for (var k = 0; k < count; k++)
        {
            var entryOffset = reader.Offset;
            if (!SignedKeyTableEntry.TryRead(ref reader, out var entry))
            {
                return false;
            }

            if (entry.Entry.Period != period || entry.ServerId > maxServerId || (k > 0 && entry.ServerId <= read[k - 1].ServerId))
            {
                return reader.Fail(CodecError.InvalidValue, entryOffset, "entry");
            }

            read[k] = entry;
        }

        entries = read;
        return true;
    }
}

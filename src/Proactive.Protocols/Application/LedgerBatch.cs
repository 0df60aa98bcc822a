// References: docs/BRIEF.md section 3 ("Decisions (... a write) are committed only with a certificate");
// docs/PROTOCOLS.md "Application ledger".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;

namespace Proactive.Protocols.Application;

/// <summary>
/// What one ledger instance decides: the requests to apply, in order, and whether this batch closes the
/// period's ledger (<see cref="Seals"/>): the refresh of the next period starts from the state the sealed
/// ledger leaves, so every honest server refreshes the same set of secrets.
/// </summary>
/// <remarks>Encoding, version 1: u8 version, u64 period, u64 sequence, bool seals, list of <see cref="SignedRequest"/>
/// (count ≤ <see cref="MaxRequests"/>); the whole at most <see cref="MaxEncodedLength"/>.</remarks>
public sealed class LedgerBatch
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Most requests in one batch.</summary>
    public const int MaxRequests = 512;

    /// <summary>Largest batch (below the agreement's value limit).</summary>
    public const int MaxEncodedLength = 4 << 20;

    public LedgerBatch(ulong period, ulong sequence, bool seals, IReadOnlyList<SignedRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        Period = period;
        Sequence = sequence;
        Seals = seals;
        Requests = requests;
    }

    public ulong Period { get; }

    public ulong Sequence { get; }

    public bool Seals { get; }

    public IReadOnlyList<SignedRequest> Requests { get; }

    public byte[] Encode()
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(output);
        writer.WriteU8(FormatVersion);
        writer.WriteU64(Period);
        writer.WriteU64(Sequence);
        writer.WriteBool(Seals);
        writer.WriteCount(Requests.Count, MaxRequests);
        foreach (var request in Requests)
        {
            writer.WriteFixedBytes(request.Encode());
        }

        return output.WrittenSpan.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> encoded, [NotNullWhen(true)] out LedgerBatch? batch)
    {
        batch = null;
        if (encoded.Length > MaxEncodedLength)
        {
            return false;
        }

        var reader = new CanonicalReader(encoded);
        if (!reader.TryReadU8(out var version) || version != FormatVersion
            || !reader.TryReadU64(out var period) || !reader.TryReadU64(out var sequence) || !reader.TryReadBool(out var seals)
            || !reader.TryReadCount(MaxRequests, 1, out var count))
        {
            return false;
        }

        var requests = new SignedRequest[count];
        for (var i = 0; i < count; i++)
        {
            if (!SignedRequest.TryRead(ref reader, out var request))
            {
                return false;
            }

            requests[i] = request;
        }

        if (!reader.TryReadEnd())
        {
            return false;
        }

        batch = new LedgerBatch(period, sequence, seals, requests);
        return true;
    }
}

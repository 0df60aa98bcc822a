// References: docs/BRIEF.md section 1 (the adversary may replay), section 3 (messages name their
// period); AlertType.Replay.

using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// Remembers which signed envelopes were accepted, so that the same bytes are accepted once.
/// </summary>
/// <remarks>
/// <para>Entries are SHA-256 digests of the whole signed envelope, grouped by the envelope's period.
/// Because the encoding is canonical and Ed25519 signatures are not malleable, the digest identifies
/// the message: an attacker cannot re-encode a seen envelope into new accepted bytes.</para>
/// <para>Memory is bounded by period: <see cref="ForgetPeriodsBefore"/> drops whole periods, which
/// is safe only because <see cref="EnvelopeOpener"/> refuses envelopes of those periods as stale
/// before it consults the guard. Within a live period the guard grows with the accepted traffic,
/// all of it signed by servers in the directory; flooding by a faulty server is a rate-limiting
/// matter for the transport, not something the guard could cap without re-opening replays.</para>
/// <para>Not thread-safe: one driver owns it.</para>
/// </remarks>
public sealed class ReplayGuard
{
    private readonly Dictionary<ulong, HashSet<Digest>> _seen = [];

    /// <summary>Digests held, over all periods.</summary>
    public int Count => _seen.Values.Sum(s => s.Count);

    /// <summary>Whether these signed bytes were recorded in <paramref name="period"/>.</summary>
    public bool Contains(ulong period, ReadOnlySpan<byte> signedEnvelope) =>
        _seen.TryGetValue(period, out var set) && set.Contains(Digest.Of(signedEnvelope));

    /// <summary>Records the signed bytes; false when they were already recorded (a replay).</summary>
    public bool TryRecord(ulong period, ReadOnlySpan<byte> signedEnvelope)
    {
        if (!_seen.TryGetValue(period, out var set))
        {
            set = [];
            _seen.Add(period, set);
        }

        return set.Add(Digest.Of(signedEnvelope));
    }

    /// <summary>Drops every period before <paramref name="period"/>.</summary>
    public void ForgetPeriodsBefore(ulong period)
    {
        foreach (var old in _seen.Keys.Where(p => p < period).ToList())
        {
            _seen.Remove(old);
        }
    }

    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D)
    {
        public static Digest Of(ReadOnlySpan<byte> bytes)
        {
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes, hash);
            return new Digest(
                BinaryPrimitives.ReadUInt64LittleEndian(hash),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
        }
    }
}

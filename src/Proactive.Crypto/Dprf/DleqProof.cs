using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hashing;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Dprf;

// References: Chaum and Pedersen, "Wallet Databases with Observers" (CRYPTO 1992), the
// discrete-log-equality proof, made non-interactive with Fiat-Shamir; RFC 9497 section 2.2 uses
// the same proof for VOPRFs. Hash to scalar: RFC 9380 section 5.3.1 expand_message_xmd (SHA-512).

/// <summary>
/// A non-interactive proof that log_G(X) = log_H(Y) for the group generator G: the same secret x
/// gives X = x*G and Y = x*H. Lets a server show that its partial evaluation Y = x_i*H(m) used
/// the share x_i behind its public share X_i = x_i*G, without revealing x_i.
/// </summary>
/// <remarks>
/// Prover: k (hedged: from fresh randomness, x and the statement), A = k*G, B = k*H,
/// c = HashToScalar(G, X, H, Y, A, B, context), z = k + c*x; the proof is (c, z).
/// Verifier: A' = z*G - c*X, B' = z*H - c*Y, accept iff HashToScalar(G, X, H, Y, A', B', context) = c.
/// Encoding: c || z, each a canonical scalar of the group (2 * ScalarLength bytes).
/// </remarks>
public sealed class DleqProof
{
    /// <summary>Longest domain: the labels appended to it must keep the DST within 255 bytes.</summary>
    public const int MaxDomainLength = 200;

    private const string ChallengeLabel = "-dleq-challenge";
    private const string NonceLabel = "-dleq-nonce";

    private DleqProof(PrimeOrderGroup group, Scalar challenge, Scalar response)
    {
        Group = group;
        Challenge = challenge;
        Response = response;
    }

    public PrimeOrderGroup Group { get; }

    /// <summary>c: the Fiat-Shamir challenge.</summary>
    public Scalar Challenge { get; }

    /// <summary>z = k + c*x.</summary>
    public Scalar Response { get; }

    /// <summary>Bytes of an encoded proof in <paramref name="group"/>.</summary>
    public static int EncodedLength(PrimeOrderGroup group) => 2 * group.ScalarLength;

    /// <summary>
    /// Proves log_G(X) = log_H(Y) for X = x*G, Y = x*H. <paramref name="domain"/> (at most 200 bytes)
    /// separates uses of the proof; <paramref name="context"/> binds it to the caller's statement
    /// (for the DPRF: server index and message).
    /// </summary>
    public static DleqProof Create(
        PrimeOrderGroup group, ReadOnlySpan<byte> domain, ReadOnlySpan<byte> context,
        Scalar x, Element h, Element y, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(random);
        CheckDomain(domain);
        if (x.IsZero || group.IsIdentity(h) || group.IsIdentity(y))
        {
            throw new ArgumentException("A DLEQ statement needs a nonzero secret and non-identity elements.");
        }

        var publicX = group.MultiplyBase(x);
        var k = HedgedNonce(group, domain, x, h, random);
        var a = group.MultiplyBase(k);
        var b = group.Multiply(h, k);
        var c = ChallengeScalar(group, domain, context, publicX, h, y, a, b);
        var z = group.Add(k, group.Multiply(c, x));
        return new DleqProof(group, c, z);
    }

    /// <summary>
    /// True iff this proof shows log_G(<paramref name="x"/>) = log_<paramref name="h"/>(<paramref name="y"/>)
    /// under the domain and context. Never throws for bad data: identity elements or a proof from
    /// another group give false.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> domain, ReadOnlySpan<byte> context, Element x, Element h, Element y)
    {
        CheckDomain(domain);
        var group = Group;
        if (group.IsIdentity(x) || group.IsIdentity(h) || group.IsIdentity(y))
        {
            return false;
        }

        // A' = z*G - c*X, B' = z*H - c*Y.
        var minusC = group.Negate(Challenge);
        var a = group.MultiplyBaseAndMany(Response, [minusC], [x]);
        var b = group.MultiplyMany([Response, minusC], [h, y]);
        var c = ChallengeScalar(group, domain, context, x, h, y, a, b);
        return c == Challenge;
    }

    public void Encode(Span<byte> destination)
    {
        if (destination.Length != EncodedLength(Group))
        {
            throw new ArgumentException($"A {Group.Name} DLEQ proof takes {EncodedLength(Group)} bytes.", nameof(destination));
        }

        Group.EncodeScalar(Challenge, destination[..Group.ScalarLength]);
        Group.EncodeScalar(Response, destination[Group.ScalarLength..]);
    }

    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength(Group)];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Exactly two canonical scalars; false for any other input.</summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out DleqProof? proof)
    {
        ArgumentNullException.ThrowIfNull(group);
        proof = null;
        if (encoding.Length != EncodedLength(group) ||
            !group.TryDecodeScalar(encoding[..group.ScalarLength], out var c) ||
            !group.TryDecodeScalar(encoding[group.ScalarLength..], out var z))
        {
            return false;
        }

        proof = new DleqProof(group, c, z);
        return true;
    }

    /// <summary>c then z, for the DPRF messages that embed a proof.</summary>
    internal void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteScalar(Group, Challenge);
        writer.WriteScalar(Group, Response);
    }

    /// <summary>Reads c then z (canonical scalars); the reader keeps the reason on failure.</summary>
    internal static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup group, [NotNullWhen(true)] out DleqProof? proof)
    {
        proof = null;
        if (!reader.TryReadScalar(group, out var c, "challenge") || !reader.TryReadScalar(group, out var z, "response"))
        {
            return false;
        }

        proof = new DleqProof(group, c, z);
        return true;
    }

    public override string ToString() => $"DleqProof({Group.Name})";

    private static void CheckDomain(ReadOnlySpan<byte> domain)
    {
        if (domain.IsEmpty || domain.Length > MaxDomainLength)
        {
            throw new ArgumentException($"The domain must have 1 to {MaxDomainLength} bytes.", nameof(domain));
        }
    }

    /// <summary>
    /// c = OS2IP(expand_message_xmd(SHA-512, transcript, domain || "-dleq-challenge", WideScalarLength)) mod q,
    /// transcript = I2OSP(group id, 1) || G || X || H || Y || A || B || I2OSP(len(context), 4) || context,
    /// each element in its canonical encoding (A and B may be the identity for a forged proof).
    /// </summary>
    private static Scalar ChallengeScalar(
        PrimeOrderGroup group, ReadOnlySpan<byte> domain, ReadOnlySpan<byte> context,
        Element x, Element h, Element y, Element a, Element b)
    {
        var ne = group.ElementLength;
        var transcript = new byte[1 + (6 * ne) + 4 + context.Length];
        transcript[0] = (byte)group.Id;
        var offset = 1;
        foreach (var e in (ReadOnlySpan<Element>)[group.Generator, x, h, y, a, b])
        {
            group.EncodeElement(e, transcript.AsSpan(offset, ne), allowIdentity: true);
            offset += ne;
        }

        BinaryPrimitives.WriteInt32BigEndian(transcript.AsSpan(offset, 4), context.Length);
        context.CopyTo(transcript.AsSpan(offset + 4));
        return HashToScalar(group, domain, ChallengeLabel, transcript);
    }

    /// <summary>
    /// k from 32 fresh random bytes, the secret and the statement's H (as RFC 9591 nonce_generate
    /// hedges FROST nonces): a weak random source alone then does not reveal x through k.
    /// </summary>
    private static Scalar HedgedNonce(PrimeOrderGroup group, ReadOnlySpan<byte> domain, Scalar x, Element h, IRandomSource random)
    {
        var input = new byte[32 + group.ScalarLength + group.ElementLength];
        try
        {
            while (true)
            {
                random.Fill(input.AsSpan(0, 32));
                group.EncodeScalar(x, input.AsSpan(32, group.ScalarLength));
                group.EncodeElement(h, input.AsSpan(32 + group.ScalarLength));
                var k = HashToScalar(group, domain, NonceLabel, input);
                if (!k.IsZero)
                {
                    return k;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input);
        }
    }

    private static Scalar HashToScalar(PrimeOrderGroup group, ReadOnlySpan<byte> domain, string label, ReadOnlySpan<byte> message)
    {
        Span<byte> dst = stackalloc byte[domain.Length + label.Length];
        domain.CopyTo(dst);
        for (var i = 0; i < label.Length; i++)
        {
            dst[domain.Length + i] = (byte)label[i];
        }

        Span<byte> wide = stackalloc byte[group.WideScalarLength];
        try
        {
            ExpandMessageXmd.Expand(HashAlgorithmName.SHA512, message, dst, wide);
            return group.ReduceWide(wide);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(wide);
        }
    }
}

// References: Buchman, Kwon, Milosevic, arXiv:1807.04938, section 2 (a correct process sends one
// message per round and step; two are misbehaviour); docs/BRIEF.md section 3 ("Equivocation (two
// different signed messages for the same slot) is proof of misbehaviour").

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Cluster;

namespace Proactive.Protocols.Agreement;

/// <summary>
/// Two validly signed statements by one server for the same (round, step) that say different
/// things: two proposals, two prevotes or two precommits (a nil and a value vote differ too).
/// No honest server ever signs both, so anyone holding the instance context and the culprit's
/// public key can check the blame.
/// </summary>
/// <remarks>Layout: version u8 | first vote body | second vote body (see <see cref="SignedVote"/>).</remarks>
public sealed class VoteEquivocationProof : ICanonicalEncodable, ICanonicalDecodable<VoteEquivocationProof>
{
    /// <summary>The format version byte.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Pairs two statements; <see cref="Verify"/> says whether they prove anything.</summary>
    public VoteEquivocationProof(SignedVote first, SignedVote second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        First = first;
        Second = second;
    }

    /// <summary>The statement seen first.</summary>
    public SignedVote First { get; }

    /// <summary>The conflicting statement.</summary>
    public SignedVote Second { get; }

    /// <summary>The server blamed: the signer of <see cref="First"/>.</summary>
    public int Culprit => First.Signer;

    /// <inheritdoc/>
    public int EncodedLength => 1 + First.BodyLength + Second.BodyLength;

    /// <summary>
    /// True when both statements are by the same server in 1..n, for the same round and step,
    /// differ, and both signatures verify in <paramref name="instanceContext"/>.
    /// </summary>
    public bool Verify(ClusterParameters parameters, Func<int, Ed25519PublicKey?> publicKeys, ReadOnlySpan<byte> instanceContext)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(publicKeys);
        return First.SameSlot(Second)
            && !First.SameStatement(Second)
            && First.Verify(parameters, publicKeys, instanceContext)
            && Second.Verify(parameters, publicKeys, instanceContext);
    }

    /// <summary>The one canonical encoding (the alert's evidence).</summary>
    public byte[] Encode() => CanonicalEncoding.Encode(this);

    /// <summary>Decodes a proof from untrusted bytes; never throws on bad data.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out VoteEquivocationProof? proof, out CodecFailure failure) =>
        CanonicalEncoding.TryDecode<VoteEquivocationProof>(encoding, null, out proof, out failure);

    /// <inheritdoc/>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteU8(FormatVersion);
        First.WriteBodyTo(ref writer);
        Second.WriteBodyTo(ref writer);
    }

    /// <summary>Reads a proof; the suite argument is ignored (no group is involved).</summary>
    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out VoteEquivocationProof value)
    {
        value = null;
        var start = reader.Offset;
        if (!reader.TryReadU8(out var version, "version"))
        {
            return false;
        }

        if (version != FormatVersion)
        {
            return reader.Fail(CodecError.WrongVersion, start, "version");
        }

        if (!SignedVote.TryReadBody(ref reader, out var first) || !SignedVote.TryReadBody(ref reader, out var second))
        {
            return false;
        }

        value = new VoteEquivocationProof(first, second);
        return true;
    }
}

using System.Buffers.Binary;
using System.Text;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;

namespace Proactive.Crypto.Dprf;

// References: Naor, Pinkas and Reingold, "Distributed Pseudo-Random Functions and KDCs"
// (EUROCRYPT 1999), the DDH-based DPRF f_x(m) = x*H(m) evaluated from Shamir shares of x;
// Chaum-Pedersen DLEQ proofs (DleqProof.cs); BRIEF section 2 "joint randomness";
// docs/CRYPTO.md for the transcripts and the hash to group per suite.

/// <summary>Why a combination produced no output.</summary>
public enum DprfCombineError
{
    None = 0,

    /// <summary>Fewer than t+1 distinct servers sent a valid partial.</summary>
    NotEnoughValidPartials = 1,
}

/// <summary>The outcome of <see cref="DistributedPrf.Combine"/>: an output or an error, and the culprits either way.</summary>
public sealed class DprfCombineResult
{
    internal DprfCombineResult(DprfOutput? output, DprfCombineError error, IReadOnlyList<int> culprits)
    {
        Output = output;
        Error = error;
        Culprits = culprits;
    }

    public bool Succeeded => Output is not null;

    public DprfOutput? Output { get; }

    public DprfCombineError Error { get; }

    /// <summary>Server indices whose partials failed verification or named an unknown server, ascending.</summary>
    public IReadOnlyList<int> Culprits { get; }
}

/// <summary>
/// The distributed PRF F_x(m) = x * H(m) over a prime-order group, with x Shamir-shared among the
/// servers: server i answers Y_i = x_i * H(m) with a DLEQ proof against its public share X_i; any
/// t+1 valid answers interpolate (in the exponent) to the same Y, whatever subset is used, so a
/// coalition of up to t servers can neither compute nor bias the output (joint randomness).
/// </summary>
public sealed class DistributedPrf
{
    /// <summary>Longest input; inputs are identifiers and contexts, not bulk data.</summary>
    public const int MaxMessageLength = 65536;

    private readonly byte[] _domain;

    /// <param name="group">The group; its suite fixes the hash to group (docs/CRYPTO.md).</param>
    /// <param name="domain">Separates independent PRFs over the same key; default
    /// "proactive-dprf-v1-" + group name. ASCII or UTF-8, 1 to 200 bytes. It is the hash-to-group DST
    /// and prefixes the DLEQ hash DSTs.</param>
    public DistributedPrf(PrimeOrderGroup group, string? domain = null)
    {
        ArgumentNullException.ThrowIfNull(group);
        Group = group;
        Domain = domain ?? "proactive-dprf-v1-" + group.Name;
        _domain = Encoding.UTF8.GetBytes(Domain);
        if (_domain.Length is 0 or > DleqProof.MaxDomainLength)
        {
            throw new ArgumentException($"The domain must have 1 to {DleqProof.MaxDomainLength} bytes.", nameof(domain));
        }
    }

    public PrimeOrderGroup Group { get; }

    public string Domain { get; }

    /// <summary>H(m) = HashToElement(m, DST = domain).</summary>
    public Element HashInput(ReadOnlySpan<byte> message)
    {
        CheckMessage(message);
        return Group.HashToElement(message, _domain);
    }

    /// <summary>
    /// Server <c>share.Index</c>'s partial evaluation Y_i = x_i * H(m) and its DLEQ proof.
    /// The nonce comes from <paramref name="random"/>, hedged with the share.
    /// </summary>
    public DprfPartialEvaluation Evaluate(SecretShare share, ReadOnlySpan<byte> message, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(share);
        ArgumentNullException.ThrowIfNull(random);
        if (share.Group != Group)
        {
            throw new ArgumentException($"The share belongs to {share.Group.Name}, not {Group.Name}.", nameof(share));
        }

        var h = HashInput(message);
        var x = share.Value;
        if (x.IsZero)
        {
            throw new ArgumentException("A zero share cannot evaluate (its public share is the identity).", nameof(share));
        }

        var y = Group.Multiply(h, x);
        var proof = DleqProof.Create(Group, _domain, ProofContext(share.Index, message), x, h, y, random);
        return new DprfPartialEvaluation(Group, share.Index, y, proof);
    }

    /// <summary>
    /// True iff <paramref name="partial"/> is server <c>partial.ServerIndex</c>'s correct answer for
    /// <paramref name="message"/> under public share <paramref name="publicShare"/>. Never throws for a bad partial.
    /// </summary>
    public bool VerifyPartial(Element publicShare, ReadOnlySpan<byte> message, DprfPartialEvaluation partial)
    {
        ArgumentNullException.ThrowIfNull(partial);
        return VerifyPartial(publicShare, message, HashInput(message), partial);
    }

    /// <summary>
    /// Verifies every partial, names the culprits, and interpolates Y from t+1 valid partials of
    /// distinct servers (the lowest indices, so the encoding is deterministic; any t+1 give the same Y).
    /// Structural checks (enough distinct indices at all) come before any proof is checked.
    /// A second partial for an index already accepted is ignored; an invalid one is a culprit.
    /// Throws for a threshold whose t+1 exceeds <see cref="DprfOutput.MaxPartials"/>: such an
    /// output could not be encoded.
    /// </summary>
    public DprfCombineResult Combine(DprfPublicShares publicShares, ReadOnlySpan<byte> message, IEnumerable<DprfPartialEvaluation> partials)
    {
        ArgumentNullException.ThrowIfNull(publicShares);
        ArgumentNullException.ThrowIfNull(partials);
        if (publicShares.Group != Group)
        {
            throw new ArgumentException($"The public shares belong to {publicShares.Group.Name}, not {Group.Name}.", nameof(publicShares));
        }

        var needed = publicShares.Threshold + 1;
        if (needed > DprfOutput.MaxPartials)
        {
            throw new ArgumentException($"Threshold {publicShares.Threshold} needs {needed} partials; an output carries at most {DprfOutput.MaxPartials}.", nameof(publicShares));
        }

        var list = partials.ToList();
        if (list.Where(p => p is not null).Select(p => p.ServerIndex).Distinct().Count() < needed)
        {
            return new DprfCombineResult(null, DprfCombineError.NotEnoughValidPartials, []);
        }

        var h = HashInput(message);
        var culprits = new SortedSet<int>();
        var valid = new SortedDictionary<int, DprfPartialEvaluation>();
        foreach (var partial in list)
        {
            if (partial is null || valid.ContainsKey(partial.ServerIndex))
            {
                continue;
            }

            if (publicShares.TryGet(partial.ServerIndex, out var publicShare) && VerifyPartial(publicShare, message, h, partial))
            {
                valid[partial.ServerIndex] = partial;
            }
            else
            {
                culprits.Add(partial.ServerIndex);
            }
        }

        // An index that sent both a valid and an invalid partial keeps its valid one and stays named.
        if (valid.Count < needed)
        {
            return new DprfCombineResult(null, DprfCombineError.NotEnoughValidPartials, [.. culprits]);
        }

        var chosen = valid.Values.Take(needed).ToArray();
        return new DprfCombineResult(DprfOutput.FromVerifiedPartials(Group, message, chosen), DprfCombineError.None, [.. culprits]);
    }

    /// <summary>
    /// Public verification: the output is for <paramref name="message"/>, carries exactly t+1 partials
    /// of distinct known servers, every DLEQ proof holds, and Y and the value are their interpolation.
    /// Never throws for a bad output.
    /// </summary>
    public bool VerifyOutput(DprfPublicShares publicShares, ReadOnlySpan<byte> message, DprfOutput output)
    {
        ArgumentNullException.ThrowIfNull(publicShares);
        ArgumentNullException.ThrowIfNull(output);
        if (publicShares.Group != Group || output.Group != Group ||
            !output.Message.SequenceEqual(message) ||
            output.Partials.Count != publicShares.Threshold + 1 ||
            output.Partials.Select(p => p.ServerIndex).Distinct().Count() != output.Partials.Count)
        {
            return false;
        }

        var h = HashInput(message);
        foreach (var partial in output.Partials)
        {
            if (!publicShares.TryGet(partial.ServerIndex, out var publicShare) || !VerifyPartial(publicShare, message, h, partial))
            {
                return false;
            }
        }

        // Y is recomputed here, after the cheap count check above, never while decoding: a decoded
        // output's Y takes this value, a combined one must agree with it.
        return output.MatchesInterpolation(DprfOutput.Interpolate(Group, output.Partials));
    }

    private bool VerifyPartial(Element publicShare, ReadOnlySpan<byte> message, Element h, DprfPartialEvaluation partial) =>
        partial.Group == Group && partial.Proof.Group == Group &&
        partial.Proof.Verify(_domain, ProofContext(partial.ServerIndex, message), publicShare, h, partial.Value);

    /// <summary>DLEQ context: I2OSP(server index, 4) || m, binding the proof to the server and the input.</summary>
    private static byte[] ProofContext(int serverIndex, ReadOnlySpan<byte> message)
    {
        var context = new byte[4 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(context, serverIndex);
        message.CopyTo(context.AsSpan(4));
        return context;
    }

    private static void CheckMessage(ReadOnlySpan<byte> message)
    {
        if (message.Length > MaxMessageLength)
        {
            throw new ArgumentException($"DPRF inputs are at most {MaxMessageLength} bytes.", nameof(message));
        }
    }
}

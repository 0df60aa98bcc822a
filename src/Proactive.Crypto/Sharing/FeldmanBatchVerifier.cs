// References: Bellare, Garay, Rabin, "Fast Batch Verification for Modular Exponentiation and Digital
// Signatures", EUROCRYPT 1998 (the small exponents test); seed 002 section 2 "Feldman VSS";
// docs/BRIEF.md section 3 "Refresh at scale".
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;

namespace Proactive.Crypto.Sharing;

/// <summary>Which shares of a batch failed their Feldman check.</summary>
public sealed class FeldmanBatchResult
{
    internal FeldmanBatchResult(int[] invalidPositions) => InvalidPositions = invalidPositions;

    /// <summary>True when every share matched its commitment.</summary>
    public bool AllValid => InvalidPositions.Count == 0;

    /// <summary>Positions (0-based, in the order given) of the shares that do not match, ascending.</summary>
    public IReadOnlyList<int> InvalidPositions { get; }
}

/// <summary>
/// Checks many shares of one server against many dealings at the cost of about one multi-scalar
/// multiplication, instead of one Feldman check per share: with fresh random coefficients r_k,
/// (sum_k r_k s_k) * G == sum_k sum_j r_k i^j C_kj (the small exponents test of Bellare-Garay-Rabin).
/// </summary>
/// <remarks>
/// <para>Soundness. Write each share's error as E_k = s_k G - sum_j i^j C_kj = d_k G. The batch passes
/// iff sum_k r_k d_k = 0 mod q. If some d_k* is nonzero then, for any fixed values of the other
/// coefficients, exactly one residue of r_k* mod q passes; r_k* is uniform over 2^128 values, all
/// distinct mod q (q &gt; 2^252), so a batch containing a wrong share passes with probability at most
/// 2^-128 per check. This needs the coefficients to be unpredictable to whoever chose the shares:
/// use <see cref="SystemRandomSource"/> in production, never a seed the dealer could know.
/// A batch of only correct shares always passes (completeness), so a failing batch proves a culprit.</para>
/// <para>Cost. One call over all m(t+1) points (identities skipped, so refresh dealings contribute t
/// each) with scalars r_k i^j: about 128 + t log2(i) bits, short, which P-256's bucket method turns
/// into roughly 128/c point additions per point. Measured against t+1 separate calls with 128-bit
/// scalars, the single call was faster (m = 10,000, t = 2, P-256). The libsodium groups have no
/// multi-scalar routine, so there the combination would cost more than the single checks, and the
/// verifier checks share by share instead (same results, same culprits).</para>
/// <para>Culprits. A failing batch is split in halves, each checked with fresh coefficients; when the
/// left half passes, the right half is known to fail and is split without being checked; groups of
/// <see cref="SingleCheckThreshold"/> or fewer are checked one share at a time, and only a share
/// that fails its own single check is named, so a culprit is always a proven one.</para>
/// </remarks>
public static class FeldmanBatchVerifier
{
    /// <summary>Bits of each random coefficient r_k: the batch soundness error is 2^-128.</summary>
    public const int CoefficientBits = 128;

    /// <summary>A failing group this small is checked share by share.</summary>
    public const int SingleCheckThreshold = 4;

    /// <summary>
    /// Checks share <paramref name="shareValues"/>[k] of server <paramref name="index"/> against
    /// <paramref name="commitments"/>[k] for every k, and names the shares that fail.
    /// </summary>
    public static FeldmanBatchResult Verify(
        int index, ReadOnlySpan<Scalar> shareValues, IReadOnlyList<FeldmanCommitment> commitments, IRandomSource random)
    {
        var group = ValidateArguments(index, shareValues, commitments, random);
        if (shareValues.IsEmpty)
        {
            return new FeldmanBatchResult([]);
        }

        if (!group.HasFastMultiScalarMultiplication)
        {
            return new FeldmanBatchResult(CheckOneByOne(index, shareValues, commitments).ToArray());
        }

        var batch = new Batch(group, index, shareValues.ToArray(), commitments, random);
        try
        {
            var invalid = new List<int>();
            if (!batch.Check(0, shareValues.Length))
            {
                batch.FindInvalid(0, shareValues.Length, invalid);
            }

            return new FeldmanBatchResult(invalid.ToArray());
        }
        finally
        {
            batch.Wipe();
        }
    }

    /// <summary>True when every share matches (one batch check, soundness error 2^-128); no culprits.</summary>
    public static bool VerifyAll(
        int index, ReadOnlySpan<Scalar> shareValues, IReadOnlyList<FeldmanCommitment> commitments, IRandomSource random)
    {
        var group = ValidateArguments(index, shareValues, commitments, random);
        if (shareValues.IsEmpty)
        {
            return true;
        }

        if (!group.HasFastMultiScalarMultiplication)
        {
            return CheckOneByOne(index, shareValues, commitments).Count == 0;
        }

        var batch = new Batch(group, index, shareValues.ToArray(), commitments, random);
        try
        {
            return batch.Check(0, shareValues.Length);
        }
        finally
        {
            batch.Wipe();
        }
    }

    /// <summary>
    /// Without a fast multi-scalar routine a random linear combination multiplies every committed
    /// point by a random coefficient, which costs more than the single checks it replaces (whose
    /// i^0 term needs no multiplication): there, checking each share is the fast path.
    /// </summary>
    private static List<int> CheckOneByOne(int index, ReadOnlySpan<Scalar> shareValues, IReadOnlyList<FeldmanCommitment> commitments)
    {
        var invalid = new List<int>();
        for (var k = 0; k < shareValues.Length; k++)
        {
            if (!commitments[k].VerifyShare(index, shareValues[k]))
            {
                invalid.Add(k);
            }
        }

        return invalid;
    }

    private static PrimeOrderGroup ValidateArguments(
        int index, ReadOnlySpan<Scalar> shareValues, IReadOnlyList<FeldmanCommitment> commitments, IRandomSource random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        ArgumentNullException.ThrowIfNull(commitments);
        ArgumentNullException.ThrowIfNull(random);
        if (commitments.Count != shareValues.Length)
        {
            throw new ArgumentException("One commitment per share.", nameof(commitments));
        }

        if (commitments.Count == 0)
        {
            return PrimeOrderGroup.Ed25519; // unused: an empty batch does no arithmetic
        }

        var group = commitments[0].Group;
        foreach (var c in commitments)
        {
            ArgumentNullException.ThrowIfNull(c, nameof(commitments));
            c.EnsureSameGroup(group, nameof(commitments));
        }

        return group;
    }

    private sealed class Batch(
        PrimeOrderGroup group, int index, Scalar[] shares, IReadOnlyList<FeldmanCommitment> commitments, IRandomSource random)
    {
        private readonly Scalar[] _powers = PolynomialArithmetic.Powers(
            group, group.FromUInt64((ulong)index), commitments.Max(c => c.Degree) + 1);

        private readonly List<Scalar> _scalars = [];
        private readonly List<Element> _points = [];

        /// <summary>One random-linear-combination check of the shares in [start, start + count).</summary>
        public bool Check(int start, int count)
        {
            if (count == 1)
            {
                return commitments[start].VerifyShare(index, shares[start]);
            }

            _scalars.Clear();
            _points.Clear();
            var combinedShare = group.Zero;
            Span<byte> coefficientBytes = stackalloc byte[CoefficientBits / 8];
            for (var k = start; k < start + count; k++)
            {
                random.Fill(coefficientBytes);
                var r = group.ReduceWide(coefficientBytes); // below 2^128 < q: no reduction happens
                combinedShare = group.Add(combinedShare, group.Multiply(r, shares[k]));
                var c = commitments[k].Coefficients;
                for (var j = 0; j < c.Length; j++)
                {
                    if (!group.IsIdentity(c[j]))
                    {
                        _scalars.Add(j == 0 ? r : group.Multiply(r, _powers[j]));
                        _points.Add(c[j]);
                    }
                }
            }

            // (-sum r_k s_k) G + sum_k sum_j (r_k i^j) C_kj is the identity iff the batch passes.
            var check = group.MultiplyBaseAndMany(
                group.Negate(combinedShare), CollectionsMarshal.AsSpan(_scalars), CollectionsMarshal.AsSpan(_points));
            return group.IsIdentity(check);
        }

        /// <summary>Appends the failing positions of a range known to contain at least one.</summary>
        public void FindInvalid(int start, int count, List<int> invalid)
        {
            if (count <= SingleCheckThreshold)
            {
                // Every culprit is named by its own failed check, never by inference, so an honest
                // dealer is never blamed (even in the 2^-128 event that a batch passed wrongly).
                for (var k = start; k < start + count; k++)
                {
                    if (!commitments[k].VerifyShare(index, shares[k]))
                    {
                        invalid.Add(k);
                    }
                }

                return;
            }

            var leftCount = count / 2;
            var rightStart = start + leftCount;
            var rightCount = count - leftCount;
            if (Check(start, leftCount))
            {
                FindInvalid(rightStart, rightCount, invalid);
                return;
            }

            FindInvalid(start, leftCount, invalid);
            if (!Check(rightStart, rightCount))
            {
                FindInvalid(rightStart, rightCount, invalid);
            }
        }

        public void Wipe() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(shares.AsSpan()));
    }
}

using System.Security.Cryptography;
using Proactive.Crypto.Interop;

namespace Proactive.Crypto.Groups;

/// <summary>Multi-scalar multiplication on P-256: OpenSSL's interleaved EC_POINTs_mul for few
/// points, a bucket (Pippenger) method over native point additions for many.</summary>
internal sealed unsafe partial class P256Group
{
    /// <summary>From this many points on, buckets beat EC_POINTs_mul (measured, docs/BENCHMARKS.md).</summary>
    internal const int BucketMethodThreshold = 48;

    internal override bool HasFastMultiScalarMultiplication => true;

    private Element MultiScalarMultiply(Scalar? baseScalar, ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        return points.Length >= BucketMethodThreshold
            ? BucketMultiply(baseScalar, scalars, points)
            : InterleavedMultiply(baseScalar, scalars, points);
    }

    private Element InterleavedMultiply(Scalar? baseScalar, ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        var s = Current;
        var count = points.Length;
        var nativePoints = new IntPtr[count];
        var nativeScalars = new IntPtr[count];
        var baseBn = IntPtr.Zero;
        try
        {
            for (var i = 0; i < count; i++)
            {
                nativePoints[i] = NewPoint();
                Load(points[i], nativePoints[i], s.Ctx);
                nativeScalars[i] = NewScalar(scalars[i]);
            }

            if (baseScalar is { } a)
            {
                baseBn = NewScalar(a);
            }

            fixed (IntPtr* pp = nativePoints, ps = nativeScalars)
            {
                Check(Libcrypto.EC_POINTs_mul(_group, s.P3, baseBn, (nuint)count, pp, ps, s.Ctx), "EC_POINTs_mul");
            }

            return Store(s.P3, s.Ctx);
        }
        finally
        {
            FreeAll(nativePoints, nativeScalars);
            if (baseBn != IntPtr.Zero)
            {
                Libcrypto.BN_clear_free(baseBn);
            }
        }
    }

    /// <summary>
    /// Pippenger's bucket method: for each window of c bits (most significant first), add each
    /// point into the bucket named by its digit, then sum the buckets with a running sum
    /// (sum of d * B_d using 2 * 2^c additions). Costs about (bits/c) * (N + 2^(c+1)) additions,
    /// and uses only the scalars' real bit length, so short scalars (batch coefficients) are cheaper.
    /// Not constant-time: for public scalars and for random batch coefficients whose values are
    /// never reused (verification, never secret keys).
    /// </summary>
    private Element BucketMultiply(Scalar? baseScalar, ReadOnlySpan<Scalar> scalars, ReadOnlySpan<Element> points)
    {
        var s = Current;
        var count = points.Length;
        var bits = 0;
        for (var i = 0; i < count; i++)
        {
            bits = Math.Max(bits, BitLength(scalars[i].Bytes));
        }

        var window = ChooseWindow(count, bits);
        var bucketCount = (1 << window) - 1;
        var nativePoints = new IntPtr[count];
        var buckets = new IntPtr[bucketCount];
        var accumulator = NewPoint();
        var running = NewPoint();
        var total = NewPoint();
        try
        {
            for (var i = 0; i < count; i++)
            {
                nativePoints[i] = NewPoint();
                Load(points[i], nativePoints[i], s.Ctx);
            }

            for (var b = 0; b < bucketCount; b++)
            {
                buckets[b] = NewPoint();
            }

            Check(Libcrypto.EC_POINT_set_to_infinity(_group, accumulator), "EC_POINT_set_to_infinity");
            var windows = (bits + window - 1) / window;
            for (var w = windows - 1; w >= 0; w--)
            {
                for (var d = 0; d < window; d++)
                {
                    Check(Libcrypto.EC_POINT_dbl(_group, accumulator, accumulator, s.Ctx), "EC_POINT_dbl");
                }

                foreach (var bucket in buckets)
                {
                    Check(Libcrypto.EC_POINT_set_to_infinity(_group, bucket), "EC_POINT_set_to_infinity");
                }

                var usedMax = 0;
                for (var i = 0; i < count; i++)
                {
                    var digit = Digit(scalars[i].Bytes, w * window, window);
                    if (digit != 0)
                    {
                        Check(Libcrypto.EC_POINT_add(_group, buckets[digit - 1], buckets[digit - 1], nativePoints[i], s.Ctx), "EC_POINT_add");
                        usedMax = Math.Max(usedMax, digit);
                    }
                }

                // total = sum over d of d * bucket[d], by running sums from the top bucket down.
                Check(Libcrypto.EC_POINT_set_to_infinity(_group, running), "EC_POINT_set_to_infinity");
                Check(Libcrypto.EC_POINT_set_to_infinity(_group, total), "EC_POINT_set_to_infinity");
                for (var d = usedMax; d >= 1; d--)
                {
                    Check(Libcrypto.EC_POINT_add(_group, running, running, buckets[d - 1], s.Ctx), "EC_POINT_add");
                    Check(Libcrypto.EC_POINT_add(_group, total, total, running, s.Ctx), "EC_POINT_add");
                }

                Check(Libcrypto.EC_POINT_add(_group, accumulator, accumulator, total, s.Ctx), "EC_POINT_add");
            }

            if (baseScalar is { } a && !a.IsZero)
            {
                fixed (byte* pa = a.Bytes)
                {
                    Libcrypto.BN_bin2bn(pa, 32, s.A);
                }

                Check(Libcrypto.EC_POINT_mul(_group, s.P3, s.A, IntPtr.Zero, IntPtr.Zero, s.Ctx), "EC_POINT_mul");
                _ = Libcrypto.BN_set_word(s.A, 0);
                Check(Libcrypto.EC_POINT_add(_group, accumulator, accumulator, s.P3, s.Ctx), "EC_POINT_add");
            }

            return Store(accumulator, s.Ctx);
        }
        finally
        {
            FreeAll(nativePoints, []);
            FreeAll(buckets, []);
            Libcrypto.EC_POINT_free(accumulator);
            Libcrypto.EC_POINT_free(running);
            Libcrypto.EC_POINT_free(total);
        }
    }

    /// <summary>The window minimising (bits/c) * (N + 2^(c+1)).</summary>
    internal static int ChooseWindow(int count, int bits)
    {
        var best = 1;
        var bestCost = double.MaxValue;
        for (var c = 1; c <= 16; c++)
        {
            var cost = Math.Ceiling((double)bits / c) * (count + (2 << c));
            if (cost < bestCost)
            {
                bestCost = cost;
                best = c;
            }
        }

        return best;
    }

    private static int BitLength(ReadOnlySpan<byte> bigEndian)
    {
        var first = bigEndian.IndexOfAnyExcept((byte)0);
        return first < 0 ? 0 : ((31 - first) * 8) + (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)bigEndian[first]));
    }

    /// <summary>Bits [offset, offset+width) of a 256-bit big-endian integer, least significant bit = 0.</summary>
    private static int Digit(ReadOnlySpan<byte> bigEndian, int offset, int width)
    {
        var value = 0;
        for (var k = 0; k < width; k++)
        {
            var bit = offset + k;
            if (bit >= 256)
            {
                break;
            }

            value |= ((bigEndian[31 - (bit >> 3)] >> (bit & 7)) & 1) << k;
        }

        return value;
    }

    private IntPtr NewPoint()
    {
        var p = Libcrypto.EC_POINT_new(_group);
        return p == IntPtr.Zero ? throw new CryptographicException("EC_POINT_new failed.") : p;
    }

    private static IntPtr NewScalar(Scalar k)
    {
        fixed (byte* pk = k.Bytes)
        {
            var bn = Libcrypto.BN_bin2bn(pk, 32, IntPtr.Zero);
            return bn == IntPtr.Zero ? throw new CryptographicException("BN_bin2bn failed.") : bn;
        }
    }

    private static void FreeAll(IntPtr[] points, IntPtr[] scalars)
    {
        foreach (var p in points)
        {
            if (p != IntPtr.Zero)
            {
                Libcrypto.EC_POINT_free(p);
            }
        }

        foreach (var k in scalars)
        {
            if (k != IntPtr.Zero)
            {
                Libcrypto.BN_clear_free(k);
            }
        }
    }
}

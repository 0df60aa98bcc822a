using System.Security.Cryptography;

namespace Proactive.Crypto.Hashing;

/// <summary>
/// <c>expand_message_xmd</c> of RFC 9380 section 5.3.1 over SHA-256 or SHA-512: the hash-to-field
/// building block used by RFC 9591 (P-256 H1..H3) and by our hash-to-group functions.
/// </summary>
public static class ExpandMessageXmd
{
    /// <summary>Longest DST the RFC allows without the oversize-DST hashing step.</summary>
    public const int MaxDstLength = 255;

    /// <summary>Writes <c>expand_message_xmd(msg, dst, destination.Length)</c> into <paramref name="destination"/>.</summary>
    public static void Expand(HashAlgorithmName hash, ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst, Span<byte> destination)
    {
        var (bInBytes, sInBytes) = hash.Name switch
        {
            "SHA256" => (32, 64),
            "SHA512" => (64, 128),
            _ => throw new ArgumentException("expand_message_xmd supports SHA-256 and SHA-512 only.", nameof(hash)),
        };
        if (dst.Length > MaxDstLength)
        {
            throw new ArgumentException($"DST longer than {MaxDstLength} bytes.", nameof(dst));
        }

        var lenInBytes = destination.Length;
        var ell = (lenInBytes + bInBytes - 1) / bInBytes;
        if (ell > 255 || lenInBytes > 65535 || lenInBytes == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), "expand_message_xmd output length out of range.");
        }

        // DST_prime = DST || I2OSP(len(DST), 1)
        Span<byte> dstPrime = stackalloc byte[dst.Length + 1];
        dst.CopyTo(dstPrime);
        dstPrime[^1] = (byte)dst.Length;

        using var h = IncrementalHash.CreateHash(hash);
        // b_0 = H(Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime)
        Span<byte> zPad = stackalloc byte[sInBytes];
        zPad.Clear();
        h.AppendData(zPad);
        h.AppendData(message);
        Span<byte> libStr = [(byte)(lenInBytes >> 8), (byte)lenInBytes, 0];
        h.AppendData(libStr);
        h.AppendData(dstPrime);
        Span<byte> b0 = stackalloc byte[bInBytes];
        h.GetHashAndReset(b0);

        // b_1 = H(b_0 || I2OSP(1, 1) || DST_prime); b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime)
        Span<byte> bi = stackalloc byte[bInBytes];
        Span<byte> mixed = stackalloc byte[bInBytes];
        Span<byte> counter = stackalloc byte[1];
        for (var i = 1; i <= ell; i++)
        {
            if (i == 1)
            {
                b0.CopyTo(mixed);
            }
            else
            {
                for (var k = 0; k < bInBytes; k++)
                {
                    mixed[k] = (byte)(b0[k] ^ bi[k]);
                }
            }

            h.AppendData(mixed);
            counter[0] = (byte)i;
            h.AppendData(counter);
            h.AppendData(dstPrime);
            h.GetHashAndReset(bi);
            var offset = (i - 1) * bInBytes;
            bi[..Math.Min(bInBytes, lenInBytes - offset)].CopyTo(destination[offset..]);
        }

        CryptographicOperations.ZeroMemory(b0);
        CryptographicOperations.ZeroMemory(bi);
        CryptographicOperations.ZeroMemory(mixed);
    }
}

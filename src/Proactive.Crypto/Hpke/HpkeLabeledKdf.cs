// References: RFC 9180 section 4 (LabeledExtract, LabeledExpand), RFC 5869 (HKDF).

using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Proactive.Crypto.Hpke;

/// <summary>
/// RFC 9180's labeled HKDF-SHA256. HKDF itself comes from <see cref="HKDF"/>; only the label framing
/// is ours. Inputs are often secret (the DH output, the shared secret), so every buffer that holds
/// them is wiped before it is released.
/// </summary>
internal static class HpkeLabeledKdf
{
    private const int StackLimit = 256;

    private static ReadOnlySpan<byte> Version => "HPKE-v1"u8;

    /// <summary>
    /// <c>LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm)</c>.
    /// </summary>
    internal static void LabeledExtract(
        ReadOnlySpan<byte> suiteId,
        ReadOnlySpan<byte> salt,
        ReadOnlySpan<byte> label,
        ReadOnlySpan<byte> ikm,
        Span<byte> prk)
    {
        Debug.Assert(prk.Length == HpkeSuite.HashLength);
        var length = Version.Length + suiteId.Length + label.Length + ikm.Length;
        byte[]? rented = null;
        var labeled = length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        labeled = labeled[..length];
        try
        {
            var rest = labeled;
            Append(ref rest, Version);
            Append(ref rest, suiteId);
            Append(ref rest, label);
            Append(ref rest, ikm);
            var written = HKDF.Extract(HashAlgorithmName.SHA256, labeled, salt, prk);
            Debug.Assert(written == HpkeSuite.HashLength);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(labeled);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// <c>LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)</c>.
    /// </summary>
    internal static void LabeledExpand(
        ReadOnlySpan<byte> suiteId,
        ReadOnlySpan<byte> prk,
        ReadOnlySpan<byte> label,
        ReadOnlySpan<byte> info,
        Span<byte> output)
    {
        Debug.Assert(output.Length is > 0 and <= HpkeSuite.MaxExportLength);
        var length = 2 + Version.Length + suiteId.Length + label.Length + info.Length;
        byte[]? rented = null;
        var labeled = length <= StackLimit
            ? stackalloc byte[StackLimit]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        labeled = labeled[..length];
        try
        {
            BinaryPrimitives.WriteUInt16BigEndian(labeled, (ushort)output.Length);
            var rest = labeled[2..];
            Append(ref rest, Version);
            Append(ref rest, suiteId);
            Append(ref rest, label);
            Append(ref rest, info);
            HKDF.Expand(HashAlgorithmName.SHA256, prk, output, labeled);
        }
        finally
        {
            // The info of a KEM expansion (kem_context) is public, but wiping is cheap and uniform.
            CryptographicOperations.ZeroMemory(labeled);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    private static void Append(ref Span<byte> destination, ReadOnlySpan<byte> part)
    {
        part.CopyTo(destination);
        destination = destination[part.Length..];
    }
}

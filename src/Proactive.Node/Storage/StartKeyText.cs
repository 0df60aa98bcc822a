using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Signing;

namespace Proactive.Node.Storage;

/// <summary>
/// How V_start is written wherever a person handles it (ROM file, <c>proactive provision</c> output,
/// <c>--server I=HOST:PORT:VSTART</c>, the cluster configuration): 64 lowercase hex digits. Hex rather
/// than base64url because it has no '-' or '_' (a double click selects all of it, and it never looks
/// like an option), it matches how the other CLI commands print keys, and case does not matter on input.
/// </summary>
public static class StartKeyText
{
    /// <summary>Number of characters of an encoded key.</summary>
    public const int Length = Ed25519PublicKey.Length * 2;

    public static string Format(Ed25519PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(key.Bytes);
    }

    /// <summary>False for a wrong length, a non-hex character or bytes that are not a valid Ed25519 public key.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Ed25519PublicKey? key)
    {
        key = null;
        if (text is null || text.Length != Length)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Ed25519PublicKey.Length];
        return Convert.FromHexString(text, bytes, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == bytes.Length
            && Ed25519PublicKey.TryDecode(bytes, out key);
    }
}

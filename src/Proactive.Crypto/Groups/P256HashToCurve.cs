namespace Proactive.Crypto.Groups;

/// <summary>RFC 9380 P256_XMD:SHA-256_SSWU_RO_ (being written).</summary>
internal static class P256HashToCurve
{
    internal static Element Hash(P256Group group, ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst) =>
        throw new NotSupportedException("P-256 hash to curve is not written yet.");
}

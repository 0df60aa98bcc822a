using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Secrets;

/// <summary>
/// A secret scalar (a key, a share, a nonce, a polynomial coefficient) in memory that this object
/// owns: pinned so the GC never leaves copies behind, wiped on <see cref="Dispose"/> (and by the
/// finalizer if a caller forgets). <see cref="ToString"/> prints <c>&lt;redacted&gt;</c>.
/// </summary>
/// <remarks>
/// Security: never log, serialize by accident, or keep the <see cref="Scalar"/> copies that
/// <see cref="Value"/> hands out longer than one computation.
/// </remarks>
public sealed class SecretScalar : IDisposable
{
    private readonly byte[] _bytes;
    private bool _disposed;

    public SecretScalar(PrimeOrderGroup group, Scalar value)
    {
        Group = group;
        _bytes = GC.AllocateArray<byte>(ScalarBytes.Length, pinned: true);
        value.Bytes.CopyTo(_bytes);
    }

    ~SecretScalar() => Wipe();

    public PrimeOrderGroup Group { get; }

    /// <summary>The value, as a transient copy for arithmetic.</summary>
    public Scalar Value
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new Scalar(_bytes);
        }
    }

    /// <summary>Draws a uniform nonzero secret scalar.</summary>
    public static SecretScalar Random(PrimeOrderGroup group, Random.IRandomSource random) =>
        new(group, group.RandomNonzeroScalar(random));

    /// <summary>Decodes a canonical scalar; false for any malformed input.</summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, out SecretScalar? secret)
    {
        if (!group.TryDecodeScalar(encoding, out var value))
        {
            secret = null;
            return false;
        }

        secret = new SecretScalar(group, value);
        return true;
    }

    /// <summary>Writes the canonical encoding into a caller's buffer (which the caller must wipe).</summary>
    public void WriteTo(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Group.EncodeScalar(new Scalar(_bytes), destination);
    }

    /// <summary>Constant-time comparison.</summary>
    public bool ValueEquals(SecretScalar other)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Group == other.Group && CryptographicOperations.FixedTimeEquals(_bytes, other._bytes);
    }

    public override string ToString() => "<redacted>";

    public void Dispose()
    {
        Wipe();
        _disposed = true;
        GC.SuppressFinalize(this);
    }

    private void Wipe() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_bytes.AsSpan()));
}

// References: docs/BRIEF.md section 3 "Refresh at scale: design notes" (a salted digest of each
// server's share vector, recorded in the period root the network threshold-signs);
// docs/PROTOCOLS.md "Refresh", "What the digest protects".
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;

namespace Proactive.Protocols.Refresh;

/// <summary>
/// A public, salted SHA-256 digest of one server's whole share vector. Stored data keys have no
/// Feldman commitments (millions of them would not fit in the public record), so this digest is
/// how a server notices that its disk corrupted or lost its shares, and how a recovering server
/// checks what its helpers gave it. The salt is fresh for every vector: two equal vectors (or a
/// vector guessed from partial knowledge) never give a digest one could precompute.
/// </summary>
/// <remarks>
/// <para>Digest = SHA-256("proactive/share-vector-digest/v1" || suite || u16 index || salt || u32 m || s_0 .. s_{m-1}).</para>
/// <para>Wire format, version 1: u8 version, u8 suite, u16 index, 32-byte salt, 32-byte digest.</para>
/// </remarks>
public sealed class ShareVectorDigest : IEquatable<ShareVectorDigest>
{
    /// <summary>The format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Bytes of the salt and of the digest.</summary>
    public const int Length = 32;

    private static readonly byte[] Domain = "proactive/share-vector-digest/v1"u8.ToArray();

    private readonly byte[] _salt;
    private readonly byte[] _hash;

    private ShareVectorDigest(GroupId suite, int index, byte[] salt, byte[] hash)
    {
        Suite = suite;
        Index = index;
        _salt = salt;
        _hash = hash;
    }

    /// <summary>The group of the shares.</summary>
    public GroupId Suite { get; }

    /// <summary>The server whose vector this digests.</summary>
    public int Index { get; }

    /// <summary>The public salt.</summary>
    public ReadOnlySpan<byte> Salt => _salt;

    /// <summary>The digest.</summary>
    public ReadOnlySpan<byte> Hash => _hash;

    /// <summary>Digests <paramref name="vector"/> under a fresh salt drawn from <paramref name="random"/>.</summary>
    public static ShareVectorDigest Compute(ShareVector vector, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(random);
        var salt = new byte[Length];
        random.Fill(salt);
        return new ShareVectorDigest(vector.Group.Id, vector.Index, salt, HashOf(vector.Group, vector.Index, salt, vector.Values));
    }

    /// <summary>True when <paramref name="vector"/> is exactly the digested one (constant-time comparison).</summary>
    public bool Matches(ShareVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return Matches(vector.Group, vector.Index, vector.Values);
    }

    /// <summary>As <see cref="Matches(ShareVector)"/>, for shares not yet wrapped in a vector.</summary>
    public bool Matches(PrimeOrderGroup group, int index, ReadOnlySpan<Scalar> shares)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Id == Suite && index == Index
            && CryptographicOperations.FixedTimeEquals(HashOf(group, index, _salt, shares), _hash);
    }

    /// <summary>The canonical encoding.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[CanonicalWriter.HeaderSize + 2 + (2 * Length)];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, Suite);
        writer.WriteU16((ushort)Index);
        writer.WriteFixedBytes(_salt);
        writer.WriteFixedBytes(_hash);
        return bytes;
    }

    /// <summary>Decodes; never throws on bad data.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, [NotNullWhen(true)] out ShareVectorDigest? digest)
    {
        digest = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, null, out var group)
            || !reader.TryReadU16(out var index, "index")
            || index == 0
            || !reader.TryReadFixedBytes(Length, out var salt, "salt"))
        {
            return false;
        }

        var saltCopy = salt.ToArray();
        if (!reader.TryReadFixedBytes(Length, out var hash, "digest") || !reader.TryReadEnd())
        {
            return false;
        }

        digest = new ShareVectorDigest(group.Id, index, saltCopy, hash.ToArray());
        return true;
    }

    public bool Equals(ShareVectorDigest? other) =>
        other is not null && other.Suite == Suite && other.Index == Index
        && _salt.AsSpan().SequenceEqual(other._salt) && _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => Equals(obj as ShareVectorDigest);

    public override int GetHashCode() => HashCode.Combine(Suite, Index, BitConverter.ToInt32(_hash, 0));

    public override string ToString() => $"ShareVectorDigest(server {Index}, {Convert.ToHexString(_hash, 0, 8)}...)";

    private static byte[] HashOf(PrimeOrderGroup group, int index, ReadOnlySpan<byte> salt, ReadOnlySpan<Scalar> shares)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Domain);
        Span<byte> header = stackalloc byte[7];
        header[0] = (byte)group.Id;
        header[1] = (byte)(index >> 8);
        header[2] = (byte)index;
        header[3] = (byte)(shares.Length >> 24);
        header[4] = (byte)(shares.Length >> 16);
        header[5] = (byte)(shares.Length >> 8);
        header[6] = (byte)shares.Length;
        hash.AppendData(header[..3]);
        hash.AppendData(salt);
        hash.AppendData(header[3..]);
        Span<byte> scalar = stackalloc byte[group.ScalarLength];
        try
        {
            foreach (var s in shares)
            {
                group.EncodeScalar(s, scalar);
                hash.AppendData(scalar);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scalar);
        }

        return hash.GetHashAndReset();
    }
}

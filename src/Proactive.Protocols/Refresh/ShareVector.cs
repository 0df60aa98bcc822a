// References: seed 002 (Numao, IBM RT0280) section 2 "Share Update" and section 3 (multiple secrets,
// Franklin-Yung); docs/BRIEF.md section 3 "Refresh" and "Refresh at scale"; docs/PROTOCOLS.md "Refresh".
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;

namespace Proactive.Protocols.Refresh;

/// <summary>
/// One server's shares of every long-lived secret of the network: s_k for k = 0..m-1, where the
/// first <see cref="RefreshPublicState.SigningKeyCount"/> are signing keys (full Feldman commitments)
/// and the rest stored data keys (only a salted digest). Owns pinned memory, wiped on dispose.
/// </summary>
/// <remarks>
/// <para>Persistence format, version 1 (it is secret: written only to the server's own store):</para>
/// <code>
/// u8   version = 1
/// u8   suite (GroupId)
/// u16  server index
/// u32  count m (1..MaxSecrets)
/// m x  scalar
/// </code>
/// </remarks>
public sealed class ShareVector : IDisposable
{
    /// <summary>The format version of the persisted vector.</summary>
    public const byte FormatVersion = 1;

    /// <summary>
    /// Most secrets one vector (and so one refresh) covers: 2^22, about four million stored keys
    /// (128 MiB of sub-shares per dealing message); a bound on what a peer can make us allocate.
    /// </summary>
    public const int MaxSecrets = 1 << 22;

    private readonly Scalar[] _values;
    private bool _disposed;

    /// <summary>Copies <paramref name="values"/> (s_0..s_{m-1}) into owned pinned memory.</summary>
    public ShareVector(PrimeOrderGroup group, int index, ReadOnlySpan<Scalar> values)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, ushort.MaxValue);
        if (values.IsEmpty || values.Length > MaxSecrets)
        {
            throw new ArgumentException($"A share vector holds 1 to {MaxSecrets} shares.", nameof(values));
        }

        Group = group;
        Index = index;
        _values = GC.AllocateArray<Scalar>(values.Length, pinned: true);
        values.CopyTo(_values);
    }

    private ShareVector(PrimeOrderGroup group, int index, Scalar[] owned)
    {
        Group = group;
        Index = index;
        _values = owned;
    }

    ~ShareVector() => Wipe();

    /// <summary>The group the secrets live in.</summary>
    public PrimeOrderGroup Group { get; }

    /// <summary>The server whose shares these are: the x at which every sharing polynomial was evaluated.</summary>
    public int Index { get; }

    /// <summary>m: how many secrets.</summary>
    public int Count => _values.Length;

    /// <summary>The shares, without copying. Secret: never log or send them.</summary>
    public ReadOnlySpan<Scalar> Values
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _values;
        }
    }

    /// <summary>s_k.</summary>
    public Scalar this[int secret] => Values[secret];

    /// <summary>The persistence encoding. It holds the secret shares: the caller wipes it after use.</summary>
    public byte[] Encode()
    {
        var values = Values;
        var bytes = new byte[CanonicalWriter.HeaderSize + 2 + CanonicalWriter.CountPrefixSize + (values.Length * Group.ScalarLength)];
        var writer = new CanonicalWriter(bytes);
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteU16((ushort)Index);
        writer.WriteCount(values.Length, MaxSecrets);
        foreach (var v in values)
        {
            writer.WriteScalar(Group, v);
        }

        return bytes;
    }

    /// <summary>Reads a persisted vector (a disk is untrusted: never throws on bad bytes).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, PrimeOrderGroup? expectedSuite, [NotNullWhen(true)] out ShareVector? vector)
    {
        vector = null;
        var reader = new CanonicalReader(encoding);
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            || !reader.TryReadU16(out var index, "index")
            || index == 0
            || !reader.TryReadCount(MaxSecrets, group.ScalarLength, out var count, "count")
            || count == 0)
        {
            return false;
        }

        var values = GC.AllocateArray<Scalar>(count, pinned: true);
        for (var k = 0; k < count; k++)
        {
            if (!reader.TryReadScalar(group, out values[k], "share"))
            {
                CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(values.AsSpan()));
                return false;
            }
        }

        if (!reader.TryReadEnd())
        {
            CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(values.AsSpan()));
            return false;
        }

        vector = new ShareVector(group, index, values);
        return true;
    }

    /// <summary>Takes ownership of pinned memory the caller allocated (internal: the machines build new vectors in place).</summary>
    internal static ShareVector Own(PrimeOrderGroup group, int index, Scalar[] pinnedValues) => new(group, index, pinnedValues);

    /// <summary>Constant-time comparison of the shares (tests and recovery checks).</summary>
    public bool ValueEquals(ShareVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other.Group.Id == Group.Id && other.Index == Index
            && CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(Values), MemoryMarshal.AsBytes(other.Values));
    }

    public override string ToString() => $"ShareVector(server {Index}, {_values.Length} shares, <redacted>)";

    public void Dispose()
    {
        Wipe();
        _disposed = true;
        GC.SuppressFinalize(this);
    }

    private void Wipe() => CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_values.AsSpan()));
}

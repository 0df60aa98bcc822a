// References: toolkit (seed 001) section 5.3 (GetTime(): "returns a vector with the local time at each
// proactive server"); docs/API.md "GET /v1/time".
using System.Buffers.Binary;
using Proactive.Protocols.Envelopes;

namespace Proactive.Protocols.Services;

/// <summary>
/// What a server signs when it tells an application its local time: the exact bytes, shared by the
/// server and the client SDK. Signed with the server's Ed25519 period key V_i(p), which the period
/// certificate of p lists under the network key, so anyone holding the network key can check who said
/// what time, and when (in which period).
/// </summary>
/// <remarks>
/// <para>Layout, version 1 (<see cref="Length"/> = 74 bytes, every field fixed-length so the bytes parse
/// one way only):</para>
/// <code>
/// "proactive-signed-time-v1"  24 bytes ASCII: the domain label and version
/// network id                  16 bytes
/// server id                   u16 big-endian
/// period                      u64 big-endian (the period of the signing key)
/// unix time                   i64 big-endian, milliseconds
/// nonce                       16 bytes: the request's Proactive-Nonce
/// </code>
/// <para>The label keeps the signature from being read as anything else a period key signs (envelopes,
/// KeyTable entries, votes use other labels). The nonce is the requester's fresh randomness: the
/// answer is provably made after the request, so an old signed time cannot be passed off as new.</para>
/// </remarks>
public static class SignedTime
{
    /// <summary>The domain label, first in the signed bytes.</summary>
    public const string Label = "proactive-signed-time-v1";

    /// <summary>Bytes of the nonce field.</summary>
    public const int NonceLength = ApplicationRequestSigning.NonceLength;

    /// <summary>Bytes of the signed statement.</summary>
    public const int Length = 24 + NetworkId.Length + 2 + 8 + 8 + NonceLength;

    private static ReadOnlySpan<byte> LabelBytes => "proactive-signed-time-v1"u8;

    /// <summary>The bytes server <paramref name="server"/> signs (see the remarks).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="server"/> is not 1..65535.</exception>
    /// <exception cref="ArgumentException"><paramref name="nonce"/> is not 16 bytes.</exception>
    public static byte[] Statement(NetworkId network, int server, ulong period, long unixMilliseconds, ReadOnlySpan<byte> nonce)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(server, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(server, ushort.MaxValue);
        if (nonce.Length != NonceLength)
        {
            throw new ArgumentException($"The nonce is {NonceLength} bytes.", nameof(nonce));
        }

        var bytes = new byte[Length];
        var span = bytes.AsSpan();
        LabelBytes.CopyTo(span);
        span = span[LabelBytes.Length..];
        network.WriteTo(span[..NetworkId.Length]);
        span = span[NetworkId.Length..];
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)server);
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], period);
        BinaryPrimitives.WriteInt64BigEndian(span[10..], unixMilliseconds);
        nonce.CopyTo(span[18..]);
        return bytes;
    }
}

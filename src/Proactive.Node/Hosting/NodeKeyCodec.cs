// References: docs/NODE.md "Period keys" (what a server keeps of its own keys, private, until the period is over).
using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Signing;
using Proactive.Node.Transport;
using Proactive.Protocols.Envelopes;

namespace Proactive.Node.Hosting;

/// <summary>
/// The stored form of a server's own period keys (<see cref="NodeKeySpace.OwnPeriodKeys"/>: Ed25519
/// seed || X25519 secret) and TLS certificate (<see cref="NodeKeySpace.OwnTlsCertificate"/>: u32 DER
/// length || DER || PKCS#8 key). Private data: erased when the period is over.
/// </summary>
public static class NodeKeyCodec
{
    /// <summary>The stored bytes of <paramref name="keys"/> (SECRET: the caller wipes them).</summary>
    public static byte[] EncodeOwnKeys(PeriodKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var bytes = new byte[Ed25519PrivateKey.SeedLength + HpkeSuite.PrivateKeyLength];
        keys.Signing.WriteSeedTo(bytes.AsSpan(0, Ed25519PrivateKey.SeedLength));
        keys.Encryption.WriteTo(bytes.AsSpan(Ed25519PrivateKey.SeedLength));
        return bytes;
    }

    /// <summary>Reads stored own keys of <paramref name="server"/> for <paramref name="period"/>; false for anything malformed.</summary>
    public static bool TryDecodeOwnKeys(ReadOnlySpan<byte> bytes, int server, ulong period, [NotNullWhen(true)] out PeriodKeys? keys)
    {
        keys = null;
        if (bytes.Length != Ed25519PrivateKey.SeedLength + HpkeSuite.PrivateKeyLength
            || !HpkePrivateKey.TryImport(bytes[Ed25519PrivateKey.SeedLength..], out var encryption))
        {
            return false;
        }

        keys = PeriodKeys.FromKeys(server, period, Ed25519PrivateKey.FromSeed(bytes[..Ed25519PrivateKey.SeedLength]), encryption);
        return true;
    }

    /// <summary>The stored bytes of a TLS certificate and its key (SECRET).</summary>
    public static byte[] EncodeTls(PeerCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var der = certificate.ExportCertificate();
        var key = ArrayPool<byte>.Shared.Rent(PeerCertificate.PrivateKeyBufferLength);
        try
        {
            if (!certificate.TryExportPrivateKey(key, out var written))
            {
                throw new InvalidOperationException("The TLS key did not export.");
            }

            var bytes = new byte[4 + der.Length + written];
            BinaryPrimitives.WriteInt32BigEndian(bytes, der.Length);
            der.CopyTo(bytes, 4);
            key.AsSpan(0, written).CopyTo(bytes.AsSpan(4 + der.Length));
            return bytes;
        }
        finally
        {
            key.AsSpan().Clear();
            ArrayPool<byte>.Shared.Return(key);
        }
    }

    /// <summary>Reads a stored TLS certificate of <paramref name="period"/>; false for anything malformed.</summary>
    public static bool TryDecodeTls(ReadOnlySpan<byte> bytes, ulong period, [NotNullWhen(true)] out PeerCertificate? certificate)
    {
        certificate = null;
        if (bytes.Length < 4)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(bytes);
        return length > 0 && length <= bytes.Length - 4
            && PeerCertificate.TryImport(bytes.Slice(4, length), bytes[(4 + length)..], period, out certificate);
    }
}

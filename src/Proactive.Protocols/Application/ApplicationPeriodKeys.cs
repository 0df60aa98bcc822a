// References: toolkit (seed 001) section 5.4 ("Proactive Keys": refreshed keys supplied to the application
// together with a certificate, signed by the proactive key of the Pservers, which certifies the public key
// of period t, (K, t)); docs/PROTOCOLS.md "Application period keys".
using System.Buffers.Binary;
using System.Text;
using Proactive.Protocols.Envelopes;

namespace Proactive.Protocols.Application;

/// <summary>
/// The statement the network signs with its own key (S_cert) to certify an application instance's key of
/// one period: (K, t) bound to the network, the application and the instance. An instance makes a new key
/// pair every period and has it certified; a peer that holds the network key checks the certificate
/// offline, and a key stolen in one period is worthless for impersonation in the next.
/// </summary>
/// <remarks>
/// Layout: "proactive-app-period-key-v1" || 16-byte network id || 16-byte application id || u16 instance ||
/// u64 period || 32-byte key. Fixed length after the label, so it parses one way only; the label keeps it
/// apart from every other statement the network key signs (period roots, M).
/// </remarks>
public static class ApplicationPeriodKeys
{
    /// <summary>The route an instance asks for a certificate on.</summary>
    public const string Path = "/v1/period-keys";

    /// <summary>Length of a certified key (Ed25519 or X25519 public key).</summary>
    public const int KeyLength = 32;

    private static readonly byte[] Label = "proactive-app-period-key-v1"u8.ToArray();

    /// <summary>The signed statement.</summary>
    public static byte[] Statement(NetworkId network, ReadOnlySpan<byte> applicationId, int instance, ulong period, ReadOnlySpan<byte> key)
    {
        if (applicationId.Length != ApplicationRecord.IdLength || key.Length != KeyLength || instance is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentException("An application id is 16 bytes, a key 32, an instance 0..65535.");
        }

        var statement = new byte[Label.Length + NetworkId.Length + ApplicationRecord.IdLength + 2 + 8 + KeyLength];
        var span = statement.AsSpan();
        Label.CopyTo(span);
        span = span[Label.Length..];
        network.WriteTo(span[..NetworkId.Length]);
        span = span[NetworkId.Length..];
        applicationId.CopyTo(span);
        span = span[ApplicationRecord.IdLength..];
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)instance);
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], period);
        key.CopyTo(span[10..]);
        return statement;
    }

    /// <summary>Reads the request body { "publicKey": hex, "period": number }; false when it is not one.</summary>
    public static bool TryParseRequest(ReadOnlySpan<byte> body, out byte[] key, out ulong period)
    {
        key = [];
        period = 0;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body.ToArray());
            var reader = new RequestReader(json.RootElement, "publicKey", "period");
            key = reader.Hex("publicKey", KeyLength);
            period = reader.OptionalNumber("period") ?? throw new RequestShapeException("'period' is required.");
            return true;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or RequestShapeException)
        {
            return false;
        }
    }

    /// <summary>Describes the statement for logs and errors.</summary>
    public static string Describe(ReadOnlySpan<byte> applicationId, int instance, ulong period) =>
        new StringBuilder().Append("key of instance ").Append(instance).Append(" of application ").Append(Convert.ToHexStringLower(applicationId)).Append(" for period ").Append(period).ToString();
}

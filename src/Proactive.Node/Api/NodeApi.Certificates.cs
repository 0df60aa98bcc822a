// References: toolkit (seed 001) section 5.1, option 2 and Figure 3 (each instance presents its one-time
// certificate to its own server, Pserver_i); docs/API.md "Registration by certificate"; docs/PROTOCOLS.md
// "Registration by certificate".
using System.Text.Json;
using Proactive.Protocols.Application;

namespace Proactive.Node.Api;

/// <summary>
/// Registration by certificate at the API: the certificate names the server its instance registers at, and
/// this server refuses one that names another (the client asked the wrong server; toolkit 5.1 has
/// Client_i register at Pserver_i). Everything else about the certificate (its CA, signature, validity,
/// serial, and that it fits the request) is judged by the ledger, the same at every server.
/// </summary>
public sealed partial class NodeApi
{
    /// <summary>The refusals of a registration by certificate.</summary>
    private static readonly ProblemKind[] CertificateProblems =
    [
        ApiProblems.BadCertificate, ApiProblems.CertificateMismatch, ApiProblems.CertificateExpired, ApiProblems.CertificateNotYetValid,
        ApiProblems.WrongCertificateAuthority, ApiProblems.CertificateUsed, ApiProblems.WrongRegistrationKind,
    ];

    private Task ServeRegisterAsync(ApiRequest request)
    {
        if (CertifiedServer(request.Body.Span) is { } server && server != _status().ServerId)
        {
            return ApiProblems.WriteAsync(request.Http, ApiProblems.CertificateMismatch,
                $"The certificate registers its instance at server {server}, not at this one ({_status().ServerId}): present it there.");
        }

        return ServeSubmitAsync(request);
    }

    /// <summary>The server a registration's certificate names; null when the body has no certificate that decodes (the ledger says what is wrong with it).</summary>
    private static int? CertifiedServer(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("certificate", out var text) && text.ValueKind == JsonValueKind.String
                && TryParseHex(text.GetString()!, ApplicationCertificate.MaxEncodedLength, out var bytes) && ApplicationCertificate.TryDecode(bytes, out var certificate)
                ? certificate.ServerId
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

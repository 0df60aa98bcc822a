// References: toolkit (seed 001) section 5.4 ("Proactively secure communication links": the servers
// already keep proactively secured channels among themselves and offer them to applications, whose
// instances register at their servers and use send/receive); docs/PROTOCOLS.md "Application links".
using System.Text.Json;
using Proactive.Protocols.Application;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Controller;

/// <summary>A relayed message for an instance of an application at this server (the driver keeps it until the instance fetches it).</summary>
public sealed record LinkMessageArrived(InstanceId Instance, byte[] RequestId, string ApplicationIdHex, int From, int To, ulong SentAt, byte[] Payload) : ProtocolEvent;

/// <summary>
/// Links between the instances of a distributed application, relayed over the servers' own channels:
/// instance i's server forwards i's signed send request, confidentially (HPKE to the recipient server's
/// period key, signed with the sender server's), to the server of the recipient instance, which checks the
/// client's signature itself before it delivers: no server on the way can forge, alter or redirect a
/// message. Delivery is like a network link's: at most once, kept in memory until fetched, not stored.
/// </summary>
public sealed partial class ServerController
{
    /// <summary>The relay's round on the submission channel.</summary>
    public const byte LinkRound = 3;

    /// <summary>Largest payload of one relayed message.</summary>
    public const int MaxLinkPayload = 64 * 1024;

    private const byte LinkMessageType = 1;

    /// <summary>
    /// Relays an instance's send request (POST /v1/links/messages { to, payload }) to the recipient
    /// instance's server, or delivers it here when the recipient runs at this server. False (with the
    /// reason) for a request that is not authentic or not a link message of a distributed application.
    /// </summary>
    public ControllerStep RelayLinkMessage(ProtocolContext context, SignedRequest request, out string problem)
    {
        CheckContext(context);
        ArgumentNullException.ThrowIfNull(request);
        var step = new ControllerStep();
        if (!TryReadLinkMessage(request, out var app, out var from, out var to, out var payload, out problem))
        {
            return step;
        }

        var outbox = new Outbox();
        if (to == Self)
        {
            outbox.Emit(new LinkMessageArrived(LedgerSubmissions(CurrentPeriod), request.Id, app, from, to, request.Timestamp, payload));
        }
        else
        {
            outbox.Send(to, 0, LinkRound, LinkMessageType, request.Encode(), confidential: true);
        }

        step.Add(LedgerSubmissions(CurrentPeriod), outbox);
        return step;
    }

    private void ReceiveLinkMessage(InboundMessage message, ControllerStep step)
    {
        var outbox = new Outbox();
        if (message.Type != LinkMessageType || !message.Confidential || !SignedRequest.TryDecode(message.Payload.Span, out var request))
        {
            outbox.Emit(new Alert(AlertType.MalformedMessage, message.Sender, CurrentPeriod, LedgerSubmissions(CurrentPeriod), "an undecodable relayed link message", message.Signed.ToArray()));
        }
        else if (TryReadLinkMessage(request, out var app, out var from, out var to, out var payload, out _) && to == Self)
        {
            // Any server may relay it (the client's signature is the proof); the driver drops copies by request id.
            outbox.Emit(new LinkMessageArrived(LedgerSubmissions(CurrentPeriod), request.Id, app, from, to, request.Timestamp, payload));
        }

        step.Add(LedgerSubmissions(CurrentPeriod), outbox);
    }

    private bool TryReadLinkMessage(SignedRequest request, out string app, out int from, out int to, out byte[] payload, out string problem)
    {
        app = string.Empty;
        from = to = 0;
        payload = [];
        if (request.Method != "POST" || request.PathAndQuery != "/v1/links/messages" || LedgerContextOf(CurrentPeriod) is not { } context)
        {
            problem = "not a link message";
            return false;
        }

        if (!_ledger.State.CheckAuthentic(request, context.NetworkHex) || !Handles.TryParse(request.Handle, out var appHex, out from)
            || _ledger.State.Application(appHex) is not { } record)
        {
            problem = "the request is not signed by a registered instance";
            return false;
        }

        if (record.Kind == ApplicationKind.Centralized)
        {
            problem = "a centralized application has one instance: there is nobody to link to";
            return false;
        }

        try
        {
            using var body = JsonDocument.Parse(request.Body);
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Count() != 2
                || !root.TryGetProperty("to", out var toElement) || !toElement.TryGetInt32(out to)
                || !root.TryGetProperty("payload", out var payloadElement) || payloadElement.ValueKind != JsonValueKind.String
                || !payloadElement.TryGetBytesFromBase64(out var bytes) || bytes.Length > MaxLinkPayload)
            {
                problem = $"the body is {{ \"to\": an instance 1..n, \"payload\": base64 of at most {MaxLinkPayload} bytes }}";
                return false;
            }

            payload = bytes;
        }
        catch (JsonException)
        {
            problem = "the body is not valid JSON";
            return false;
        }

        if (to < 1 || to > _parameters.ServerCount || !record.Instances.ContainsKey(to))
        {
            problem = $"instance {to} of the application is not registered";
            return false;
        }

        app = appHex;
        problem = string.Empty;
        return true;
    }
}

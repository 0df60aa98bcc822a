// References: docs/API.md "Applications"; docs/PROTOCOLS.md "Application ledger".
using Proactive.Protocols.Application;

namespace Proactive.Node.Api;

/// <summary>What the API's application routes ask of the node (it runs them on its loop).</summary>
public interface IApplicationGateway
{
    /// <summary>The network id in lowercase hex (requests are signed for it).</summary>
    string NetworkHex { get; }

    /// <summary>The server that leads round 0 of the next ledger instance, as this server last saw (0: unknown); a hint for clients, any thread.</summary>
    int NextLedgerProposer { get; }

    /// <summary>
    /// Puts a client's signed request to the network and waits until it is agreed and applied here
    /// (durably) or the wait ends; the answer is what applying it gave.
    /// </summary>
    /// <exception cref="NodeUnavailableException">This server cannot take requests now (not operational, its ledger behind, its pool full).</exception>
    Task<ApplyResult> SubmitAsync(SignedRequest request, CancellationToken cancellationToken);

    /// <summary>Reads the caller's own entry <paramref name="dataId"/> (an authenticated caller: <paramref name="instance"/>).</summary>
    Task<ApplyResult> ReadDataAsync(ApplicationInstance instance, string dataId, CancellationToken cancellationToken);

    /// <summary>Keeps this server's share of the caller's dealing <paramref name="dealing"/>, sealed to this server's key of <paramref name="period"/>.</summary>
    Task<ApplyResult> AcceptDealtShareAsync(ApplicationInstance instance, byte[] dealing, ulong period, byte[] sealedShare, CancellationToken cancellationToken);

    /// <summary>Keeps many of this server's dealt shares at once (bulk import), sealed together to this server's key of <paramref name="period"/>.</summary>
    Task<ApplyResult> AcceptDealtSharesAsync(ApplicationInstance instance, ulong period, byte[] sealedShares, CancellationToken cancellationToken);

    /// <summary>This server's share of the caller's secret <paramref name="dataId"/>, sealed to the caller's one-time X25519 key <paramref name="recipient"/>.</summary>
    Task<ApplyResult> ReadShareAsync(ApplicationInstance instance, string dataId, byte[] recipient, CancellationToken cancellationToken);

    /// <summary>The key clients seal dealt shares to: this server's encryption key of the current period.</summary>
    Task<ApplyResult> DealingKeyAsync(CancellationToken cancellationToken);

    /// <summary>GenerateKey: puts the request to the ledger, then waits for the key's DKG to complete here; the answer names the public key.</summary>
    Task<ApplyResult> GenerateKeyAsync(SignedRequest request, CancellationToken cancellationToken);

    /// <summary>The caller's key <paramref name="keyId"/>: its public key once generated.</summary>
    Task<ApplyResult> DescribeKeyAsync(ApplicationInstance instance, string keyId, CancellationToken cancellationToken);

    /// <summary>Sign: coordinates a FROST session for the client's signed request and answers with the signature.</summary>
    Task<ApplyResult> SignAsync(SignedRequest request, CancellationToken cancellationToken);

    /// <summary>This server's share of the caller's joint secret <paramref name="id"/> (with the sharing's commitments), sealed to <paramref name="recipient"/>.</summary>
    Task<ApplyResult> ReadJointSecretShareAsync(ApplicationInstance instance, string id, byte[] recipient, CancellationToken cancellationToken);

    /// <summary>Send on a link: relays the instance's signed request to the recipient instance's server.</summary>
    Task<ApplyResult> SendLinkMessageAsync(SignedRequest request, CancellationToken cancellationToken);

    /// <summary>Receive on a link: the messages waiting for the caller's instance here (taken, so each is received once).</summary>
    Task<ApplyResult> ReceiveLinkMessagesAsync(ApplicationInstance instance, CancellationToken cancellationToken);

    /// <summary>The caller's application: its registration, quota and use.</summary>
    Task<ApplyResult> DescribeApplicationAsync(ApplicationInstance instance, CancellationToken cancellationToken);
}

/// <summary>The server cannot serve application requests right now; the message says why (HTTP 503).</summary>
public sealed class NodeUnavailableException(string code, string message) : Exception(message)
{
    /// <summary>The stable problem code.</summary>
    public string Code { get; } = code;
}

// References: toolkit (seed 001) section 3.2 (ROM, public and private data); docs/NODE.md "Storage", "The node".
using System.Globalization;
using Proactive.Node.Storage;
using Proactive.Protocols.Agreement;
using Proactive.Protocols.Application;
using Proactive.Protocols.Bootstrap;
using Proactive.Protocols.Controller;

namespace Proactive.Node.Hosting;

/// <summary>
/// Where the node keeps what it persists besides the controller's state, and which of it is public.
/// Private: this server's period keys and TLS keys (erased when their period is over). Public: the
/// other servers' period keys it verifies with, [S_cert(M), M], the period certificates, the applications'
/// agreed state, and the agreement states (signed statements and values every server is shown: nothing
/// secret, so erasing one of them, as every ledger decision does, needs no scrub of the store files).
/// </summary>
public static class NodeKeySpace
{
    /// <summary>Every key under this prefix is public (replicated state peers may hold too).</summary>
    public const string PublicPrefix = "node/public/";

    /// <summary>Own period keys of a period: Ed25519 seed || X25519 secret (private).</summary>
    public static string OwnPeriodKeys(ulong period) => "node/private/period-keys/" + period.ToString(CultureInfo.InvariantCulture);

    /// <summary>Own TLS certificate and key of a period (private).</summary>
    public static string OwnTlsCertificate(ulong period) => "node/private/tls/" + period.ToString(CultureInfo.InvariantCulture);

    /// <summary>The other servers' public keys (K_j) of a period, as this server verifies them (public).</summary>
    public static string PeerKeys(ulong period) => PublicPrefix + "keys/" + period.ToString(CultureInfo.InvariantCulture);

    /// <summary>The constants the invariant information signs: C's canonical encoding and the period schedule's anchor (public).</summary>
    public const string Constants = PublicPrefix + "constants";

    /// <summary>The storage policy of a node: the controller's public keys, [S_cert(M), M], and everything under <see cref="PublicPrefix"/>, the certificate, application and agreement prefixes.</summary>
    public static KeySpacePolicy Policy { get; } = new(
        [ServerController.PublicStateKey, ServerController.DigestKey, VcertRecoverMachine.StorageKey],
        [PublicPrefix, ServerController.CertificateKeyPrefix, ApplicationKeys.Prefix, TendermintAgreement.StatePrefix]);
}

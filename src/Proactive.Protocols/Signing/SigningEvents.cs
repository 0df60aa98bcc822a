// References: RFC 9591 (FROST) section 5.3 (aggregate), Appendix B (the final signature check);
// docs/BRIEF.md section 3 "Threshold signing" (the final signature verified before it is returned).
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Signing;

/// <summary>
/// A signing session's result: <paramref name="Signature"/> (RFC 9591 encoding; for Ed25519 a standard
/// RFC 8032 signature) on <paramref name="Message"/>, already verified against the group key, and the
/// servers whose shares made it.
/// </summary>
public sealed record SignatureProduced(InstanceId Instance, byte[] Message, byte[] Signature, IReadOnlyList<int> Signers) : ProtocolEvent;

/// <summary>
/// A signing session gave up: fewer than t+1 servers that were not excluded (cheaters, silent servers,
/// refusals) still had commitments for this coordinator. <paramref name="Excluded"/> lists who was left out.
/// </summary>
public sealed record SigningFailed(InstanceId Instance, string Reason, IReadOnlyList<int> Excluded) : ProtocolEvent;

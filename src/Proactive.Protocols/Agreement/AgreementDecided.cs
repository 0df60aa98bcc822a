// References: Buchman, Kwon, Milosevic, arXiv:1807.04938, Algorithm 1 line 51 (decision_p[h_p] = v).

using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Agreement;

/// <summary>
/// The agreement decided <paramref name="Value"/>; <paramref name="Certificate"/> proves it to
/// anyone (n - f signed PRECOMMITs). Emitted at most once per instance.
/// </summary>
public sealed record AgreementDecided(InstanceId Instance, byte[] Value, Certificate Certificate) : ProtocolEvent;

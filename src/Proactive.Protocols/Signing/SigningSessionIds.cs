// References: docs/BRIEF.md section 3 (every message names its protocol instance); Machines/ProtocolKind.cs.
using Proactive.Protocols.Cluster;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Signing;

/// <summary>
/// The instance ids of threshold signing in one period. Sequence 0 is the nonce channel (each server's
/// published commitments); a session's sequence is coordinator &lt;&lt; 32 | counter (counter &gt;= 1), so every
/// server coordinates its own sessions without agreeing on numbers with the others, and a signer can tell
/// from the id alone which server may send the package.
/// </summary>
public static class SigningSessionIds
{
    /// <summary>The nonce channel of <paramref name="period"/>.</summary>
    public static InstanceId NonceChannel(ulong period) => new(ProtocolKind.Signing, period, 0);

    /// <summary>Session <paramref name="counter"/> coordinated by <paramref name="coordinator"/> in <paramref name="period"/>.</summary>
    public static InstanceId Session(ulong period, int coordinator, uint counter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(coordinator, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(coordinator, ClusterParameters.MaxServers);
        ArgumentOutOfRangeException.ThrowIfLessThan(counter, 1u);
        return new InstanceId(ProtocolKind.Signing, period, ((ulong)coordinator << 32) | counter);
    }

    /// <summary>The coordinator a session id names; false for the nonce channel or an id that is not a session.</summary>
    public static bool TryGetCoordinator(InstanceId instance, out int coordinator)
    {
        coordinator = (int)Math.Min(instance.Sequence >> 32, int.MaxValue);
        return instance.Protocol == ProtocolKind.Signing
            && coordinator is >= 1 and <= ClusterParameters.MaxServers
            && (uint)instance.Sequence != 0;
    }
}

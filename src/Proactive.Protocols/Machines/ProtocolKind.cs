namespace Proactive.Protocols.Machines;

/// <summary>Which protocol a message or instance belongs to; the byte value is on the wire, so it never changes.</summary>
public enum ProtocolKind : byte
{
    Agreement = 1,
    Dkg = 2,
    Refresh = 3,
    ShareRecovery = 4,
    KeyTable = 5,
    Signing = 6,
    Randomness = 7,

    /// <summary>Bootstrapping: initialization (toolkit Table 3) and the periodical Vcert-recover (Table 2).</summary>
    Bootstrap = 8,

    /// <summary>The applications' ledger: agreed batches of client-signed requests (docs/PROTOCOLS.md "Application ledger").</summary>
    Ledger = 9,

    /// <summary>Signatures with applications' keys: two-round FROST sessions a server coordinates for its client (docs/PROTOCOLS.md "Application signing").</summary>
    AppSigning = 10,
}

/// <summary>
/// One run of one protocol: the protocol, the period it runs in, and a sequence number that tells
/// runs of the same protocol in the same period apart (the refresh of period p is sequence 0; each
/// signing session takes the next number). Every message names its instance, so a message of one
/// instance can never be taken for another.
/// </summary>
public readonly record struct InstanceId(ProtocolKind Protocol, ulong Period, ulong Sequence)
{
    public override string ToString() => $"{Protocol}/p{Period}/#{Sequence}";
}

// References: docs/BRIEF.md section 3 ("Broadcast and agreement": decisions committed by certificate);
// arXiv:1807.04938 Algorithm 1 (one agreement instance per decision).
using System.Buffers.Binary;
using Proactive.Protocols.Envelopes;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Controller;

/// <summary>
/// How a protocol instance that needs a decision (a DKG's QUAL, a refresh's qualified dealers, a
/// recovery's blinding set) maps to its agreement instance. Every server derives the same mapping
/// from the parent's id alone, so no message is needed to agree on which agreement decides what.
/// </summary>
public static class AgreementWiring
{
    /// <summary>Version of <see cref="InstanceContext"/>.</summary>
    public const byte ContextVersion = 1;

    private const int SequenceBits = 48;
    private const ulong SequenceMask = (1UL << SequenceBits) - 1;

    /// <summary>
    /// (Agreement, parent period, parent protocol in the top 16 bits | parent sequence in the low 48):
    /// distinct parents never share an agreement instance.
    /// </summary>
    public static InstanceId AgreementFor(InstanceId parent)
    {
        if (parent.Protocol == ProtocolKind.Agreement)
        {
            throw new ArgumentException("An agreement instance has no agreement of its own.", nameof(parent));
        }

        if (parent.Sequence > SequenceMask)
        {
            throw new ArgumentOutOfRangeException(nameof(parent), parent.Sequence, $"Sequences needing agreement are below 2^{SequenceBits}.");
        }

        return new InstanceId(ProtocolKind.Agreement, parent.Period, ((ulong)parent.Protocol << SequenceBits) | parent.Sequence);
    }

    /// <summary>The parent of an agreement instance (inverse of <see cref="AgreementFor"/>); false for ids no parent maps to.</summary>
    public static bool TryParentOf(InstanceId agreement, out InstanceId parent)
    {
        parent = default;
        if (agreement.Protocol != ProtocolKind.Agreement)
        {
            return false;
        }

        var protocol = agreement.Sequence >> SequenceBits;
        if (protocol is 0 or (ulong)ProtocolKind.Agreement or (ulong)ProtocolKind.Bootstrap || protocol > (ulong)ProtocolKind.Ledger)
        {
            return false;
        }

        parent = new InstanceId((ProtocolKind)protocol, agreement.Period, agreement.Sequence & SequenceMask);
        return true;
    }

    /// <summary>
    /// The bytes every vote of the agreement signs besides the value: u8 version, u8 protocol,
    /// u64 period, u64 sequence (big-endian) of the parent, then the 16-byte network id. Votes of two
    /// instances, or of two networks, never mix.
    /// </summary>
    public static byte[] InstanceContext(InstanceId parent, NetworkId network)
    {
        var context = new byte[1 + 1 + 8 + 8 + NetworkId.Length];
        context[0] = ContextVersion;
        context[1] = (byte)parent.Protocol;
        BinaryPrimitives.WriteUInt64BigEndian(context.AsSpan(2), parent.Period);
        BinaryPrimitives.WriteUInt64BigEndian(context.AsSpan(10), parent.Sequence);
        network.WriteTo(context.AsSpan(18));
        return context;
    }

    /// <summary>The proposer rotation: consecutive instances start with different leaders.</summary>
    public static ulong InstanceSeed(InstanceId parent) => parent.Period + parent.Sequence + (ulong)parent.Protocol;
}

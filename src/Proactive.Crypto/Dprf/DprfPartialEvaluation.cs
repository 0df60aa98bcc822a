using System.Buffers.Binary;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Dprf;

/// <summary>
/// Server <see cref="ServerIndex"/>'s contribution Y_i = x_i*H(m) to a DPRF output, with the DLEQ
/// proof that it used the share behind its public share X_i. Safe to send and to publish.
/// </summary>
/// <remarks>
/// Wire format (fixed length per group): version (1) || group id (1) || server index (4, big-endian,
/// 1..2^31-1) || Y_i (ElementLength, never the identity) || proof c || z (2 * ScalarLength).
/// The message is not carried: the receiver knows what it asked for.
/// </remarks>
public sealed class DprfPartialEvaluation
{
    public const byte Version = 1;

    internal DprfPartialEvaluation(PrimeOrderGroup group, int serverIndex, Element value, DleqProof proof)
    {
        Group = group;
        ServerIndex = serverIndex;
        Value = value;
        Proof = proof;
    }

    public PrimeOrderGroup Group { get; }

    public int ServerIndex { get; }

    /// <summary>Y_i = x_i * H(m).</summary>
    public Element Value { get; }

    public DleqProof Proof { get; }

    public static int EncodedLength(PrimeOrderGroup group) => 2 + 4 + group.ElementLength + DleqProof.EncodedLength(group);

    public void Encode(Span<byte> destination)
    {
        if (destination.Length != EncodedLength(Group))
        {
            throw new ArgumentException($"A {Group.Name} partial evaluation takes {EncodedLength(Group)} bytes.", nameof(destination));
        }

        destination[0] = Version;
        destination[1] = (byte)Group.Id;
        BinaryPrimitives.WriteInt32BigEndian(destination[2..6], ServerIndex);
        Group.EncodeElement(Value, destination.Slice(6, Group.ElementLength));
        Proof.Encode(destination[(6 + Group.ElementLength)..]);
    }

    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength(Group)];
        Encode(bytes);
        return bytes;
    }

    /// <summary>
    /// Decodes one partial of <paramref name="group"/>: exact length, known version and group id,
    /// index at least 1, a valid non-identity element, canonical proof scalars. False otherwise.
    /// Decoding does not verify the proof (that needs the message and X_i).
    /// </summary>
    public static bool TryDecode(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, out DprfPartialEvaluation? partial)
    {
        ArgumentNullException.ThrowIfNull(group);
        partial = null;
        if (encoding.Length != EncodedLength(group) || encoding[0] != Version || encoding[1] != (byte)group.Id)
        {
            return false;
        }

        var index = BinaryPrimitives.ReadInt32BigEndian(encoding[2..6]);
        if (index < 1 ||
            !group.TryDecodeElement(encoding.Slice(6, group.ElementLength), out var value) ||
            !DleqProof.TryDecode(group, encoding[(6 + group.ElementLength)..], out var proof))
        {
            return false;
        }

        partial = new DprfPartialEvaluation(group, index, value, proof!);
        return true;
    }

    public override string ToString() => $"DprfPartialEvaluation({Group.Name}, server {ServerIndex})";
}

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Tests.Codec;

/// <summary>
/// A test-only wire type with one field of every primitive kind, following the codec convention;
/// its bytes are pinned by a snapshot and it is fed to the decoder fuzz test.
/// </summary>
/// <remarks>
/// Layout, version 7: header, u8 kind, u16 round, u32 sender, u64 period, bool final,
/// bytes payload (max 16), string label (max 32), scalar, element, u32-count list of u16 (max 4).
/// </remarks>
internal sealed record ExampleMessage(
    PrimeOrderGroup Group,
    byte Kind,
    ushort Round,
    uint Sender,
    ulong Period,
    bool Final,
    byte[] Payload,
    string Label,
    Scalar Challenge,
    Element Commitment,
    ushort[] Recipients) : ICanonicalEncodable, ICanonicalDecodable<ExampleMessage>
{
    public const byte FormatVersion = 7;
    public const int MaxPayload = 16;
    public const int MaxLabel = 32;
    public const int MaxRecipients = 4;

    public int EncodedLength =>
        CanonicalWriter.HeaderSize + 1 + 2 + 4 + 8 + 1
        + CanonicalWriter.LengthPrefixSize + Payload.Length
        + CanonicalWriter.LengthPrefixSize + System.Text.Encoding.UTF8.GetByteCount(Label)
        + Group.ScalarLength + Group.ElementLength
        + CanonicalWriter.CountPrefixSize + (2 * Recipients.Length);

    public byte[] Encode() => CanonicalEncoding.Encode(this);

    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Group);
        writer.WriteU8(Kind);
        writer.WriteU16(Round);
        writer.WriteU32(Sender);
        writer.WriteU64(Period);
        writer.WriteBool(Final);
        writer.WriteBytes(Payload, MaxPayload);
        writer.WriteString(Label, MaxLabel);
        writer.WriteScalar(Group, Challenge);
        writer.WriteElement(Group, Commitment);
        writer.WriteList<ushort>(Recipients, MaxRecipients, static (ref CanonicalWriter w, int _, ushort r) => w.WriteU16(r));
    }

    public static bool TryRead(ref CanonicalReader reader, PrimeOrderGroup? expectedSuite, [MaybeNullWhen(false)] out ExampleMessage value)
    {
        value = null;
        if (!reader.TryReadHeader(FormatVersion, expectedSuite, out var group)
            || !reader.TryReadU8(out var kind, "kind")
            || !reader.TryReadU16(out var round, "round")
            || !reader.TryReadU32(out var sender, "sender")
            || !reader.TryReadU64(out var period, "period")
            || !reader.TryReadBool(out var final, "final")
            || !reader.TryReadBytes(MaxPayload, out var payload, "payload")
            || !reader.TryReadString(MaxLabel, out var label, "label")
            || !reader.TryReadScalar(group, out var challenge, "challenge")
            || !reader.TryReadElement(group, out var commitment, field: "commitment")
            || !reader.TryReadList(MaxRecipients, 2, static (ref CanonicalReader r, int _, out ushort v) => r.TryReadU16(out v, "recipient"), out var recipients, "recipients"))
        {
            return false;
        }

        value = new ExampleMessage(group, kind, round, sender, period, final, payload.ToArray(), label, challenge, commitment, recipients);
        return true;
    }

    public static ExampleMessage Sample(PrimeOrderGroup group) => new(
        group,
        Kind: 0x2a,
        Round: 0x0102,
        Sender: 0x03040506,
        Period: 0x0708090a0b0c0d0e,
        Final: true,
        Payload: [0xde, 0xad, 0xbe, 0xef],
        Label: "héllo",
        Challenge: group.FromUInt64(5),
        Commitment: group.MultiplyBase(group.FromUInt64(2)),
        Recipients: [1, 2, 0xffff]);
}

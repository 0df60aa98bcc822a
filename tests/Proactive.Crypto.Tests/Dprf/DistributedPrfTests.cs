using System.Buffers.Binary;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Crypto.Tests.Groups;

namespace Proactive.Crypto.Tests.Dprf;

/// <summary>The distributed PRF across all three groups, with shares from Shamir.Split (t = 2, n = 5).</summary>
public sealed class DistributedPrfTests
{
    private const int Threshold = 2;
    private const int Count = 5;

    public static TheoryData<string> Groups => GroupContractTests.Groups;

    /// <summary>A sharing of a random key: the shares, the Feldman commitments and the key x itself.</summary>
    private sealed class Setup : IDisposable
    {
        internal Setup(string name, ulong seed)
        {
            Group = GroupContractTests.ByName(name);
            Random = new DeterministicRandomSource(seed);
            Key = Group.RandomNonzeroScalar(Random);
            var (shares, polynomial) = Shamir.Split(Group, Key, Threshold, Count, Random);
            using (polynomial)
            {
                Commitments = polynomial.CommitFeldman();
            }

            Shares = shares;
            Prf = new DistributedPrf(Group);
            PublicShares = DprfPublicShares.FromFeldmanCommitments(Commitments);
        }

        internal PrimeOrderGroup Group { get; }

        internal IRandomSource Random { get; }

        internal Scalar Key { get; }

        internal SecretShare[] Shares { get; }

        internal FeldmanCommitment Commitments { get; }

        internal DistributedPrf Prf { get; }

        internal DprfPublicShares PublicShares { get; }

        internal Element PublicShare(int index) => Group.MultiplyBase(Shares[index - 1].Value);

        internal DprfPartialEvaluation Evaluate(int index, byte[] message) => Prf.Evaluate(Shares[index - 1], message, Random);

        public void Dispose()
        {
            foreach (var share in Shares)
            {
                share.Dispose();
            }
        }
    }

    private static byte[] Message => "period 42 beacon"u8.ToArray();

    /// <summary>Where an encoded output's message starts: after the header and the u32 length.</summary>
    private const int MessageAt = 2 + 4;

    [Theory]
    [MemberData(nameof(Groups))]
    public void Partial_evaluations_verify_against_the_servers_public_share(string name)
    {
        using var s = new Setup(name, 1);
        for (var i = 1; i <= Count; i++)
        {
            var partial = s.Evaluate(i, Message);

            Assert.Equal(i, partial.ServerIndex);
            Assert.Equal(s.Group.Multiply(s.Prf.HashInput(Message), s.Shares[i - 1].Value), partial.Value);
            Assert.True(s.Prf.VerifyPartial(s.PublicShare(i), Message, partial));
            Assert.True(s.PublicShares.TryGet(i, out var fromCommitments));
            Assert.Equal(s.PublicShare(i), fromCommitments);
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Partial_with_a_wrong_value_fails_verification(string name)
    {
        using var s = new Setup(name, 2);
        var partial = s.Evaluate(1, Message);
        var wrong = Reencode(s.Group, partial, bytes => WriteElement(s.Group, bytes, 6, s.Group.Add(partial.Value, s.Group.Generator)));

        Assert.False(s.Prf.VerifyPartial(s.PublicShare(1), Message, wrong));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Partial_with_a_wrong_proof_scalar_fails_verification(string name)
    {
        using var s = new Setup(name, 3);
        var partial = s.Evaluate(1, Message);
        var offsetOfChallenge = 6 + s.Group.ElementLength;
        var offsetOfResponse = offsetOfChallenge + s.Group.ScalarLength;

        foreach (var offset in new[] { offsetOfChallenge, offsetOfResponse })
        {
            var wrong = Reencode(s.Group, partial, bytes =>
            {
                s.Group.TryDecodeScalar(bytes.AsSpan(offset, s.Group.ScalarLength), out var value);
                s.Group.EncodeScalar(s.Group.Add(value, s.Group.One), bytes.AsSpan(offset, s.Group.ScalarLength));
            });

            Assert.False(s.Prf.VerifyPartial(s.PublicShare(1), Message, wrong));
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Partial_for_another_message_or_domain_fails_verification(string name)
    {
        using var s = new Setup(name, 4);
        var partial = s.Evaluate(1, Message);

        Assert.False(s.Prf.VerifyPartial(s.PublicShare(1), "period 43 beacon"u8, partial));
        Assert.False(new DistributedPrf(s.Group, "another-application").VerifyPartial(s.PublicShare(1), Message, partial));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Partial_with_a_swapped_server_index_fails_verification(string name)
    {
        using var s = new Setup(name, 5);
        var partial = s.Evaluate(1, Message);
        var claimedByServer2 = Reencode(s.Group, partial, bytes => bytes[5] = 2);

        // Neither against server 2's public share nor against server 1's: the index is in the proof.
        Assert.False(s.Prf.VerifyPartial(s.PublicShare(2), Message, claimedByServer2));
        Assert.False(s.Prf.VerifyPartial(s.PublicShare(1), Message, claimedByServer2));
        Assert.False(s.Prf.VerifyPartial(s.PublicShare(2), Message, partial));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Any_t_plus_1_partials_combine_to_x_times_H_of_m(string name)
    {
        using var s = new Setup(name, 6);
        var all = Enumerable.Range(1, Count).Select(i => s.Evaluate(i, Message)).ToArray();
        var expected = s.Group.Multiply(s.Prf.HashInput(Message), s.Key);
        byte[]? firstValue = null;

        foreach (var subset in new[] { new[] { 1, 2, 3 }, [3, 4, 5], [1, 3, 5], [5, 2, 4] })
        {
            var result = s.Prf.Combine(s.PublicShares, Message, subset.Select(i => all[i - 1]));

            Assert.True(result.Succeeded);
            Assert.Empty(result.Culprits);
            Assert.Equal(expected, result.Output!.Combined);
            Assert.Equal(DprfOutput.ValueLength, result.Output.Value.Length);
            firstValue ??= result.Output.Value.ToArray();
            Assert.Equal(firstValue, result.Output.Value.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Combine_names_the_culprits_and_still_succeeds_with_t_plus_1_good_partials(string name)
    {
        using var s = new Setup(name, 7);
        var all = Enumerable.Range(1, Count).Select(i => s.Evaluate(i, Message)).ToList();
        // f = 2 bad partials among n = 5: server 2 lies about Y_2, server 4 answers another message.
        all[1] = Reencode(s.Group, all[1], bytes => WriteElement(s.Group, bytes, 6, s.Group.Generator));
        all[3] = s.Evaluate(4, "something else"u8.ToArray());

        var result = s.Prf.Combine(s.PublicShares, Message, all);

        Assert.True(result.Succeeded);
        Assert.Equal([2, 4], result.Culprits);
        Assert.Equal(s.Group.Multiply(s.Prf.HashInput(Message), s.Key), result.Output!.Combined);
        Assert.Equal([1, 3, 5], result.Output.Partials.Select(p => p.ServerIndex));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Combine_with_too_few_valid_partials_fails_cleanly(string name)
    {
        using var s = new Setup(name, 8);
        var one = s.Evaluate(1, Message);
        var three = s.Evaluate(3, Message);
        var badFive = Reencode(s.Group, s.Evaluate(5, Message), bytes => WriteElement(s.Group, bytes, 6, s.Group.Generator));

        var tooFew = s.Prf.Combine(s.PublicShares, Message, [one, three]);
        var duplicates = s.Prf.Combine(s.PublicShares, Message, [one, one, three]);
        var oneBad = s.Prf.Combine(s.PublicShares, Message, [one, three, badFive]);

        Assert.False(tooFew.Succeeded);
        Assert.Equal(DprfCombineError.NotEnoughValidPartials, tooFew.Error);
        Assert.Empty(tooFew.Culprits);
        Assert.False(duplicates.Succeeded);
        Assert.False(oneBad.Succeeded);
        Assert.Null(oneBad.Output);
        Assert.Equal([5], oneBad.Culprits);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Partials_from_servers_without_a_public_share_are_culprits(string name)
    {
        using var s = new Setup(name, 9);
        var known = new Dictionary<int, Element> { [1] = s.PublicShare(1), [2] = s.PublicShare(2), [3] = s.PublicShare(3) };
        var publicShares = DprfPublicShares.FromShares(s.Group, Threshold, known);
        var partials = Enumerable.Range(1, 4).Select(i => s.Evaluate(i, Message)).ToArray();

        var result = s.Prf.Combine(publicShares, Message, partials);

        Assert.True(result.Succeeded);
        Assert.Equal([4], result.Culprits);
        Assert.True(s.Prf.VerifyOutput(publicShares, Message, result.Output!));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Output_verifies_publicly_after_a_round_trip_and_tampering_is_detected(string name)
    {
        using var s = new Setup(name, 10);
        var partials = Enumerable.Range(1, Count).Select(i => s.Evaluate(i, Message));
        var output = s.Prf.Combine(s.PublicShares, Message, partials).Output!;
        var encoded = output.Encode();

        Assert.True(DprfOutput.TryDecode(s.Group, encoded, out var decoded));
        Assert.True(s.Prf.VerifyOutput(s.PublicShares, Message, decoded!));
        Assert.Equal(output.Combined, decoded!.Combined);
        Assert.Equal(output.Value.ToArray(), decoded.Value.ToArray());
        Assert.True(s.Prf.VerifyOutput(s.PublicShares, Message, output));

        // Another message, another domain, another sharing: all refused.
        Assert.False(s.Prf.VerifyOutput(s.PublicShares, "period 43 beacon"u8, decoded));
        Assert.False(new DistributedPrf(s.Group, "another-application").VerifyOutput(s.PublicShares, Message, decoded));
        using (var other = new Setup(name, 11))
        {
            Assert.False(s.Prf.VerifyOutput(other.PublicShares, Message, decoded));
        }

        // A partial's Y replaced by another valid point: decodes, does not verify.
        var partialLength = DprfPartialEvaluation.BodyLength(s.Group);
        var countAt = MessageAt + Message.Length;
        var firstPartial = countAt + 4;
        var tamperedY = (byte[])encoded.Clone();
        WriteElement(s.Group, tamperedY, firstPartial + 4, s.Group.Generator);
        Assert.True(DprfOutput.TryDecode(s.Group, tamperedY, out var forged));
        Assert.False(s.Prf.VerifyOutput(s.PublicShares, Message, forged!));

        // The message in the output changed: decodes, does not verify for either message.
        var tamperedMessage = (byte[])encoded.Clone();
        tamperedMessage[MessageAt] ^= 1;
        Assert.True(DprfOutput.TryDecode(s.Group, tamperedMessage, out var otherMessage));
        Assert.False(s.Prf.VerifyOutput(s.PublicShares, Message, otherMessage!));
        Assert.False(s.Prf.VerifyOutput(s.PublicShares, otherMessage!.Message, otherMessage));

        // Fewer partials than t+1: decodes (structure is fine), does not verify.
        var shortened = encoded[..(encoded.Length - partialLength)];
        shortened[countAt + 3] = Threshold;
        Assert.True(DprfOutput.TryDecode(s.Group, shortened, out var tooShort));
        Assert.False(s.Prf.VerifyOutput(s.PublicShares, Message, tooShort!));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Proofs_and_partials_round_trip_through_their_encodings(string name)
    {
        using var s = new Setup(name, 12);
        var partial = s.Evaluate(3, Message);

        Assert.True(DprfPartialEvaluation.TryDecode(s.Group, partial.Encode(), out var decoded));
        Assert.Equal(partial.Encode(), decoded!.Encode());
        Assert.True(s.Prf.VerifyPartial(s.PublicShare(3), Message, decoded));
        Assert.True(DleqProof.TryDecode(s.Group, partial.Proof.Encode(), out var proof));
        Assert.Equal(partial.Proof.Challenge, proof!.Challenge);
        Assert.Equal(partial.Proof.Response, proof.Response);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Malformed_encodings_are_refused_without_throwing(string name)
    {
        using var s = new Setup(name, 13);
        var g = s.Group;
        var partial = s.Evaluate(1, Message).Encode();
        var proof = s.Evaluate(2, Message).Proof.Encode();
        var output = s.Prf.Combine(s.PublicShares, Message, Enumerable.Range(1, 3).Select(i => s.Evaluate(i, Message))).Output!.Encode();
        var elementAt = 6;
        var challengeAt = 6 + g.ElementLength;

        // Proofs: wrong lengths, trailing bytes, non-canonical scalars (all ones is above every order).
        Assert.False(DleqProof.TryDecode(g, proof.AsSpan(..^1), out _));
        Assert.False(DleqProof.TryDecode(g, [.. proof, 0], out _));
        Assert.False(DleqProof.TryDecode(g, [], out _));
        Assert.False(DleqProof.TryDecode(g, With(proof, 0, Ones(g.ScalarLength)), out _));
        Assert.False(DleqProof.TryDecode(g, With(proof, g.ScalarLength, Ones(g.ScalarLength)), out _));

        // Partials: length, trailing bytes, version, group id, index 0 and negative, bad scalars.
        Assert.False(DprfPartialEvaluation.TryDecode(g, partial.AsSpan(..^1), out _));
        Assert.False(DprfPartialEvaluation.TryDecode(g, [.. partial, 0], out _));
        Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, 0, [2]), out _));
        Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, 1, [(byte)((int)g.Id % 3 + 1)]), out _));
        Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, 2, [0, 0, 0, 0]), out _));
        Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, 2, [0x80, 0, 0, 1]), out _));
        Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, challengeAt, Ones(g.ScalarLength)), out _));

        // Partials: the identity and points outside the prime-order group in place of Y_i.
        Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, elementAt, g.EncodeElement(g.Identity, allowIdentity: true)), out _));
        foreach (var bad in InvalidElementEncodings(g))
        {
            Assert.False(DprfPartialEvaluation.TryDecode(g, With(partial, elementAt, bad), out _));
        }

        // Outputs: truncated, trailing bytes, zero partials, lying counts and lengths, indices out of order.
        var countAt = MessageAt + Message.Length;
        AssertOutputRefused(g, output.AsSpan(..^1), CodecError.Truncated);
        AssertOutputRefused(g, [.. output, 0], CodecError.TrailingBytes);
        AssertOutputRefused(g, output.AsSpan(..7), CodecError.Truncated);
        AssertOutputRefused(g, With(output, 0, [1]), CodecError.WrongVersion);
        AssertOutputRefused(g, With(output, countAt, [0, 0, 0, 0]), CodecError.InvalidValue, "partials");
        AssertOutputRefused(g, With(output, countAt, [0, 0, 0xff, 0xff]), CodecError.TooLong, "partials");
        AssertOutputRefused(g, With(output, countAt, [0, 0, 0, 4]), CodecError.Truncated, "partials");
        AssertOutputRefused(g, With(output, 2, [0x7f, 0xff, 0xff, 0xff]), CodecError.TooLong, "message");
        AssertOutputRefused(g, With(output, 2, [0xff, 0xff, 0xff, 0xff]), CodecError.TooLong, "message");
        var secondIndexAt = countAt + 4 + DprfPartialEvaluation.BodyLength(g);
        AssertOutputRefused(g, With(output, secondIndexAt, [0, 0, 0, 1]), CodecError.InvalidValue, "serverIndex");
        AssertOutputRefused(g, With(output, secondIndexAt, [0, 0, 0, 0]), CodecError.InvalidValue, "serverIndex");
        AssertOutputRefused(PrimeOrderGroup.Ed25519 == g ? PrimeOrderGroup.P256 : PrimeOrderGroup.Ed25519, output, CodecError.WrongSuite);
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Output_claiming_more_partials_than_the_cap_is_refused_at_the_count(string name)
    {
        using var s = new Setup(name, 15);
        var g = s.Group;
        var countAt = MessageAt + Message.Length;
        var output = s.Prf.Combine(s.PublicShares, Message, Enumerable.Range(1, 3).Select(i => s.Evaluate(i, Message))).Output!.Encode();
        var header = output[..countAt];
        var body = DprfPartialEvaluation.BodyLength(g);
        var partial = output.AsSpan(countAt + 4, body).ToArray();

        // 65535 claimed partials, as the old u16 count allowed, followed by nothing at all.
        Assert.False(DprfOutput.TryDecode(g, [.. header, 0, 0, 0xff, 0xff], out _, out CodecFailure failure));
        Assert.Equal(new CodecFailure(CodecError.TooLong, countAt, "partials"), failure);

        // MaxPartials + 1 well-formed partials with increasing indices: refused at the count, before
        // any of them is read (a read would report an offset past the count).
        var many = new List<byte>(header);
        many.AddRange([0, 0, (byte)((DprfOutput.MaxPartials + 1) >> 8), (byte)((DprfOutput.MaxPartials + 1) & 0xff)]);
        for (var i = 1; i <= DprfOutput.MaxPartials + 1; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(partial, (uint)i);
            many.AddRange(partial);
        }

        Assert.False(DprfOutput.TryDecode(g, many.ToArray(), out _, out failure));
        Assert.Equal(new CodecFailure(CodecError.TooLong, countAt, "partials"), failure);

        // The same structure at the cap decodes (without interpolating or verifying anything).
        var atCap = many.Take(many.Count - body).ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(atCap.AsSpan(countAt), DprfOutput.MaxPartials);
        Assert.True(DprfOutput.TryDecode(g, atCap, out var decoded, out failure), failure.ToString());
        Assert.Equal(DprfOutput.MaxPartials, decoded.Partials.Count);
        Assert.False(s.Prf.VerifyOutput(s.PublicShares, Message, decoded));
    }

    [Theory]
    [MemberData(nameof(Groups))]
    public void Caller_mistakes_throw(string name)
    {
        using var s = new Setup(name, 14);
        var other = s.Group == PrimeOrderGroup.P256 ? PrimeOrderGroup.Ristretto255 : PrimeOrderGroup.P256;

        Assert.Throws<ArgumentException>(() => new DistributedPrf(s.Group, ""));
        Assert.Throws<ArgumentException>(() => new DistributedPrf(s.Group, new string('d', 201)));
        Assert.Throws<ArgumentException>(() => new DistributedPrf(other).Evaluate(s.Shares[0], Message, s.Random));
        Assert.Throws<ArgumentException>(() => s.Prf.HashInput(new byte[DistributedPrf.MaxMessageLength + 1]));
        Assert.Throws<ArgumentException>(() => s.Prf.Combine(DprfPublicShares.FromFeldmanCommitments(new FeldmanCommitment(other, [other.Generator])), Message, []));
    }

    /// <summary>Decodes, edits the bytes, decodes again (the edit must keep the encoding well formed).</summary>
    private static DprfPartialEvaluation Reencode(PrimeOrderGroup group, DprfPartialEvaluation partial, Action<byte[]> edit)
    {
        var bytes = partial.Encode();
        edit(bytes);
        Assert.True(DprfPartialEvaluation.TryDecode(group, bytes, out var edited));
        return edited!;
    }

    private static void AssertOutputRefused(PrimeOrderGroup group, ReadOnlySpan<byte> encoding, CodecError error, string? field = null)
    {
        Assert.False(DprfOutput.TryDecode(group, encoding, out var output, out CodecFailure failure));
        Assert.Null(output);
        Assert.Equal(error, failure.Error);
        if (field is not null)
        {
            Assert.Equal(field, failure.Field);
        }

        Assert.False(DprfOutput.TryDecode(group, encoding, out _));
    }

    private static void WriteElement(PrimeOrderGroup group, byte[] bytes, int offset, Element e) =>
        group.EncodeElement(e, bytes.AsSpan(offset, group.ElementLength));

    private static byte[] With(byte[] original, int offset, byte[] replacement)
    {
        var copy = (byte[])original.Clone();
        replacement.CopyTo(copy, offset);
        return copy;
    }

    private static byte[] Ones(int length) => Enumerable.Repeat((byte)0xff, length).ToArray();

    /// <summary>Encodings that are not elements of the group: small order, off the curve, non-canonical.</summary>
    private static IEnumerable<byte[]> InvalidElementEncodings(PrimeOrderGroup group)
    {
        switch (group.Id)
        {
            case GroupId.Ed25519:
                // (0, -1) of order 2, and the order-4 point (sqrt(-1), 0); p itself (non-canonical zero).
                yield return Convert.FromHexString("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
                yield return Convert.FromHexString("0000000000000000000000000000000000000000000000000000000000000080");
                yield return Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
                break;
            case GroupId.Ristretto255:
                // Non-canonical (>= p) and negative field elements are not ristretto255 encodings.
                yield return Convert.FromHexString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
                yield return Convert.FromHexString("0100000000000000000000000000000000000000000000000000000000000000");
                break;
            default:
                // x = p (non-canonical), and prefixes 0x05 and 0x04 that no compressed point has.
                yield return Convert.FromHexString("02ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
                yield return Convert.FromHexString("05" + new string('1', 64));
                yield return Convert.FromHexString("04" + new string('1', 64));
                break;
        }
    }
}

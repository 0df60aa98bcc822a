// References: docs/BRIEF.md section 1 (the adversary replays, equivocates, forges), section 3
// (messages signed with period keys, private payloads HPKE-encrypted); RFC 9180 section 5.1.1
// (SetupBaseR), section 6.1 (single-shot Open); format and guarantees in Envelope.

using Proactive.Crypto.Codec;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Envelopes;

/// <summary>Why <see cref="EnvelopeOpener"/> refused an envelope. The byte values are stored and reported, so they never change.</summary>
public enum EnvelopeRejection : byte
{
    /// <summary>Not refused: the envelope was accepted.</summary>
    None = 0,

    /// <summary>The bytes do not decode (<see cref="EnvelopeOpenResult.Failure"/> says where and why): truncated, trailing bytes, a bad field.</summary>
    Malformed = 1,

    /// <summary>Longer than <see cref="Envelope.MaxEncodedLength"/>, or a payload prefix over <see cref="Envelope.MaxPayloadLength"/>.</summary>
    Oversized = 2,

    /// <summary>A format version this build does not read.</summary>
    WrongVersion = 3,

    /// <summary>Another suite (group) than the network's, or an unknown one.</summary>
    WrongSuite = 4,

    /// <summary>Signed for another network.</summary>
    WrongNetwork = 5,

    /// <summary>The directory has no keys for the named sender in the envelope's period.</summary>
    UnknownSender = 6,

    /// <summary>Addressed to another server.</summary>
    NotForThisServer = 7,

    /// <summary>The signature does not verify under the sender's key for the period.</summary>
    BadSignature = 8,

    /// <summary>A period older than the current one minus <see cref="EnvelopeOpener.AllowedPeriodLag"/>.</summary>
    StalePeriod = 9,

    /// <summary>A period beyond the current one plus <see cref="EnvelopeOpener.AllowedPeriodLead"/>.</summary>
    FuturePeriod = 10,

    /// <summary>These exact signed bytes were accepted before.</summary>
    Replay = 11,

    /// <summary>A validly signed confidential payload that does not open with this server's key for the period (or this server has no key for it).</summary>
    DecryptionFailed = 12,

    /// <summary>Marked confidential but addressed to every server, which no honest sender does.</summary>
    ConfidentialBroadcast = 13,
}

/// <summary>
/// The outcome of <see cref="EnvelopeOpener.Open"/>: an accepted message with its instance, or the
/// reason it was refused.
/// </summary>
public sealed record EnvelopeOpenResult
{
    private EnvelopeOpenResult(EnvelopeRejection rejection, CodecFailure failure, EnvelopeHeader? header, InboundMessage? message)
    {
        Rejection = rejection;
        Failure = failure;
        Header = header;
        Message = message;
    }

    /// <summary>Whether the envelope was accepted (<see cref="Message"/> is set).</summary>
    public bool IsAccepted => Rejection == EnvelopeRejection.None;

    /// <summary>Why it was refused, or <see cref="EnvelopeRejection.None"/>.</summary>
    public EnvelopeRejection Rejection { get; }

    /// <summary>The decoding failure, for <see cref="EnvelopeRejection.Malformed"/> and the other decode-time rejections.</summary>
    public CodecFailure Failure { get; }

    /// <summary>
    /// The decoded header when decoding got that far. Unauthenticated claims unless the rejection
    /// comes after the signature check (<see cref="EnvelopeRejection.Replay"/>,
    /// <see cref="EnvelopeRejection.DecryptionFailed"/>) or the envelope was accepted: never blame
    /// <see cref="EnvelopeHeader.Sender"/> for an earlier rejection.
    /// </summary>
    public EnvelopeHeader? Header { get; }

    /// <summary>Whether <see cref="Header"/>'s sender really signed the envelope.</summary>
    public bool SenderAuthenticated => IsAccepted || Rejection is EnvelopeRejection.Replay or EnvelopeRejection.DecryptionFailed;

    /// <summary>The instance the accepted message belongs to (to route it to its machine).</summary>
    public InstanceId Instance => Header?.Instance ?? default;

    /// <summary>The accepted message; null when refused.</summary>
    public InboundMessage? Message { get; }

    internal static EnvelopeOpenResult Accepted(EnvelopeHeader header, InboundMessage message) =>
        new(EnvelopeRejection.None, default, header, message);

    internal static EnvelopeOpenResult Refused(EnvelopeRejection rejection, EnvelopeHeader? header = null, CodecFailure failure = default) =>
        new(rejection, failure, header, null);
}

/// <summary>
/// Checks and opens envelopes addressed to one server: decodes, checks version, suite, network,
/// recipient, period window, sender and signature, refuses replays, decrypts confidential payloads.
/// Never throws on untrusted bytes.
/// </summary>
/// <remarks>
/// <para><b>Order of checks</b>: size, decoding (version, suite, structure), network, confidential
/// broadcast, recipient, period window, sender's keys, replay, signature, decryption. Everything
/// before the signature is a cheap header check, so forged traffic costs no signature verification;
/// rejections before the signature say nothing about the named sender, except a replay: the guard
/// only holds envelopes that were verified and accepted.</para>
/// <para><b>Period window</b>: with current period c, envelopes of periods c - 1, c and c + 1 are
/// accepted. One period of lag, because at a period boundary the servers do not switch at the same
/// instant and the last messages of the previous period's protocols are still in flight; one period
/// of lead, because
/// a peer whose clock is slightly ahead already speaks in c + 1. Anything older is
/// <see cref="EnvelopeRejection.StalePeriod"/>: its keys are about to be erased and its replay-guard
/// entries forgotten, which is safe precisely because such envelopes are refused here first.</para>
/// <para>The current period passed to <see cref="Open"/> never goes back: the opener uses the
/// highest one it has seen, so a caller's clock step backwards cannot re-open forgotten periods.</para>
/// </remarks>
public sealed class EnvelopeOpener
{
    /// <summary>Periods before the current one that are still accepted.</summary>
    public const ulong AllowedPeriodLag = 1;

    /// <summary>Periods after the current one that are already accepted.</summary>
    public const ulong AllowedPeriodLead = 1;

    private readonly int _self;
    private readonly Func<ulong, PeriodKeys?> _ownKeys;
    private readonly PeriodKeyDirectory _directory;
    private readonly NetworkId _network;
    private readonly PrimeOrderGroup _suite;
    private readonly ReplayGuard _replayGuard;
    private ulong _currentPeriod;

    /// <summary>An opener for server <paramref name="self"/>.</summary>
    /// <param name="self">This server's id.</param>
    /// <param name="ownKeys">This server's keys for a period, or null when it has none (erased, not yet made); the opener does not own them.</param>
    /// <param name="directory">Every server's public keys by period.</param>
    /// <param name="network">This network.</param>
    /// <param name="suite">This network's group.</param>
    /// <param name="replayGuard">Where accepted envelopes are remembered; the opener prunes it as periods pass.</param>
    public EnvelopeOpener(int self, Func<ulong, PeriodKeys?> ownKeys, PeriodKeyDirectory directory, NetworkId network, PrimeOrderGroup suite, ReplayGuard replayGuard)
    {
        PeriodPublicKeys.CheckServerId(self);
        ArgumentNullException.ThrowIfNull(ownKeys);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(replayGuard);
        _self = self;
        _ownKeys = ownKeys;
        _directory = directory;
        _network = network;
        _suite = suite;
        _replayGuard = replayGuard;
    }

    /// <summary>The highest current period passed to <see cref="Open"/> so far.</summary>
    public ulong CurrentPeriod => _currentPeriod;

    /// <summary>
    /// Opens untrusted <paramref name="bytes"/> received while the node is in
    /// <paramref name="currentPeriod"/>. Never throws for bad input.
    /// </summary>
    public EnvelopeOpenResult Open(ReadOnlySpan<byte> bytes, ulong currentPeriod)
    {
        AdvanceTo(currentPeriod);

        if (bytes.Length > Envelope.MaxEncodedLength)
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.Oversized, failure: new CodecFailure(CodecError.TooLong, 0, null));
        }

        var reader = new CanonicalReader(bytes);
        if (!EnvelopeHeader.TryRead(ref reader, _suite, out var header))
        {
            return DecodeRefusal(reader.Failure, null);
        }

        if (!reader.TryReadBytes(Envelope.MaxPayloadLength, out var payload, "payload")
            || !reader.TryReadFixedBytes(Envelope.SignatureLength, out _, "signature")
            || !reader.TryReadEnd())
        {
            return DecodeRefusal(reader.Failure, header);
        }

        if (header.Network != _network)
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.WrongNetwork, header);
        }

        if (header.Confidential && header.Recipient == EnvelopeHeader.Broadcast)
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.ConfidentialBroadcast, header);
        }

        if (header.Recipient != EnvelopeHeader.Broadcast && header.Recipient != _self)
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.NotForThisServer, header);
        }

        if (_currentPeriod > AllowedPeriodLag && header.Period < _currentPeriod - AllowedPeriodLag)
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.StalePeriod, header);
        }

        if (header.Period > _currentPeriod && header.Period - _currentPeriod > AllowedPeriodLead)
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.FuturePeriod, header);
        }

        if (!_directory.TryGet(header.Sender, header.Period, out var senderKeys))
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.UnknownSender, header);
        }

        // The guard holds only envelopes that were accepted, so a hit is authenticated already and
        // spares the signature check.
        if (_replayGuard.Contains(header.Period, bytes))
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.Replay, header);
        }

        if (!Envelope.VerifySignature(bytes, senderKeys.Signing))
        {
            return EnvelopeOpenResult.Refused(EnvelopeRejection.BadSignature, header);
        }

        byte[] plaintext;
        if (header.Confidential)
        {
            if (!TryDecrypt(header, bytes[..EnvelopeHeader.EncodedLength], payload, out plaintext))
            {
                return EnvelopeOpenResult.Refused(EnvelopeRejection.DecryptionFailed, header);
            }
        }
        else
        {
            plaintext = payload.ToArray();
        }

        _replayGuard.TryRecord(header.Period, bytes);
        var message = new InboundMessage(header.Sender, header.Attempt, header.Round, header.Type, plaintext, header.Confidential, bytes.ToArray());
        return EnvelopeOpenResult.Accepted(header, message);
    }

    private void AdvanceTo(ulong currentPeriod)
    {
        if (currentPeriod <= _currentPeriod)
        {
            return;
        }

        _currentPeriod = currentPeriod;
        if (_currentPeriod > AllowedPeriodLag)
        {
            _replayGuard.ForgetPeriodsBefore(_currentPeriod - AllowedPeriodLag);
        }
    }

    private bool TryDecrypt(EnvelopeHeader header, ReadOnlySpan<byte> headerBytes, ReadOnlySpan<byte> sealedPayload, out byte[] plaintext)
    {
        plaintext = [];
        if (sealedPayload.Length < EnvelopeSealer.ConfidentialOverhead)
        {
            return false;
        }

        var keys = _ownKeys(header.Period);
        if (keys is null || keys.ServerId != _self || keys.Period != header.Period)
        {
            return false;
        }

        if (!HpkeBaseMode.TrySetupBaseR(EnvelopeSealer.Hpke, sealedPayload[..HpkeSuite.EncapsulatedKeyLength], keys.Encryption, Envelope.Domain, out var context))
        {
            return false;
        }

        using (context)
        {
            if (!context.TryOpen(headerBytes, sealedPayload[HpkeSuite.EncapsulatedKeyLength..], out var opened))
            {
                return false;
            }

            plaintext = opened;
            return true;
        }
    }

    private static EnvelopeOpenResult DecodeRefusal(CodecFailure failure, EnvelopeHeader? header)
    {
        var rejection = failure.Error switch
        {
            CodecError.WrongVersion => EnvelopeRejection.WrongVersion,
            CodecError.WrongSuite or CodecError.UnknownSuite => EnvelopeRejection.WrongSuite,
            CodecError.TooLong => EnvelopeRejection.Oversized,
            _ => EnvelopeRejection.Malformed,
        };
        return EnvelopeOpenResult.Refused(rejection, header, failure);
    }
}

// References: docs/BRIEF.md section 3 (messages signed by the sender's period key, private payloads
// HPKE-encrypted to the recipient's period key); RFC 9180 section 5.1.1 (SetupBaseS), section 6.1
// (single-shot Seal); format in Envelope.

using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hpke;
using Proactive.Crypto.Random;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Envelopes;

/// <summary>
/// Turns what a protocol machine put in its <see cref="Outbox"/> into signed envelopes, for one
/// server in one period.
/// </summary>
/// <remarks>
/// A broadcast becomes one envelope with recipient 0 that the driver sends to every server (itself
/// included). A confidential message is encrypted to the recipient's HPKE key of the period (see
/// <see cref="Envelope"/> for the construction), then signed. The HPKE ephemeral key comes from the
/// injected <see cref="IRandomSource"/>: the OS CSPRNG in the node, a seeded source in the simulator.
/// </remarks>
public sealed class EnvelopeSealer
{
    /// <summary>The HPKE suite of format version 1: ChaCha20-Poly1305, constant-time in software.</summary>
    internal static readonly HpkeSuite Hpke = HpkeSuite.X25519Sha256ChaCha20Poly1305;

    /// <summary>Bytes a confidential payload adds: enc and the AEAD tag.</summary>
    public const int ConfidentialOverhead = HpkeSuite.EncapsulatedKeyLength + HpkeSuite.TagLength;

    /// <summary>Largest plaintext a confidential message may carry.</summary>
    public const int MaxConfidentialPlaintextLength = Envelope.MaxPayloadLength - ConfidentialOverhead;

    private readonly PeriodKeys _keys;
    private readonly PeriodKeyDirectory _directory;
    private readonly NetworkId _network;
    private readonly PrimeOrderGroup _suite;
    private readonly IRandomSource _random;

    /// <summary>A sealer for server <paramref name="self"/> signing with <paramref name="ownKeys"/> (not owned: the caller disposes them).</summary>
    /// <exception cref="ArgumentException"><paramref name="ownKeys"/> belong to another server.</exception>
    public EnvelopeSealer(int self, PeriodKeys ownKeys, PeriodKeyDirectory directory, NetworkId network, PrimeOrderGroup suite, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(ownKeys);
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(random);
        PeriodPublicKeys.CheckServerId(self);
        if (ownKeys.ServerId != self)
        {
            throw new ArgumentException($"The keys belong to server {ownKeys.ServerId}, not {self}.", nameof(ownKeys));
        }

        _keys = ownKeys;
        _directory = directory;
        _network = network;
        _suite = suite;
        _random = random;
    }

    /// <summary>The period whose keys sign; every sealed instance must belong to it.</summary>
    public ulong Period => _keys.Period;

    /// <summary>
    /// Seals <paramref name="message"/> of <paramref name="instance"/>. False, without throwing, when
    /// a confidential message cannot be encrypted: the directory has no key for the recipient in the
    /// period, or the key a peer registered has small order. The caller then reports the recipient
    /// as unreachable for this period.
    /// </summary>
    /// <exception cref="ArgumentException">The instance is of another period; a confidential message has
    /// no recipient; a recipient is outside 1..65535; the payload is too large.</exception>
    public bool TrySeal(InstanceId instance, OutboundMessage message, [NotNullWhen(true)] out byte[]? envelope)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(message.Payload);
        envelope = null;
        if (instance.Period != _keys.Period)
        {
            throw new ArgumentException($"Instance {instance} is not of period {_keys.Period}, whose keys this sealer holds.", nameof(instance));
        }

        if (message.Recipient is { } r)
        {
            PeriodPublicKeys.CheckServerId(r);
        }
        else if (message.Confidential)
        {
            throw new ArgumentException("A confidential message needs one recipient.", nameof(message));
        }

        var header = new EnvelopeHeader(
            _suite.Id,
            _network,
            instance,
            message.Attempt,
            message.Round,
            message.Type,
            (ushort)_keys.ServerId,
            (ushort)(message.Recipient ?? EnvelopeHeader.Broadcast),
            message.Confidential);

        if (!message.Confidential)
        {
            envelope = Envelope.Sign(header, message.Payload, _keys.Signing);
            return true;
        }

        if (message.Payload.Length > MaxConfidentialPlaintextLength)
        {
            throw new ArgumentException($"A confidential payload holds at most {MaxConfidentialPlaintextLength} bytes.", nameof(message));
        }

        if (!_directory.TryGet(header.Recipient, instance.Period, out var recipientKeys)
            || !HpkeBaseMode.TrySetupBaseS(Hpke, recipientKeys.Encryption, Envelope.Domain, _random, out var enc, out var context))
        {
            return false;
        }

        using (context)
        {
            var sealedPayload = new byte[ConfidentialOverhead + message.Payload.Length];
            enc.CopyTo(sealedPayload, 0);
            context.Seal(header.Encode(), message.Payload, sealedPayload.AsSpan(HpkeSuite.EncapsulatedKeyLength));
            envelope = Envelope.Sign(header, sealedPayload, _keys.Signing);
            return true;
        }
    }

    /// <summary>As <see cref="TrySeal"/>, for a driver that has checked the recipient's key.</summary>
    /// <exception cref="InvalidOperationException">The recipient has no usable HPKE key in the period.</exception>
    public byte[] Seal(InstanceId instance, OutboundMessage message) =>
        TrySeal(instance, message, out var envelope)
            ? envelope
            : throw new InvalidOperationException($"Server {message.Recipient} has no usable HPKE key for period {_keys.Period}.");
}

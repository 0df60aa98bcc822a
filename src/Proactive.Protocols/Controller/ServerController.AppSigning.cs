// References: RFC 9591 (FROST); docs/BRIEF.md section 5 ("Sign(message, key)"); docs/PROTOCOLS.md
// "Application signing".
using System.Buffers;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Protocols.Application;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Controller;

/// <summary>
/// Signing with applications' keys: this server coordinates sessions for its clients
/// (<see cref="StartAppSigning"/>) and signs in its peers' sessions when the client's request it is shown
/// is authentic and it holds a share of the key's current sharing. Sessions end within a few windows and
/// leave the controller when they finish.
/// </summary>
public sealed partial class ServerController
{
    /// <summary>How many sessions this server coordinates at once.</summary>
    public const int MaxAppSigningSessions = 8192;

    /// <summary>The round of nonce commitment requests and offers on the submission channel.</summary>
    public const byte NonceRound = 4;

    /// <summary>How long an attempt waits for its signers.</summary>
    public static readonly TimeSpan AppSigningWindow = TimeSpan.FromSeconds(2);

    private const byte NonceRequestType = 1;
    private const byte NonceOfferType = 2;

    /// <summary>A request for commitments not answered within this long counts as lost (the next session asks again).</summary>
    private static readonly TimeSpan NonceRequestPatience = TimeSpan.FromMilliseconds(500);

    private readonly AppSigningNonces _appNonces = new();
    private readonly AppCommitmentStock _appCommitments = new();
    private readonly Dictionary<(ulong Ordinal, string Sharing), PublicKeyPackage> _appPublicKeys = [];
    private uint _appSigningCounter;
    private int _appSigningSessions;

    /// <summary>
    /// Starts a session for a client's request to sign with one of its application's keys. False, with
    /// the reason, when the request is not one (unknown key, not authentic, not approved) or this server
    /// holds no share of the key or cannot take another session.
    /// </summary>
    public ControllerStep StartAppSigning(ProtocolContext context, SignedRequest request, out InstanceId session, out string problem)
    {
        CheckContext(context);
        ArgumentNullException.ThrowIfNull(request);
        var step = new ControllerStep();
        session = default;
        if (!_ownKeys.ContainsKey(CurrentPeriod) || !Ciphersuite.TryFromGroupId(_group.Id, out var suite))
        {
            problem = "this server holds no key of its period yet";
            return step;
        }

        if (_appSigningSessions >= MaxAppSigningSessions)
        {
            problem = "this server runs as many signing sessions as it takes";
            return step;
        }

        var (key, messages, refusal) = AuthorizeAppSigning(request);
        if (key is null)
        {
            problem = refusal;
            return step;
        }

        if (_appSigningCounter == 0)
        {
            Span<byte> start = stackalloc byte[4];
            context.Random.Fill(start);
            _appSigningCounter = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(start) | 1;
        }

        session = AppSigningMachine.SessionOf(CurrentPeriod, Self, unchecked(_appSigningCounter++));
        if (_appSigningCounter == 0)
        {
            _appSigningCounter = 1;
        }

        _appSigningSessions++;
        _appCommitments.EnterPeriod(CurrentPeriod);
        StartMachine(context, AppSigningMachine.ForCoordinator(session, _parameters, Self, suite!, AppSigningWindow, request, key, messages, new AppSigningSupport(this)), step);
        AfterAppSigningStep(context, session, step);
        problem = string.Empty;
        return step;
    }

    /// <summary>What every signer checks: the request is an authentic, approved signing request, and this server holds a share of the key.</summary>
    private (AppKeyMaterial? Key, IReadOnlyList<byte[]> Messages, string Problem) AuthorizeAppSigning(SignedRequest request)
    {
        if (!IsLedgerCurrent || LedgerContextOf(CurrentPeriod) is not { } context)
        {
            return (null, [], "this server's application state is behind");
        }

        if (request.Method == "POST" && request.PathAndQuery == ApplicationPeriodKeys.Path)
        {
            return AuthorizePeriodKeyCertificate(request, context);
        }

        if (!_ledger.State.TryAuthorizeSigning(request, context.NetworkHex, out var ordinal, out var messages, out var problem))
        {
            return (null, [], problem);
        }

        return TryGetAppKeyShare(ordinal, out var share, out var commitment, out var sharing)
            ? (new AppKeyMaterial(ordinal, sharing, share, commitment!), messages, string.Empty)
            : (null, [], "this server holds no share of the key");
    }

    /// <summary>
    /// A request to certify an instance's key of a period (toolkit 5.4): authentic, for the period this
    /// server is in, from a registered instance; what gets signed is the statement, with the network key
    /// (share 0 of the committed vector, commitments 0 of the public state).
    /// </summary>
    private (AppKeyMaterial? Key, IReadOnlyList<byte[]> Messages, string Problem) AuthorizePeriodKeyCertificate(SignedRequest request, LedgerContext context)
    {
        if (!_ledger.State.CheckAuthentic(request, context.NetworkHex) || !Application.Handles.TryParse(request.Handle, out var appHex, out var instance))
        {
            return (null, [], "the request is not signed by a registered instance");
        }

        if (!ApplicationPeriodKeys.TryParseRequest(request.Body.Span, out var key, out var period))
        {
            return (null, [], "the body is not { \"publicKey\": 64 hex digits, \"period\": number }");
        }

        if (period != CurrentPeriod)
        {
            return (null, [], $"this server is in period {CurrentPeriod}, not {period}");
        }

        if (_shares is null || _publicState is not { SigningKeyCount: > 0 } state || CommittedPeriod != CurrentPeriod)
        {
            return (null, [], "this server holds no network-key share of this period yet");
        }

        var statement = ApplicationPeriodKeys.Statement(_network, Convert.FromHexString(appHex), instance, period, key);
        var material = new AppKeyMaterial(ulong.MaxValue, "network/p" + CurrentPeriod.ToString(System.Globalization.CultureInfo.InvariantCulture), _shares[0], state.SigningKeyCommitments[0]);
        return (material, [statement], string.Empty);
    }

    /// <summary>
    /// Routing hook: a coordinator's package for a session of a peer is answered at once, with no session
    /// kept here (true: the message is handled).
    /// </summary>
    private bool SignInPeersSession(InstanceId instance, InboundMessage message, ControllerStep step)
    {
        if (instance.Protocol != ProtocolKind.AppSigning || AppSigningMachine.CoordinatorOf(instance) != message.Sender || message.Sender == Self)
        {
            return false;
        }

        var outbox = new Outbox();
        if (instance.Period != CurrentPeriod || !Ciphersuite.TryFromGroupId(_group.Id, out var suite))
        {
            step.Drop(instance, message.Sender, "a signing package of another period");
            return true;
        }

        _appNonces.EnterPeriod(CurrentPeriod);
        AppSigningMachine.SignAsSigner(instance, message, _parameters, Self, suite!, AuthorizeAppSigning, _appNonces, outbox);
        step.Add(instance, outbox);
        return true;
    }

    /// <summary>
    /// Nonce commitments on the submission channel: a coordinator asks (u32 count, u8 start over, u32
    /// sequence), a signer answers with fresh commitments made for that coordinator (u32 sequence, count +
    /// commitments).
    /// </summary>
    private void ReceiveNonceMessage(ProtocolContext context, InstanceId instance, InboundMessage message, ControllerStep step)
    {
        if (instance.Period != CurrentPeriod || message.Sender == Self || !Ciphersuite.TryFromGroupId(_group.Id, out var suite))
        {
            step.Drop(instance, message.Sender, "nonce commitments of another period");
            return;
        }

        var reader = new CanonicalReader(message.Payload.Span);
        if (message.Type == NonceRequestType)
        {
            if (!reader.TryReadU32(out var count) || !reader.TryReadU8(out var reset) || !reader.TryReadU32(out var requestSequence) || !reader.TryReadEnd()
                || count == 0 || count > AppSigningNonces.MaxPerCoordinator || reset > 1)
            {
                step.Drop(instance, message.Sender, "an undecodable nonce request");
                return;
            }

            if (_shares is null)
            {
                step.Drop(instance, message.Sender, "no share of this period to hedge nonces with");
                return;
            }

            _appNonces.EnterPeriod(CurrentPeriod);
            var hedge = _shares[0];
            var made = _appNonces.Make(message.Sender, (int)count, reset == 1, () => AppSigningMachine.NewNonces(suite!, Self, hedge, context.Random));
            var output = new ArrayBufferWriter<byte>();
            var writer = new CanonicalWriter(output);
            writer.WriteU32(requestSequence);
            writer.WriteCount(made.Count, AppSigningNonces.MaxPerCoordinator);
            foreach (var commitment in made)
            {
                commitment.WriteTo(ref writer);
            }

            var outbox = new Outbox();
            outbox.Send(message.Sender, 0, NonceRound, NonceOfferType, output.WrittenSpan.ToArray(), confidential: false);
            step.Add(instance, outbox);
            return;
        }

        if (message.Type != NonceOfferType || !reader.TryReadU32(out var sequence) || !reader.TryReadCount(AppSigningNonces.MaxPerCoordinator, 1, out var offered))
        {
            step.Drop(instance, message.Sender, "an undecodable nonce offer");
            return;
        }

        var commitments = new List<SigningCommitments>(offered);
        for (var i = 0; i < offered; i++)
        {
            if (!SigningCommitments.TryRead(ref reader, suite!.Group, out var commitment) || commitment.Identifier != Identifier.FromInt(suite, message.Sender))
            {
                step.Drop(instance, message.Sender, "an undecodable nonce offer");
                return;
            }

            commitments.Add(commitment);
        }

        if (!reader.TryReadEnd())
        {
            step.Drop(instance, message.Sender, "an undecodable nonce offer");
            return;
        }

        _appCommitments.EnterPeriod(CurrentPeriod);
        if (!_appCommitments.Add(message.Sender, sequence, commitments))
        {
            step.Drop(instance, message.Sender, "nonce commitments made before a start-over");
            return;
        }

        if (commitments.Count == 0)
        {
            // Its pool for this server is full of pairs this server holds no commitments of (packages that
            // never reached it, a restart here): ask it to start over, a little later.
            _appCommitments.Forget(message.Sender, sequence, context.Now);
        }

        foreach (var waiting in _machines.Values.OfType<AppSigningMachine>().Where(m => m.IsWaitingForCommitments).ToList())
        {
            Run(context, waiting, step, (c, o) => waiting.Timeout(c, AppSigningMachine.StockArrivedTimer, o));
            ForgetIfFinished(waiting.Instance);
        }

        AskForCommitments(context, step);
    }

    /// <summary>After a coordinator's session moved: it leaves when finished, and the stock it drew from is topped up.</summary>
    private void AfterAppSigningStep(ProtocolContext context, InstanceId instance, ControllerStep step)
    {
        if (instance.Protocol != ProtocolKind.AppSigning || AppSigningMachine.CoordinatorOf(instance) != Self)
        {
            return;
        }

        ForgetIfFinished(instance);
        AskForCommitments(context, step);
    }

    /// <summary>Asks every peer whose commitments run low for more (one request under way per peer).</summary>
    private void AskForCommitments(ProtocolContext context, ControllerStep step)
    {
        if (_appCommitments.Period != CurrentPeriod)
        {
            return;
        }

        var outbox = new Outbox();
        foreach (var peer in _parameters.Servers.Where(s => s != Self))
        {
            if (_appCommitments.ShouldAsk(peer, context.Now, NonceRequestPatience, out var count, out var reset, out var sequence))
            {
                var output = new ArrayBufferWriter<byte>();
                var writer = new CanonicalWriter(output);
                writer.WriteU32((uint)count);
                writer.WriteU8(reset ? (byte)1 : (byte)0);
                writer.WriteU32(sequence);
                outbox.Send(peer, 0, NonceRound, NonceRequestType, output.WrittenSpan.ToArray(), confidential: false);
            }
        }

        if (outbox.Messages.Count > 0)
        {
            step.Add(LedgerSubmissions(CurrentPeriod), outbox);
        }
    }

    /// <summary>Period p begins: every nonce pair made for a coordinator is wiped; a coordinator that signed last period asks ahead.</summary>
    private void EnterAppSigningPeriod(ProtocolContext context, ulong period, ControllerStep step)
    {
        _appNonces.EnterPeriod(period);
        _appPublicKeys.Clear();
        var signedLastPeriod = _appCommitments.WasUsed;
        if (_appCommitments.EnterPeriod(period) && signedLastPeriod)
        {
            AskForCommitments(context, step);
        }
    }

    /// <summary>A finished session leaves the controller (its late messages are dropped as for an unknown instance).</summary>
    private void ForgetIfFinished(InstanceId instance)
    {
        if (instance.Protocol == ProtocolKind.AppSigning && _machines.TryGetValue(instance, out var machine) && machine.IsFinished)
        {
            _machines.Remove(instance);
            _appSigningSessions--;
        }
    }

    /// <summary>What a coordinator's sessions take from this server.</summary>
    private sealed class AppSigningSupport(ServerController controller) : IAppSigningSupport
    {
        public IReadOnlyList<(int Signer, IReadOnlyList<SigningCommitments> Commitments, uint Generation)>? TryDraw(IEnumerable<int> candidates, int count, int perSigner) =>
            controller._appCommitments.Period == controller.CurrentPeriod ? controller._appCommitments.TryDraw(candidates, count, perSigner) : null;

        public void Forget(int signer, uint generation, TimeSpan now) => controller._appCommitments.Forget(signer, generation, now);

        public PublicKeyPackage PublicKeysOf(AppKeyMaterial key)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (!controller._appPublicKeys.TryGetValue((key.Ordinal, key.Sharing), out var package))
            {
                if (!Ciphersuite.TryFromGroupId(controller._group.Id, out var suite) || suite is null)
                {
                    throw new InvalidOperationException("A signing session runs only in a group FROST has a suite for.");
                }

                package = new PublicKeyPackage(
                    new GroupPublicKey(suite, key.Commitment.ConstantTerm),
                    controller._parameters.Servers.Select(j => new VerifyingShare(suite, Identifier.FromInt(suite, j), key.Commitment.PublicShare(j))),
                    controller._parameters.ReconstructionThreshold);
                controller._appPublicKeys[(key.Ordinal, key.Sharing)] = package;
            }

            return package;
        }
    }
}

// References: RFC 9591 (FROST); docs/BRIEF.md section 5 ("Sign(message, key)"); docs/PROTOCOLS.md
// "Application signing".
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
    /// <summary>How many sessions (coordinated or signed in) this server runs at once.</summary>
    public const int MaxAppSigningSessions = 8192;

    /// <summary>How long a signing attempt waits for its signers.</summary>
    public static readonly TimeSpan AppSigningWindow = TimeSpan.FromSeconds(2);

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

        var (key, message, refusal) = AuthorizeAppSigning(request);
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
        StartMachine(context, AppSigningMachine.ForCoordinator(session, _parameters, Self, suite!, AuthorizeAppSigning, AppSigningWindow, request, key, message), step);
        ForgetIfFinished(session);
        problem = string.Empty;
        return step;
    }

    /// <summary>What every signer checks: the request is an authentic, approved signing request, and this server holds a share of the key.</summary>
    private (AppKeyMaterial? Key, byte[] Message, string Problem) AuthorizeAppSigning(SignedRequest request)
    {
        if (!IsLedgerCurrent || LedgerContextOf(CurrentPeriod) is not { } context)
        {
            return (null, [], "this server's application state is behind");
        }

        if (request.Method == "POST" && request.PathAndQuery == ApplicationPeriodKeys.Path)
        {
            return AuthorizePeriodKeyCertificate(request, context);
        }

        if (!_ledger.State.TryAuthorizeSigning(request, context.NetworkHex, out var ordinal, out var message, out var problem))
        {
            return (null, [], problem);
        }

        return TryGetAppKeyShare(ordinal, out var share, out var commitment, out var sharing)
            ? (new AppKeyMaterial(ordinal, sharing, share, commitment!), message, string.Empty)
            : (null, [], "this server holds no share of the key");
    }

    /// <summary>
    /// A request to certify an instance's key of a period (toolkit 5.4): authentic, for the period this
    /// server is in, from a registered instance; what gets signed is the statement, with the network key
    /// (share 0 of the committed vector, commitments 0 of the public state).
    /// </summary>
    private (AppKeyMaterial? Key, byte[] Message, string Problem) AuthorizePeriodKeyCertificate(SignedRequest request, LedgerContext context)
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
        return (material, statement, string.Empty);
    }

    /// <summary>Routing hook: a coordinator's first request of a session makes this server's signer instance.</summary>
    private void StartAppSignerOnRequest(ProtocolContext context, InstanceId instance, InboundMessage message, ControllerStep step)
    {
        if (instance.Protocol != ProtocolKind.AppSigning || _machines.ContainsKey(instance) || instance.Period != CurrentPeriod
            || message.Round != AppSigningMachine.CommitRound || message.Type != AppSigningMachine.RequestType
            || AppSigningMachine.CoordinatorOf(instance) != message.Sender || message.Sender == Self
            || _appSigningSessions >= MaxAppSigningSessions || !Ciphersuite.TryFromGroupId(_group.Id, out var suite))
        {
            return;
        }

        _appSigningSessions++;
        StartMachine(context, AppSigningMachine.ForSigner(instance, _parameters, Self, suite!, AuthorizeAppSigning, AppSigningWindow), step);
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
}

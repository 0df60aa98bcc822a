// References: docs/API.md "POST /v1/random"; Proactive.Protocols.Services.ApplicationRandomness;
// docs/PROTOCOLS.md "Joint randomness" (the DPRF key at signing-key index DprfKeyIndex).
using Proactive.Crypto.Random;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Services;

namespace Proactive.Protocols.Controller;

/// <summary>Services the node offers applications from the controller's state, without handing out a share.</summary>
public sealed partial class ServerController
{
    /// <summary>
    /// This server's partial evaluation of application randomness on <paramref name="message"/>
    /// (<see cref="ApplicationRandomness.Message"/>) with its share of the DPRF key of its committed share
    /// vector, or null when it holds no such share (before the DPRF key exists, while recovering) or the
    /// share does not match its public state. The domain is fixed to <see cref="ApplicationRandomness.Prf"/>:
    /// no caller can make this evaluate the per-period beacon.
    /// </summary>
    /// <remarks>
    /// The partial is checked against this server's public share of the committed public state before it
    /// leaves (one DLEQ verification): a server whose share went bad answers nothing rather than a partial
    /// every client would reject.
    /// </remarks>
    /// <exception cref="ArgumentException">A message longer than the DPRF accepts.</exception>
    public ApplicationRandomnessPartial? EvaluateApplicationRandomness(ReadOnlySpan<byte> message, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_shares is not { } shares || shares.Count <= DprfKeyIndex
            || _publicState is not { SigningKeyCount: > DprfKeyIndex } state || CommittedPeriod is not { } period)
        {
            return null;
        }

        var prf = ApplicationRandomness.Prf(_group);
        var value = shares[DprfKeyIndex];
        if (value.IsZero)
        {
            return null;
        }

        using var share = new SecretShare(_group, Self, value);
        var partial = prf.Evaluate(share, message, random);
        var publicShare = state.SigningKeyCommitments[DprfKeyIndex].PublicShare(Self);
        return prf.VerifyPartial(publicShare, message, partial) ? new ApplicationRandomnessPartial(period, partial) : null;
    }
}

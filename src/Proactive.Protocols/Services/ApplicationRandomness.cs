// References: Naor, Pinkas and Reingold, "Distributed Pseudo-Random Functions and KDCs" (EUROCRYPT
// 1999); toolkit (seed 001) section 5.3 (GetRandom()); docs/BRIEF.md section 2 ("joint randomness");
// docs/API.md "POST /v1/random"; RFC 9380 section 3.1 (a distinct DST per use of hash to curve).
using Proactive.Crypto.Dprf;
using Proactive.Crypto.Groups;

namespace Proactive.Protocols.Services;

/// <summary>
/// Randomness for applications: the network's DPRF key (the same one the per-period beacon uses)
/// evaluated under a domain of its own on a message that binds the asking application and its input.
/// Shared by the server (which evaluates its partial) and the client SDK (which verifies and combines).
/// </summary>
/// <remarks>
/// <para><b>Why another domain.</b> The domain is the hash-to-group DST, so H_app(m) and the beacon's
/// H_beacon(m) are unrelated points: no application input, whatever its bytes, makes a server evaluate
/// the beacon of a future period (<see cref="Randomness.RandomnessMachine.PeriodMessage"/>), so
/// applications can never pre-compute the beacon, nor the beacon theirs.</para>
/// <para><b>The message</b>, version 1: <c>u8 1 || application id (16 bytes) || input (0..1024 bytes)</c>.
/// The fixed-length prefix makes it parse one way; the application id makes two applications' values
/// for the same input independent. The function is deterministic: the same application and input give
/// the same value in every period (the key is refreshed, never changed), so an application that wants
/// fresh randomness sends a fresh input, and one that wants a value anyone can re-derive later commits
/// to its input first.</para>
/// </remarks>
public static class ApplicationRandomness
{
    /// <summary>The domain prefix; the group's name follows, as in the beacon's domain.</summary>
    public const string DomainPrefix = "proactive/app-random/v1/";

    /// <summary>The message version byte.</summary>
    public const byte MessageVersion = 1;

    /// <summary>Bytes of an application id.</summary>
    public const int ApplicationIdLength = 16;

    /// <summary>Longest input: inputs are labels, seeds and commitments, not bulk data.</summary>
    public const int MaxInputLength = 1024;

    /// <summary>The DPRF of application randomness over <paramref name="group"/> (domain <see cref="DomainPrefix"/> + group name).</summary>
    public static DistributedPrf Prf(PrimeOrderGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return new DistributedPrf(group, DomainPrefix + group.Name);
    }

    /// <summary>The evaluated message for <paramref name="applicationId"/> and <paramref name="input"/> (see the remarks).</summary>
    /// <exception cref="ArgumentException">An application id that is not 16 bytes or an input longer than <see cref="MaxInputLength"/>.</exception>
    public static byte[] Message(ReadOnlySpan<byte> applicationId, ReadOnlySpan<byte> input)
    {
        if (applicationId.Length != ApplicationIdLength)
        {
            throw new ArgumentException($"An application id is {ApplicationIdLength} bytes.", nameof(applicationId));
        }

        if (input.Length > MaxInputLength)
        {
            throw new ArgumentException($"Inputs are at most {MaxInputLength} bytes.", nameof(input));
        }

        var message = new byte[1 + ApplicationIdLength + input.Length];
        message[0] = MessageVersion;
        applicationId.CopyTo(message.AsSpan(1));
        input.CopyTo(message.AsSpan(1 + ApplicationIdLength));
        return message;
    }
}

/// <summary>
/// A server's partial evaluation of application randomness: made with its share of the DPRF key of
/// <paramref name="Period"/> (the period whose refresh it last committed), checkable against the public
/// shares of that period's certified public state.
/// </summary>
/// <param name="Period">The committed period of the share used.</param>
/// <param name="Partial">Y_i = x_i * H(m) with its DLEQ proof.</param>
public sealed record ApplicationRandomnessPartial(ulong Period, DprfPartialEvaluation Partial);

// References: toolkit (seed 001) section 5.3 (GenerateDSSKey: the servers engage in the generation of a
// distributed key); docs/BRIEF.md section 3 ("DKG") and section 5 ("GenerateKey: a new threshold signing
// key owned by the application, refreshed every period"); docs/PROTOCOLS.md "Application keys".
using System.Buffers.Binary;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Sharing;
using Proactive.Protocols.Application;
using Proactive.Protocols.Dkg;
using Proactive.Protocols.Machines;

namespace Proactive.Protocols.Controller;

/// <summary>An application's key was generated here: its DKG completed (with this server's share when it has one).</summary>
public sealed record AppKeyGenerated(InstanceId Instance, ulong Ordinal, Element PublicKey, bool HoldsShare) : ProtocolEvent;

/// <summary>
/// Application signing keys. When the ledger applies a GenerateKey, every server starts the key's DKG
/// (Dkg, L, <see cref="AppKeyDkgBase"/> + ordinal) in the ledger's period L. Its result (this server's
/// share, the Feldman commitments everyone agrees on) is kept until the refresh of L + 2, where the key
/// joins the share vector as a signing key (after the network and DPRF keys and the keys before it,
/// before the data keys) and is refreshed from then on with every other secret.
/// </summary>
public sealed partial class ServerController
{
    /// <summary>Sequences of application keys' DKGs start here (far above the network's own DKGs).</summary>
    public const ulong AppKeyDkgBase = 1UL << 40;

    /// <summary>Generated keys' shares before they join the vector: <c>app/private/key-share/{ordinal}</c> (SECRET).</summary>
    public const string AppKeySharePrefix = "app/private/key-share/";

    /// <summary>Generated keys' commitments: <c>controller/app-key/{ordinal}</c> (public).</summary>
    public const string AppKeyCommitmentPrefix = "controller/app-key/";

    /// <summary>How many application keys the committed vector holds (u64).</summary>
    public const string IncludedKeysKey = "controller/app-keys-included";

    private readonly Dictionary<ulong, FeldmanCommitment> _appKeyCommitments = [];
    private readonly Dictionary<ulong, Scalar> _appKeyShares = [];
    private ulong _appKeyDkgsStarted;
    private ulong _includedKeys;
    private ulong? _includingKeys;

    /// <summary>The DKG instance of application key <paramref name="ordinal"/>, run in the ledger period <paramref name="period"/> that generated it.</summary>
    public static InstanceId AppKeyDkg(ulong period, ulong ordinal) => new(ProtocolKind.Dkg, period, AppKeyDkgBase + ordinal);

    /// <summary>Application keys in the committed vector.</summary>
    public ulong IncludedKeys => _includedKeys;

    /// <summary>The public key of application key <paramref name="ordinal"/> once its DKG completed here.</summary>
    public Element? AppKeyPublicKey(ulong ordinal) =>
        _appKeyCommitments.TryGetValue(ordinal, out var commitment) ? commitment.ConstantTerm : null;

    /// <summary>
    /// This server's share of application key <paramref name="ordinal"/> and the commitments of that
    /// sharing, named like secrets' sharings ("p{period}" once in the vector, "dkg" before).
    /// </summary>
    public bool TryGetAppKeyShare(ulong ordinal, out Scalar share, out FeldmanCommitment? commitment, out string sharing)
    {
        share = default;
        commitment = null;
        sharing = string.Empty;
        if (ordinal < _includedKeys && _shares is not null && _publicState is not null && CommittedPeriod is { } committed)
        {
            var index = AppKeyIndex(_publicState, ordinal);
            if (index < 0 || index >= _publicState.SigningKeyCount)
            {
                return false;
            }

            share = _shares[index];
            commitment = _publicState.SigningKeyCommitments[index];
            sharing = "p" + committed.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }

        if (_appKeyShares.TryGetValue(ordinal, out share) && _appKeyCommitments.TryGetValue(ordinal, out commitment))
        {
            sharing = "dkg";
            return true;
        }

        return false;
    }

    /// <summary>The index of application key <paramref name="ordinal"/> in a vector holding <see cref="IncludedKeys"/> of them: the signing keys end with them.</summary>
    private int AppKeyIndex(Refresh.RefreshPublicState state, ulong ordinal) => state.SigningKeyCount - (int)_includedKeys + (int)ordinal;

    /// <summary>After a batch: the DKG of every key the ledger generated that this server has not started yet.</summary>
    private void StartAppKeyDkgs(ProtocolContext context, ulong ledgerPeriod, ControllerStep step)
    {
        while (_appKeyDkgsStarted < _ledger.State.KeyCount)
        {
            var (_, record) = _ledger.State.KeyAt(_appKeyDkgsStarted);
            _appKeyDkgsStarted++;
            var instance = AppKeyDkg(record.GeneratedPeriod, record.Ordinal);
            if (_appKeyCommitments.ContainsKey(record.Ordinal) || record.GeneratedPeriod != ledgerPeriod || !_ownKeys.ContainsKey(record.GeneratedPeriod) || _machines.ContainsKey(instance))
            {
                continue;
            }

            var dkg = StartDkg(context, instance);
            foreach (var output in dkg.Outputs)
            {
                step.Add(output.Instance, output.Outbox);
            }
        }
    }

    private bool IsExpectedAppKeyDkg(InstanceId instance) =>
        instance.Sequence >= AppKeyDkgBase && instance.Sequence - AppKeyDkgBase < _ledger.State.KeyCount + (ulong)LedgerBatch.MaxRequests
        && instance.Period + 1 >= CurrentPeriod && instance.Period <= CurrentPeriod;

    /// <summary>An application key's DKG completed: keep the result (durably) and tell the driver.</summary>
    private void OnAppKeyGenerated(DkgMachine dkg, DkgCompleted completed, ControllerStep step)
    {
        var ordinal = completed.Instance.Sequence - AppKeyDkgBase;
        var outbox = new Outbox();
        _appKeyCommitments[ordinal] = completed.Combined;
        outbox.Persist(AppKeyCommitmentPrefix + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), completed.Combined.Encode());
        if (dkg.Share is { } share)
        {
            _appKeyShares[ordinal] = share.Value;
            var encoded = new byte[_group.ScalarLength];
            _group.EncodeScalar(share.Value, encoded);
            outbox.Persist(AppKeySharePrefix + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture), encoded);
        }

        outbox.Emit(new AppKeyGenerated(completed.Instance, ordinal, completed.GroupPublicKey, dkg.Share is not null));
        step.Add(completed.Instance, outbox);
    }

    /// <summary>
    /// Before the refresh of p: keys generated in the ledgers up to p - 2 join the signing keys of the
    /// vector (this server's DKG share, or zero where it has none) with their commitments. False when
    /// this server lacks a key's public result (its DKG never completed here): it cannot build the
    /// network's public state and sits the refresh out (the shares are recovered later).
    /// </summary>
    private bool TryWithGeneratedKeys(ref Scalar[] values, ref List<FeldmanCommitment> commitments, int signingKeyCount)
    {
        _includingKeys = null;
        var target = _includedKeys;
        while (target < _ledger.State.KeyCount && _ledger.State.KeyAt(target).Record.GeneratedPeriod + 2 <= CurrentPeriod)
        {
            target++;
        }

        if (target == _includedKeys)
        {
            return true;
        }

        var added = (int)(target - _includedKeys);
        var grown = new Scalar[values.Length + added];
        values.AsSpan(0, signingKeyCount).CopyTo(grown);
        values.AsSpan(signingKeyCount).CopyTo(grown.AsSpan(signingKeyCount + added));
        for (var ordinal = _includedKeys; ordinal < target; ordinal++)
        {
            if (!_appKeyCommitments.TryGetValue(ordinal, out var commitment))
            {
                Array.Clear(grown);
                return false;
            }

            commitments.Add(commitment);
            grown[signingKeyCount + (int)(ordinal - _includedKeys)] = _appKeyShares.TryGetValue(ordinal, out var share) ? share : _group.Zero;
        }

        Array.Clear(values);
        values = grown;
        _includingKeys = target;
        return true;
    }

    /// <summary>The refresh that took the keys in committed: their DKG shares are old shares now.</summary>
    private void OnKeysIncluded(Outbox outbox)
    {
        if (_includingKeys is not { } target)
        {
            return;
        }

        for (var ordinal = _includedKeys; ordinal < target; ordinal++)
        {
            if (_appKeyShares.Remove(ordinal))
            {
                outbox.Persist(EraseKey(AppKeySharePrefix + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture)), []);
            }
        }

        _includedKeys = target;
        _includingKeys = null;
        var encoded = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(encoded, target);
        outbox.Persist(IncludedKeysKey, encoded);
    }

    private static void RestoreAppKeys(ServerController controller, IReadOnlyDictionary<string, byte[]> store)
    {
        if (store.TryGetValue(IncludedKeysKey, out var included) && included.Length == 8)
        {
            controller._includedKeys = BinaryPrimitives.ReadUInt64BigEndian(included);
        }

        foreach (var (key, value) in store)
        {
            if (key.StartsWith(AppKeySharePrefix, StringComparison.Ordinal)
                && ulong.TryParse(key[AppKeySharePrefix.Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal)
                && controller._group.TryDecodeScalar(value, out var share))
            {
                controller._appKeyShares[ordinal] = share;
            }
            else if (key.StartsWith(AppKeyCommitmentPrefix, StringComparison.Ordinal)
                && ulong.TryParse(key[AppKeyCommitmentPrefix.Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var keyOrdinal)
                && FeldmanCommitment.TryDecode(value, controller._group, out var commitment, out Crypto.Codec.CodecError _))
            {
                controller._appKeyCommitments[keyOrdinal] = commitment;
            }
        }

        // Keys whose DKG already ran (or belongs to a ledger period this server can no longer take part in) are not started again.
        controller._appKeyDkgsStarted = controller._ledger.State.KeyCount;
    }
}

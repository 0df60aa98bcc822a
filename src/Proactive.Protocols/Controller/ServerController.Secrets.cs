// References: docs/BRIEF.md section 5 ("a random data key is secret-shared and the value is AEAD-encrypted
// under it; shares are refreshed and recovered every period like every other long-lived secret") and
// section 3 ("Refresh at scale"); docs/PROTOCOLS.md "Application secrets".
using System.Buffers.Binary;
using Proactive.Crypto.Groups;
using Proactive.Protocols.Application;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;

namespace Proactive.Protocols.Controller;

/// <summary>
/// Application secrets in the share vector. A client deals a data key's shares itself and hands each
/// server its share under a dealing id (<see cref="AcceptDealtShare"/>), then stores the secret through
/// the ledger, which gives it an ordinal. Secrets stored in the ledgers up to p - 2 join the share
/// vector as data keys at the refresh of p (ordinal o at index base + o), from then on refreshed with
/// every other secret; the dealt share is erased when that refresh commits.
/// </summary>
/// <remarks>
/// <para>Durable state: dealt shares under <see cref="DealtSharePrefix"/> (private), and how many
/// secrets the committed vector holds under <see cref="IncludedSecretsKey"/> (public: the same at every
/// server that committed the same refresh), so base = m - included.</para>
/// <para>A server that never got its share of a secret (the client did not reach it, or it was down)
/// holds a zero in that place: its share is useless and the client's reconstruction, which checks every
/// combination of t + 1 shares against the value's authentication tag, does without it.</para>
/// </remarks>
public sealed partial class ServerController
{
    /// <summary>Dealt shares: <c>app/private/dealt/{appHex}/{dealingHex}</c> (SECRET).</summary>
    public const string DealtSharePrefix = "app/private/dealt/";

    /// <summary>How many application secrets the committed share vector holds (u64).</summary>
    public const string IncludedSecretsKey = "controller/app-secrets-included";

    /// <summary>
    /// Set (private) when this server's committed vector holds a secret whose dealt share never reached
    /// it (a zero in its place): at the next period start it asks for share recovery of its whole vector,
    /// which the other servers' consistent shares restore, the missing one included.
    /// </summary>
    public const string IncompleteSharesKey = "controller/incomplete-shares";

    /// <summary>Most dealt shares waiting to join the vector.</summary>
    public const int MaxDealtShares = 1_000_000;

    private readonly Dictionary<string, Scalar> _dealtShares = new(StringComparer.Ordinal);
    private ulong _includedSecrets;
    private ulong? _includingSecrets;

    // This period's refresh runs on a layout this server could not complete (see RefreshMachine.LayoutMayBeStale).
    private bool _refreshLayoutUncertain;
    private ShareVector? _sharesWithSecrets;
    private bool _includingIncomplete;
    private bool _incompleteShares;

    /// <summary>Application secrets in the committed vector.</summary>
    public ulong IncludedSecrets => _includedSecrets;

    /// <summary>Dealt shares held, waiting to join the vector.</summary>
    public int DealtShareCount => _dealtShares.Count;

    /// <summary>Keeps this server's share of a client's dealing (durable before the client is told).</summary>
    public ControllerStep AcceptDealtShare(string applicationIdHex, ReadOnlySpan<byte> dealing, Scalar share, out bool accepted)
    {
        ArgumentNullException.ThrowIfNull(applicationIdHex);
        var step = new ControllerStep();
        var key = DealtShareKey(applicationIdHex, dealing);
        if (_dealtShares.Count >= MaxDealtShares && !_dealtShares.ContainsKey(key))
        {
            accepted = false;
            return step;
        }

        _dealtShares[key] = share;
        var encoded = new byte[_group.ScalarLength];
        _group.EncodeScalar(share, encoded);
        var outbox = new Outbox();
        outbox.Persist(key, encoded);
        step.Add(LedgerSubmissions(CurrentPeriod), outbox);
        accepted = true;
        return step;
    }

    /// <summary>
    /// A secret's request carried its data key's shares and was applied: opens this server's with its
    /// encryption key of the period they were sealed for and keeps it like a share handed over by
    /// <see cref="AcceptDealtShare"/>, durable with the entry. A share that does not open (the client sealed
    /// it wrongly, or the key of that period is gone) is not kept: this server then holds a zero in its place
    /// when the secret joins the vector and recovers it (<see cref="IncompleteSharesKey"/>).
    /// </summary>
    private void KeepCarriedShare(DealtShares dealt, Outbox outbox)
    {
        var key = DealtShareKey(dealt.ApplicationIdHex, dealt.Dealing);
        if (Self > dealt.Sealed.Count || !_ownKeys.TryGetValue(dealt.Period, out var keys)
            || (_dealtShares.Count >= MaxDealtShares && !_dealtShares.ContainsKey(key))
            || !Crypto.Hpke.HpkeSealedMessage.TryDecode(dealt.Sealed[Self - 1], out var message)
            || !Crypto.Hpke.HpkeBaseMode.TryOpen(Crypto.Hpke.HpkeSuite.X25519Sha256ChaCha20Poly1305, keys.Encryption,
                DataKeySharing.DealtShareInfo(_network.ToString(), dealt.Handle, dealt.Dealing), [], message, out var plain))
        {
            return;
        }

        try
        {
            if (plain.Length == _group.ScalarLength && _group.TryDecodeScalar(plain, out var share))
            {
                _dealtShares[key] = share;
                outbox.Persist(key, plain.ToArray());
            }
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <summary>Keeps many dealt shares of the caller's dealings in one durable step (bulk import); all or none.</summary>
    public ControllerStep AcceptDealtShares(string applicationIdHex, IReadOnlyList<(byte[] Dealing, Scalar Share)> shares, out bool accepted)
    {
        ArgumentNullException.ThrowIfNull(applicationIdHex);
        ArgumentNullException.ThrowIfNull(shares);
        var step = new ControllerStep();
        if (_dealtShares.Count + shares.Count > MaxDealtShares)
        {
            accepted = false;
            return step;
        }

        var outbox = new Outbox();
        var encoded = new byte[_group.ScalarLength];
        foreach (var (dealing, share) in shares)
        {
            var key = DealtShareKey(applicationIdHex, dealing);
            _dealtShares[key] = share;
            _group.EncodeScalar(share, encoded);
            outbox.Persist(key, encoded.ToArray());
        }

        System.Security.Cryptography.CryptographicOperations.ZeroMemory(encoded);
        step.Add(LedgerSubmissions(CurrentPeriod), outbox);
        accepted = true;
        return step;
    }

    /// <summary>
    /// This server's current share of a stored secret and which sharing it belongs to ("p{period}" once
    /// in the vector, refreshed at each commit; "dealt" before): a client combines t + 1 shares of one
    /// sharing. False when this server holds none.
    /// </summary>
    public bool TryGetSecretShare(string applicationIdHex, DataRecord record, out Scalar share, out string sharing)
    {
        ArgumentNullException.ThrowIfNull(record);
        share = default;
        sharing = string.Empty;
        if (!record.IsSecret)
        {
            return false;
        }

        if (record.Ordinal < _includedSecrets && _shares is not null && _publicState is not null && CommittedPeriod is { } committed)
        {
            var index = (long)_publicState.SecretCount - (long)_includedSecrets + (long)record.Ordinal;
            if (index < _publicState.SigningKeyCount || index >= _shares.Count)
            {
                return false;
            }

            share = _shares[(int)index];
            sharing = "p" + committed.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }

        if (_dealtShares.TryGetValue(DealtShareKey(applicationIdHex, record.Dealing), out share))
        {
            sharing = "dealt";
            return true;
        }

        return false;
    }

    /// <summary>
    /// Before the refresh of the current period: the secrets the ledgers up to p - 2 stored that the
    /// vector does not hold yet join it (their dealt shares, or zero where this server has none), with
    /// a public state of the new size and a digest of the new vector.
    /// </summary>
    private (ShareVector Shares, RefreshPublicState State, ShareVectorDigest? Digest) WithStoredSecrets(ProtocolContext context, ShareVector shares, RefreshPublicState state, ShareVectorDigest? digest)
    {
        _includingSecrets = null;
        _includingKeys = null;
        _refreshLayoutUncertain = PeriodSchedule is not null && CurrentPeriod >= 2 && !IsLedgerCurrent;
        if (PeriodSchedule is null || !IsLedgerCurrent || CurrentPeriod < 2)
        {
            return (shares, state, digest);
        }

        var target = _includedSecrets;
        var stored = _ledger.State.SecretCount;
        while (target < stored && _ledger.State.SecretAt(target).Record.StoredPeriod + 2 <= CurrentPeriod)
        {
            target++;
        }

        var values = new Scalar[shares.Count + (int)(target - _includedSecrets)];
        shares.Values.CopyTo(values);
        _includingIncomplete = false;
        for (var ordinal = _includedSecrets; ordinal < target; ordinal++)
        {
            // A secret overwritten since keeps its ordinal's entry pointing at the newer record: that place stays zero everywhere.
            var (app, record) = _ledger.State.SecretAt(ordinal);
            var place = shares.Count + (int)(ordinal - _includedSecrets);
            if (record.Ordinal != ordinal)
            {
                values[place] = _group.Zero;
            }
            else if (_dealtShares.TryGetValue(DealtShareKey(app, record.Dealing), out var dealt))
            {
                values[place] = dealt;
            }
            else
            {
                values[place] = _group.Zero;
                _includingIncomplete = true;
            }
        }

        var commitments = state.SigningKeyCommitments.ToList();
        if (!TryWithGeneratedKeys(ref values, ref commitments, state.SigningKeyCount))
        {
            // Without a key's public result this server cannot build the network's new public state: it
            // refreshes the old one, which the others' dealings do not match, and its shares are recovered.
            Array.Clear(values);
            _refreshLayoutUncertain = true;
            return (shares, state, digest);
        }

        if (target == _includedSecrets && _includingKeys is null)
        {
            Array.Clear(values);
            return (shares, state, digest);
        }

        if (values.Length > ShareVector.MaxSecrets || commitments.Count > RefreshPublicState.MaxSigningKeys)
        {
            Array.Clear(values);
            _includingKeys = null;
            return (shares, state, digest);
        }

        var extended = new ShareVector(_group, Self, values);
        Array.Clear(values);
        _sharesWithSecrets?.Dispose();
        _sharesWithSecrets = extended;
        var extendedState = new RefreshPublicState(_group, extended.Count, commitments);
        _includingSecrets = target;
        return (extended, extendedState, digest is null ? null : ShareVectorDigest.Compute(extended, context.Random));
    }

    /// <summary>The refresh that took the stored secrets in committed: record it and erase their dealt shares (old shares, now refreshed).</summary>
    private void OnSecretsIncluded(Outbox outbox)
    {
        OnKeysIncluded(outbox);
        if (_includingSecrets is not { } target)
        {
            return;
        }

        for (var ordinal = _includedSecrets; ordinal < target; ordinal++)
        {
            var (app, record) = _ledger.State.SecretAt(ordinal);
            var key = DealtShareKey(app, record.Dealing);
            if (record.Ordinal == ordinal && _dealtShares.Remove(key))
            {
                outbox.Persist(EraseKey(key), []);
            }
        }

        _includedSecrets = target;
        _includingSecrets = null;
        _sharesWithSecrets?.Dispose();
        _sharesWithSecrets = null;
        if (_includingIncomplete)
        {
            _incompleteShares = true;
            _includingIncomplete = false;
            outbox.Persist(IncompleteSharesKey, [1]);
        }
        var encoded = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(encoded, target);
        outbox.Persist(IncludedSecretsKey, encoded);
    }

    /// <summary>
    /// At the period start: a vector with a missing dealt share is damaged like a corrupted one, except
    /// that its digest is right (it was computed over the zero); the digest is dropped so that recovery
    /// checks the data keys by the helpers' agreement instead. Consumes the mark.
    /// </summary>
    private string? IncompleteSharesProblem(Outbox outbox)
    {
        if (!_incompleteShares)
        {
            return null;
        }

        _incompleteShares = false;
        _digest = null;
        outbox.Persist(EraseKey(IncompleteSharesKey), []);
        return "a stored secret's dealt share never reached this server (its place in the vector is empty)";
    }

    /// <summary>Wipes what this part holds (with the controller).</summary>
    private void DisposeSecrets()
    {
        _sharesWithSecrets?.Dispose();
        _sharesWithSecrets = null;
        _dealtShares.Clear();
    }

    private static string DealtShareKey(string applicationIdHex, ReadOnlySpan<byte> dealing) =>
        DealtSharePrefix + applicationIdHex + "/" + Convert.ToHexStringLower(dealing);

    private static void RestoreSecrets(ServerController controller, IReadOnlyDictionary<string, byte[]> store)
    {
        if (store.TryGetValue(IncludedSecretsKey, out var included) && included.Length == 8)
        {
            controller._includedSecrets = BinaryPrimitives.ReadUInt64BigEndian(included);
        }

        controller._incompleteShares = store.ContainsKey(IncompleteSharesKey);

        foreach (var (key, value) in store)
        {
            if (key.StartsWith(DealtSharePrefix, StringComparison.Ordinal) && controller._group.TryDecodeScalar(value, out var share))
            {
                controller._dealtShares[key] = share;
            }
        }
    }
}

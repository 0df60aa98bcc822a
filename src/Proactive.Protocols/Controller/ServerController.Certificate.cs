// References: toolkit (seed 001) Table 1 steps 4-5 (the KeyTable threshold-signed with S_cert, verified by
// every server) and remark 2 (recovering servers do not sign); RFC 9591 (FROST) sections 5.1-5.4;
// docs/BRIEF.md section 3 "Refresh for period p" and "Threshold signing"; docs/PROTOCOLS.md "Controller
// and simulator" ("Period certificate every period").
using Proactive.Crypto.Frost;
using Proactive.Protocols.KeyTable;
using Proactive.Protocols.Machines;
using Proactive.Protocols.Refresh;
using Proactive.Protocols.Signing;

namespace Proactive.Protocols.Controller;

/// <summary>
/// The period certificate wiring: every period, once the KeyTable of p is decided and the refresh of p
/// committed, the network threshold-signs the period root (<see cref="PeriodCertificate"/>) with FROST
/// over the network-key shares of p, and every server keeps the verified certificate.
/// </summary>
/// <remarks>
/// <para>Per period p the controller runs <see cref="PeriodCertificateMachine"/> (KeyTable, p,
/// <see cref="PeriodCertificateMachine.CertificateSequence"/>), fed with the decided table and the committed
/// public state. When the root is known and this server signs (it committed p in period p and is not
/// recovering), it builds a FROST key package from share 0 of its committed vector and the public key
/// package from signing-key commitments 0 of its committed public state (MinSigners = t+1), a
/// <see cref="NoncePool"/> and <see cref="CommitmentBook"/>, and opens the nonce channel (Signing, p, 0)
/// with one nonce reserved per coordinator. The machine's schedule says when this server coordinates;
/// signers make their session instance on the coordinator's first package (buffered until their pool
/// exists) and sign only what <see cref="PeriodCertificateMachine.AcceptsForSigning"/> accepts.</para>
/// <para>The pool and its key package hold a copy of the share of p: they are wiped when the refresh of
/// p + 1 commits (with the old shares), and the nonce records of p are erased then.</para>
/// <para>Durable state: each certificate under <see cref="CertificateKeyOf"/> (current and previous
/// period; older ones erased by tombstones), read back by <see cref="Restore"/>.</para>
/// </remarks>
public sealed partial class ServerController
{
    /// <summary>The durable key prefix of the period certificates.</summary>
    public const string CertificateKeyPrefix = "controller/period-certificate/";

    /// <summary>Nonces each server reserves per coordinator for the certificate sessions of a period (replacements refill them).</summary>
    public const int CertificateNonceBatch = 1;

    private readonly Dictionary<ulong, PeriodSigning> _signing = [];
    private readonly Dictionary<ulong, PeriodCertificate> _certificates = [];
    private readonly Dictionary<ulong, InstanceId> _pendingCoordination = [];
    private readonly Dictionary<string, byte[]> _restoredSigningRecords = [];
    private bool _recoveringThisPeriod;

    /// <summary>The verified certificate of <paramref name="period"/> held here (current and previous period, also after a restart).</summary>
    public PeriodCertificate? CertificateOf(ulong period) => _certificates.GetValueOrDefault(period);

    /// <summary>The durable key of the certificate of <paramref name="period"/>.</summary>
    public static string CertificateKeyOf(ulong period) => CertificateKeyPrefix + period.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private PeriodCertificateTimeouts CertificateTimeouts => _timeouts.Certificate ?? PeriodCertificateTimeouts.Default;

    /// <summary>The network key (C_0 of signing key 0, which never changes) as a FROST group key, once known here.</summary>
    private GroupPublicKey? NetworkGroupKey =>
        _publicState is { SigningKeyCount: > 0 } state && Ciphersuite.TryFromGroupId(_group.Id, out var suite)
            ? new GroupPublicKey(suite, state.SigningKeyCommitments[0].ConstantTerm)
            : null;

    /// <summary>After a restart: the certificates on disk and the nonce records (so a pool of the same period never reissues an index).</summary>
    private static void RestoreCertificates(ServerController controller, IReadOnlyDictionary<string, byte[]> store)
    {
        Ciphersuite.TryFromGroupId(controller._group.Id, out var suite);
        foreach (var (key, value) in store)
        {
            if (key.StartsWith(CertificateKeyPrefix, StringComparison.Ordinal) && suite is not null
                && PeriodCertificate.TryDecode(value, suite, out var certificate) && key == CertificateKeyOf(certificate.Period))
            {
                controller._certificates[certificate.Period] = certificate;
            }
            else if (key.StartsWith("signing/", StringComparison.Ordinal))
            {
                controller._restoredSigningRecords[key] = value;
            }
        }
    }

    /// <summary>
    /// At <see cref="BeginPeriod"/>: the certificate instance of the period, and, when this server holds
    /// no certificate of the period it committed last and runs no instance for it (it restarted before
    /// one arrived), an instance that asks its peers for it.
    /// </summary>
    private void StartPeriodCertificate(ProtocolContext context, ulong period, IReadOnlyCollection<int> recovering, ControllerStep step)
    {
        _recoveringThisPeriod = recovering.Contains(Self);
        if (period == 0 || NetworkGroupKey is null)
        {
            return;
        }

        EnsureCertificateMachine(context, period, catchingUp: !_machines.ContainsKey(KeyTableOf(period)), step);
        if (CommittedPeriod is { } committed && committed >= 1 && committed + 1 == period && _publicState is { } state
            && !_certificates.ContainsKey(committed) && !_machines.ContainsKey(PeriodCertificateMachine.InstanceOf(committed)))
        {
            var late = EnsureCertificateMachine(context, committed, catchingUp: true, step);
            Run(context, late, step, (c, o) => late.OnCommitted(c, PeriodCertificate.HashPublicState(state), o));
        }
    }

    private PeriodCertificateMachine EnsureCertificateMachine(ProtocolContext context, ulong period, bool catchingUp, ControllerStep step)
    {
        var instance = PeriodCertificateMachine.InstanceOf(period);
        if (_machines.TryGetValue(instance, out var existing) && existing is PeriodCertificateMachine running)
        {
            return running;
        }

        var machine = new PeriodCertificateMachine(period, _parameters, Self, NetworkGroupKey!, catchingUp, _certificates.GetValueOrDefault(period), CertificateTimeouts);
        StartMachine(context, machine, step);
        return machine;
    }

    /// <summary>
    /// The refresh of <paramref name="period"/> committed here: the signing material of earlier periods
    /// goes (its shares were just erased), and the certificate instance learns the public state.
    /// </summary>
    private void OnPeriodCommittedForCertificate(ProtocolContext context, ulong period, RefreshPublicState state, ControllerStep step)
    {
        foreach (var earlier in _signing.Keys.Where(p => p < period).ToList())
        {
            EraseSigning(earlier, step);
        }

        var leftovers = _restoredSigningRecords.Keys.Where(k => !k.StartsWith($"signing/p{period}/", StringComparison.Ordinal)).ToList();
        if (leftovers.Count > 0)
        {
            // Nonce records of a period this server restarted in and never signed again: nothing can use them now.
            var erase = new Outbox();
            foreach (var key in leftovers)
            {
                erase.Persist(EraseKey(key), []);
                _restoredSigningRecords.Remove(key);
            }

            step.Add(SigningSessionIds.NonceChannel(period), erase);
        }

        if (period == 0 || NetworkGroupKey is null)
        {
            return;
        }

        var machine = EnsureCertificateMachine(context, period, catchingUp: !_machines.ContainsKey(KeyTableOf(period)), step);
        Run(context, machine, step, (c, o) => machine.OnCommitted(c, PeriodCertificate.HashPublicState(state), o));
    }

    /// <summary>Certificate events (from the KeyTable, the certificate instance and the signing sessions); anything else is ignored.</summary>
    private void ReactToCertificateEvent(ProtocolContext context, IProtocolMachine machine, ProtocolEvent emitted, ControllerStep step)
    {
        switch (emitted)
        {
            case KeyTableDecided decided when decided.Instance.Sequence == 0 && NetworkGroupKey is not null && decided.Instance.Period + 1 >= CurrentPeriod:
                var certifier = EnsureCertificateMachine(context, decided.Instance.Period, catchingUp: false, step);
                Run(context, certifier, step, (c, o) => certifier.OnTableDecided(c, decided.EncodedTable, o));
                break;
            case PeriodRootReady ready:
                StartSigning(context, ready.Instance.Period, step);
                break;
            case PeriodCertificateCoordinationDue due:
                _pendingCoordination[due.Instance.Period] = due.Session;
                StartCoordinatorIfReady(context, due.Instance.Period, step);
                break;
            case SignatureProduced produced when machine is SigningSessionMachine
                && _machines.GetValueOrDefault(PeriodCertificateMachine.InstanceOf(produced.Instance.Period)) is PeriodCertificateMachine target:
                Run(context, target, step, (c, o) => target.OnSignatureProduced(c, produced, o));
                break;
            case PeriodCertified certified when machine is PeriodCertificateMachine { Certificate: { } certificate }:
                _certificates[certified.Period] = certificate;
                var outbox = new Outbox();
                outbox.Persist(CertificateKeyOf(certified.Period), certified.EncodedCertificate);
                if (certified.Period >= 2)
                {
                    outbox.Persist(EraseKey(CertificateKeyOf(certified.Period - 2)), []);
                }

                step.Add(certified.Instance, outbox);
                break;
        }
    }

    /// <summary>
    /// The period root is known: a signer (committed p in period p, not recovering, holding shares) opens
    /// its nonce channel over its network-key share of p, and replays the packages that waited for it.
    /// </summary>
    private void StartSigning(ProtocolContext context, ulong period, ControllerStep step)
    {
        if (period != CurrentPeriod || CommittedPeriod != period || _recoveringThisPeriod || _signing.ContainsKey(period)
            || _shares is null || _publicState is not { SigningKeyCount: > 0 } state || NetworkGroupKey is not { } groupKey)
        {
            return;
        }

        var suite = groupKey.Suite;
        var commitments = state.SigningKeyCommitments[0];
        var key = new KeyPackage(new SigningShare(suite, Identifier.FromInt(suite, Self), _shares[0]), groupKey, _parameters.ReconstructionThreshold, _parameters.ServerCount);
        var publicKeys = new PublicKeyPackage(
            groupKey,
            _parameters.Servers.Select(j => new VerifyingShare(suite, Identifier.FromInt(suite, j), commitments.PublicShare(j))),
            _parameters.ReconstructionThreshold);
        var records = _restoredSigningRecords.Where(r => r.Key.StartsWith($"signing/p{period}/", StringComparison.Ordinal)).ToDictionary();
        var pool = records.Count > 0 ? NoncePool.Restore(key, period, records) : NoncePool.Create(key, period);
        var signing = new PeriodSigning(key, pool, new CommitmentBook(suite, Self), publicKeys);
        _signing[period] = signing;
        StartMachine(context, new NonceChannelMachine(_parameters, Self, pool, signing.Book, CertificateNonceBatch), step);
        foreach (var session in _buffered.Keys.Where(i => i.Protocol == ProtocolKind.Signing && i.Period == period && i.Sequence != 0).ToList())
        {
            StartSigner(context, session, step);
        }

        StartCoordinatorIfReady(context, period, step);
    }

    /// <summary>A signer's instance of a scheduled session, made when the coordinator's first package arrives (or was buffered).</summary>
    private void StartSigner(ProtocolContext context, InstanceId session, ControllerStep step)
    {
        if (_machines.ContainsKey(session) || !_signing.TryGetValue(session.Period, out var signing) || !IsScheduledSession(session, out var coordinator) || coordinator == Self)
        {
            return;
        }

        StartMachine(context, SigningSessionMachine.ForSigner(session, _parameters, Self, signing.Pool, signing.PublicKeys, CertificateSigningPolicy, CertificateTimeouts.Signing), step);
    }

    /// <summary>The coordinator's session, once its turn came and its book holds commitments of t+1 servers.</summary>
    private void StartCoordinatorIfReady(ProtocolContext context, ulong period, ControllerStep step)
    {
        if (!_pendingCoordination.TryGetValue(period, out var session) || !_signing.TryGetValue(period, out var signing)
            || _machines.GetValueOrDefault(PeriodCertificateMachine.InstanceOf(period)) is not PeriodCertificateMachine { Status: PeriodCertificateStatus.Ready, RootMessage: { } root }
            || _parameters.Servers.Count(j => signing.Book.Available(j) > 0) < _parameters.ReconstructionThreshold)
        {
            return;
        }

        _pendingCoordination.Remove(period);
        if (!_machines.ContainsKey(session))
        {
            StartMachine(context, SigningSessionMachine.ForCoordinator(session, _parameters, Self, signing.Pool, signing.Book, signing.PublicKeys, CertificateSigningPolicy, root, CertificateTimeouts.Signing), step);
        }
    }

    /// <summary>Signers sign only their own period root, for the scheduled coordinator, while they hold no certificate.</summary>
    private bool CertificateSigningPolicy(InstanceId session, int coordinator, ReadOnlySpan<byte> message) =>
        _machines.GetValueOrDefault(PeriodCertificateMachine.InstanceOf(session.Period)) is PeriodCertificateMachine certifier
        && certifier.AcceptsForSigning(session, coordinator, message);

    /// <summary>A session id the coordinator schedule names (so a faulty server cannot make this server hold arbitrarily many instances).</summary>
    private bool IsScheduledSession(InstanceId instance, out int coordinator) =>
        SigningSessionIds.TryGetCoordinator(instance, out coordinator)
        && (uint)instance.Sequence is var counter && counter <= 2 * _parameters.ServerCount
        && PeriodCertificateMachine.CoordinatorOf(instance.Period, counter, _parameters.ServerCount) == coordinator;

    /// <summary>Signing instances this server expects: the nonce channel and the scheduled sessions.</summary>
    private bool IsExpectedSigning(InstanceId instance) =>
        instance.Period == CurrentPeriod && (instance.Sequence == 0 || IsScheduledSession(instance, out _));

    /// <summary>Routing hook: a package of a scheduled session this server has not started yet makes its signer instance.</summary>
    private void StartSignerOnFirstPackage(ProtocolContext context, InstanceId instance, ControllerStep step)
    {
        if (instance.Protocol == ProtocolKind.Signing && instance.Sequence != 0 && !_machines.ContainsKey(instance) && _signing.ContainsKey(instance.Period))
        {
            StartSigner(context, instance, step);
        }
    }

    /// <summary>Wipes the pool and key package of <paramref name="period"/>, drops its signing instances and erases its nonce records.</summary>
    private void EraseSigning(ulong period, ControllerStep step)
    {
        if (!_signing.Remove(period, out var signing))
        {
            return;
        }

        var outbox = new Outbox();
        outbox.Persist(EraseKey(NoncePool.GenerationKeyFor(period)), []);
        foreach (var index in signing.Pool.UsedIndices)
        {
            outbox.Persist(EraseKey(NoncePool.UsedKeyFor(period, index)), []);
        }

        foreach (var key in _restoredSigningRecords.Keys.Where(k => k.StartsWith($"signing/p{period}/", StringComparison.Ordinal)).ToList())
        {
            outbox.Persist(EraseKey(key), []);
            _restoredSigningRecords.Remove(key);
        }

        step.Add(SigningSessionIds.NonceChannel(period), outbox);
        signing.Dispose();
        foreach (var instance in _machines.Keys.Where(i => i.Protocol == ProtocolKind.Signing && i.Period == period).ToList())
        {
            _machines.Remove(instance);
        }

        _pendingCoordination.Remove(period);
    }

    /// <summary>At <see cref="Retire"/>: what older periods left behind.</summary>
    private void RetireCertificates(ulong period)
    {
        foreach (var old in _signing.Keys.Where(p => p + 1 < period).ToList())
        {
            _signing.Remove(old, out var signing);
            signing!.Dispose();
        }

        foreach (var old in _certificates.Keys.Where(p => p + 1 < period).ToList())
        {
            _certificates.Remove(old);
        }

        foreach (var old in _pendingCoordination.Keys.Where(p => p + 1 < period).ToList())
        {
            _pendingCoordination.Remove(old);
        }
    }

    private void DisposeSigning()
    {
        foreach (var signing in _signing.Values)
        {
            signing.Dispose();
        }

        _signing.Clear();
    }

    /// <summary>One period's signing material: the key package (a copy of the network-key share: SECRET), the nonce pool, the coordinator's book.</summary>
    private sealed class PeriodSigning(KeyPackage key, NoncePool pool, CommitmentBook book, PublicKeyPackage publicKeys) : IDisposable
    {
        public NoncePool Pool { get; } = pool;

        public CommitmentBook Book { get; } = book;

        public PublicKeyPackage PublicKeys { get; } = publicKeys;

        public void Dispose()
        {
            Pool.Dispose();
            key.Dispose();
        }
    }
}

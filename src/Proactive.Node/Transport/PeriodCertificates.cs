// References: docs/BRIEF.md section 3 ("Refresh for period p": a new TLS certificate every period) and
// section 4 ("Peer transport"); docs/NODE.md "Peer transport", "Certificates and periods".
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Proactive.Node.Transport;

/// <summary>
/// The TLS certificates this server holds, by period, and which one is current. The listener serves
/// and the outbound links present the certificate of the period a peer asks for (in the TLS server
/// name, see <see cref="PeerHostName"/>) when it is held, else the current one.
/// </summary>
/// <remarks>
/// <para>Life of a period's certificate: the node makes it during the refresh for period p and
/// <see cref="Install"/>s it before the period starts (so a peer that switched first already finds
/// it), <see cref="SwitchTo"/> makes it current at the period start, and the previous current one stays
/// held for <see cref="GracePeriod"/> (a peer that has not switched yet still gets it) and is then
/// disposed, which frees its private key. Older ones are disposed at the switch.</para>
/// <para>Thread-safe: handshakes read it while the node's period scheduler switches it.</para>
/// </remarks>
public sealed class PeriodCertificates : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Held> _held = [];
    private readonly TimeProvider _timeProvider;
    private ulong? _current;
    private bool _disposed;

    /// <param name="serverId">This server; every installed certificate must name it.</param>
    /// <param name="gracePeriod">How long the previous period's certificate stays served after a switch.</param>
    /// <param name="timeProvider">Clock for the grace timer (tests pass a fake one).</param>
    public PeriodCertificates(int serverId, TimeSpan gracePeriod, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(serverId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(serverId, 255);
        ArgumentOutOfRangeException.ThrowIfLessThan(gracePeriod, TimeSpan.Zero);
        ServerId = serverId;
        GracePeriod = gracePeriod;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>This server.</summary>
    public int ServerId { get; }

    /// <summary>How long the previous certificate stays held after <see cref="SwitchTo"/>.</summary>
    public TimeSpan GracePeriod { get; }

    /// <summary>The current period, or null before the first <see cref="SwitchTo"/>.</summary>
    public ulong? CurrentPeriod
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>The fingerprint of the current certificate (what the KeyTable must list for this server), or null.</summary>
    public byte[]? CurrentFingerprint
    {
        get
        {
            lock (_gate)
            {
                return _current is { } period ? _held[period].Certificate.Fingerprint.ToArray() : null;
            }
        }
    }

    /// <summary>The periods whose certificates are held, ascending.</summary>
    public IReadOnlyList<ulong> HeldPeriods
    {
        get
        {
            lock (_gate)
            {
                return [.. _held.Keys.Order()];
            }
        }
    }

    /// <summary>Takes ownership of <paramref name="certificate"/> for its period (disposed when retired).</summary>
    /// <exception cref="ArgumentException">It names another server, or a certificate for its period is already held.</exception>
    /// <exception cref="InvalidOperationException">Its period is before the current one.</exception>
    public void Install(PeerCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.ServerId != ServerId)
        {
            throw new ArgumentException($"The certificate names server {certificate.ServerId}, not this server {ServerId}.", nameof(certificate));
        }

        var context = SslStreamCertificateContext.Create(certificate.Certificate, additionalCertificates: null, offline: true);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_held.ContainsKey(certificate.Period))
            {
                throw new ArgumentException($"A certificate for period {certificate.Period} is already installed.", nameof(certificate));
            }

            if (_current is { } current && certificate.Period < current)
            {
                throw new InvalidOperationException($"Period {certificate.Period} is before the current period {current}.");
            }

            _held.Add(certificate.Period, new Held(certificate, context));
        }
    }

    /// <summary>
    /// Makes the installed certificate of <paramref name="period"/> current. The previous current one
    /// stays held for <see cref="GracePeriod"/>; anything older is disposed now.
    /// </summary>
    /// <exception cref="InvalidOperationException">No certificate is installed for the period, or it is before the current one.</exception>
    public void SwitchTo(ulong period)
    {
        var retireNow = new List<Held>();
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_held.ContainsKey(period))
            {
                throw new InvalidOperationException($"No certificate is installed for period {period}.");
            }

            if (_current is { } current && period < current)
            {
                throw new InvalidOperationException($"Period {period} is before the current period {current}.");
            }

            var previous = _current;
            _current = period;
            foreach (var (heldPeriod, held) in _held)
            {
                if (heldPeriod < period && heldPeriod != previous)
                {
                    retireNow.Add(held);
                }
            }

            foreach (var held in retireNow)
            {
                _held.Remove(held.Certificate.Period);
            }

            if (previous is { } old && old != period)
            {
                if (GracePeriod == TimeSpan.Zero)
                {
                    retireNow.Add(_held[old]);
                    _held.Remove(old);
                }
                else
                {
                    _held[old].RetireTimer = _timeProvider.CreateTimer(RetireAfterGrace, old, GracePeriod, Timeout.InfiniteTimeSpan);
                }
            }
        }

        foreach (var held in retireNow)
        {
            held.Dispose();
        }
    }

    /// <summary>Disposes the certificate of <paramref name="period"/> now (before its grace ends); the current one cannot be retired.</summary>
    /// <returns>False when no certificate of that period is held.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="period"/> is the current period.</exception>
    public bool Retire(ulong period)
    {
        Held? held;
        lock (_gate)
        {
            if (_current == period)
            {
                throw new InvalidOperationException("The current certificate cannot be retired; switch to another period first.");
            }

            if (!_held.Remove(period, out held))
            {
                return false;
            }
        }

        held.Dispose();
        return true;
    }

    /// <summary>Disposes every certificate.</summary>
    public void Dispose()
    {
        List<Held> all;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            all = [.. _held.Values];
            _held.Clear();
            _current = null;
        }

        foreach (var held in all)
        {
            held.Dispose();
        }
    }

    /// <summary>The context to serve to a client that asked for <paramref name="requestedPeriod"/>: that period's when held, else the current one.</summary>
    internal SslStreamCertificateContext? ServerContextFor(ulong? requestedPeriod)
    {
        lock (_gate)
        {
            if (requestedPeriod is { } requested && _held.TryGetValue(requested, out var asked))
            {
                return asked.Context;
            }

            return _current is { } current ? _held[current].Context : null;
        }
    }

    /// <summary>The certificate to present as a client for <paramref name="period"/>: that period's when held, else the current one.</summary>
    internal X509Certificate2? ClientCertificateFor(ulong? period)
    {
        lock (_gate)
        {
            if (period is { } requested && _held.TryGetValue(requested, out var asked))
            {
                return asked.Certificate.Certificate;
            }

            return _current is { } current ? _held[current].Certificate.Certificate : null;
        }
    }

    private void RetireAfterGrace(object? state)
    {
        var period = (ulong)state!;
        Held? held;
        lock (_gate)
        {
            if (_current == period || !_held.Remove(period, out held))
            {
                return;
            }
        }

        held.Dispose();
    }

    private sealed class Held(PeerCertificate certificate, SslStreamCertificateContext context) : IDisposable
    {
        public PeerCertificate Certificate { get; } = certificate;

        public SslStreamCertificateContext Context { get; } = context;

        public ITimer? RetireTimer { get; set; }

        public void Dispose()
        {
            RetireTimer?.Dispose();
            Certificate.Dispose();
        }
    }
}

using Proactive.Node.Transport;

namespace Proactive.Node.Tests.Transport;

public sealed class PeriodCertificatesTests
{
    private static PeerCertificate Certificate(int server, ulong period) => PeerCertificate.Create(server, period, DateTimeOffset.UtcNow);

    [Fact]
    public void Install_then_switch_makes_a_certificate_current()
    {
        using var set = new PeriodCertificates(1, TimeSpan.FromMinutes(1));
        var first = Certificate(1, 0);
        var fingerprint = first.Fingerprint.ToArray();

        set.Install(first);
        Assert.Null(set.CurrentPeriod);
        Assert.Null(set.ServerContextFor(null));
        set.SwitchTo(0);

        Assert.Equal(0UL, set.CurrentPeriod);
        Assert.Equal(fingerprint, set.CurrentFingerprint);
        Assert.NotNull(set.ServerContextFor(null));
    }

    [Fact]
    public void The_requested_period_is_served_when_held_else_the_current_one()
    {
        using var set = new PeriodCertificates(1, TimeSpan.FromMinutes(1));
        set.Install(Certificate(1, 3));
        set.Install(Certificate(1, 4));
        set.SwitchTo(3);

        Assert.Same(set.ClientCertificateFor(4), set.ClientCertificateFor(4));
        Assert.NotSame(set.ClientCertificateFor(3), set.ClientCertificateFor(4));
        Assert.Same(set.ClientCertificateFor(3), set.ClientCertificateFor(99));
        Assert.Same(set.ClientCertificateFor(3), set.ClientCertificateFor(null));
        Assert.Same(set.ServerContextFor(4), set.ServerContextFor(4));
        Assert.Same(set.ServerContextFor(3), set.ServerContextFor(7));
    }

    [Fact]
    public void After_a_switch_the_previous_certificate_is_held_for_the_grace_period_then_disposed()
    {
        using var set = new PeriodCertificates(1, TimeSpan.FromMilliseconds(50));
        var old = Certificate(1, 0);
        set.Install(old);
        set.SwitchTo(0);
        set.Install(Certificate(1, 1));

        set.SwitchTo(1);
        Assert.Contains(0UL, set.HeldPeriods);

        var deadline = DateTime.UtcNow.AddSeconds(4);
        while (set.HeldPeriods.Contains(0UL) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.Equal([1UL], set.HeldPeriods);
        Assert.Throws<ObjectDisposedException>(() => old.Certificate);
    }

    [Fact]
    public void Without_a_grace_period_the_previous_certificate_is_disposed_at_the_switch()
    {
        using var set = new PeriodCertificates(1, TimeSpan.Zero);
        var old = Certificate(1, 0);
        set.Install(old);
        set.SwitchTo(0);
        set.Install(Certificate(1, 1));

        set.SwitchTo(1);

        Assert.Equal([1UL], set.HeldPeriods);
        Assert.Throws<ObjectDisposedException>(() => old.Certificate);
    }

    [Fact]
    public void Certificates_older_than_the_previous_one_are_disposed_at_the_switch()
    {
        using var set = new PeriodCertificates(1, TimeSpan.FromMinutes(1));
        var p0 = Certificate(1, 0);
        set.Install(p0);
        set.SwitchTo(0);
        set.Install(Certificate(1, 1));
        set.SwitchTo(1);
        set.Install(Certificate(1, 2));

        set.SwitchTo(2);

        Assert.Equal([1UL, 2UL], set.HeldPeriods);
        Assert.Throws<ObjectDisposedException>(() => p0.Certificate);
        Assert.True(set.Retire(1));
        Assert.False(set.Retire(1));
        Assert.Equal([2UL], set.HeldPeriods);
    }

    [Fact]
    public void Misuse_throws()
    {
        using var set = new PeriodCertificates(1, TimeSpan.FromMinutes(1));
        using var foreign = Certificate(2, 0);
        set.Install(Certificate(1, 5));
        set.SwitchTo(5);

        Assert.Throws<ArgumentException>(() => set.Install(foreign));
        using var duplicate = Certificate(1, 5);
        Assert.Throws<ArgumentException>(() => set.Install(duplicate));
        using var past = Certificate(1, 4);
        Assert.Throws<InvalidOperationException>(() => set.Install(past));
        Assert.Throws<InvalidOperationException>(() => set.SwitchTo(6));
        Assert.Throws<InvalidOperationException>(() => set.Retire(5));
    }

    [Fact]
    public void Dispose_disposes_every_certificate()
    {
        var set = new PeriodCertificates(1, TimeSpan.FromMinutes(1));
        var current = Certificate(1, 0);
        var next = Certificate(1, 1);
        set.Install(current);
        set.Install(next);
        set.SwitchTo(0);

        set.Dispose();

        Assert.Throws<ObjectDisposedException>(() => current.Certificate);
        Assert.Throws<ObjectDisposedException>(() => next.Certificate);
        Assert.Null(set.CurrentPeriod);
    }
}

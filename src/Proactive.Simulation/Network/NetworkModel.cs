namespace Proactive.Simulation.Network;

/// <summary>
/// How one directed link behaves before the global stabilization time: a delay drawn uniformly
/// from [<see cref="MinDelay"/>, <see cref="MaxDelay"/>] (independent draws reorder messages),
/// a chance to lose a message, a chance to deliver it twice.
/// </summary>
public sealed record LinkBehavior
{
    public LinkBehavior(TimeSpan minDelay, TimeSpan maxDelay, double lossProbability = 0, double duplicationProbability = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, minDelay);
        CheckProbability(lossProbability, nameof(lossProbability));
        CheckProbability(duplicationProbability, nameof(duplicationProbability));
        MinDelay = minDelay;
        MaxDelay = maxDelay;
        LossProbability = lossProbability;
        DuplicationProbability = duplicationProbability;
    }

    /// <summary>A reliable link with a fixed delay: the default, so that a test only adds the faults it studies.</summary>
    public static LinkBehavior Reliable(TimeSpan delay) => new(delay, delay);

    public TimeSpan MinDelay { get; }

    public TimeSpan MaxDelay { get; }

    public double LossProbability { get; }

    public double DuplicationProbability { get; }

    private static void CheckProbability(double value, string name)
    {
        if (!(value >= 0 && value <= 1))
        {
            throw new ArgumentOutOfRangeException(name, value, "A probability must be between 0 and 1.");
        }
    }
}

/// <summary>
/// A network split from <see cref="From"/> (inclusive) to <see cref="Until"/> (exclusive): servers on
/// different sides cannot exchange messages; servers named on no side form one more side together.
/// </summary>
public sealed class Partition
{
    private readonly Dictionary<int, int> _sideOf = [];

    public Partition(TimeSpan from, TimeSpan until, params IReadOnlySet<int>[] sides)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(until, from);
        ArgumentNullException.ThrowIfNull(sides);
        From = from;
        Until = until;
        Sides = sides;
        for (var i = 0; i < sides.Length; i++)
        {
            foreach (var server in sides[i])
            {
                if (!_sideOf.TryAdd(server, i + 1))
                {
                    throw new ArgumentException($"Server {server} is on two sides of the partition.", nameof(sides));
                }
            }
        }
    }

    /// <summary>Cuts <paramref name="servers"/> off from everybody else (they still talk among themselves).</summary>
    public static Partition Isolate(TimeSpan from, TimeSpan until, params int[] servers) =>
        new(from, until, new HashSet<int>(servers));

    public TimeSpan From { get; }

    public TimeSpan Until { get; }

    public IReadOnlyList<IReadOnlySet<int>> Sides { get; }

    /// <summary>Whether this partition stops a message from <paramref name="sender"/> to <paramref name="recipient"/> at <paramref name="now"/>.</summary>
    public bool Blocks(int sender, int recipient, TimeSpan now) =>
        now >= From && now < Until && _sideOf.GetValueOrDefault(sender) != _sideOf.GetValueOrDefault(recipient);
}

/// <summary>
/// The simulated network: a default link behaviour, per-link overrides, partitions, and a global
/// stabilization time (GST) after which the network is synchronous: no loss and every message
/// arrives within <see cref="StableMaxDelay"/> of max(send time, GST), as in the partial synchrony
/// model of Dwork, Lynch and Stockmeyer (JACM 1988). Safety must hold for any setting here; progress
/// is only expected after GST.
/// </summary>
/// <remarks>
/// A server's messages to itself skip the network: no delay, loss, duplication or partition
/// (a broadcast includes the sender, and a process talking to itself has no wire).
/// Partitions are applied as configured, also after GST: a scenario that wants progress ends them.
/// A message is blocked if a partition separates the two servers when it is sent or when it would
/// arrive.
/// </remarks>
public sealed class NetworkModel
{
    private readonly Dictionary<(int From, int To), LinkBehavior> _links = [];
    private readonly List<Partition> _partitions = [];

    /// <summary>Every link delivers after 10 ms, nothing lost, GST at zero: a calm network.</summary>
    public NetworkModel()
        : this(LinkBehavior.Reliable(TimeSpan.FromMilliseconds(10)))
    {
    }

    public NetworkModel(LinkBehavior defaultLink)
    {
        ArgumentNullException.ThrowIfNull(defaultLink);
        DefaultLink = defaultLink;
        StableMaxDelay = defaultLink.MaxDelay;
    }

    public LinkBehavior DefaultLink { get; set; }

    /// <summary>From this time on loss is zero and delays are bounded by <see cref="StableMaxDelay"/>.</summary>
    public TimeSpan GlobalStabilizationTime { get; set; } = TimeSpan.MaxValue;

    /// <summary>The delay bound after GST (Delta of partial synchrony).</summary>
    public TimeSpan StableMaxDelay { get; set; }

    public IReadOnlyList<Partition> Partitions => _partitions;

    /// <summary>Overrides one directed link (sender to recipient).</summary>
    public NetworkModel SetLink(int sender, int recipient, LinkBehavior behavior)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        _links[(sender, recipient)] = behavior;
        return this;
    }

    public NetworkModel AddPartition(Partition partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        _partitions.Add(partition);
        return this;
    }

    public LinkBehavior LinkFor(int sender, int recipient) =>
        _links.TryGetValue((sender, recipient), out var link) ? link : DefaultLink;

    public bool IsPartitioned(int sender, int recipient, TimeSpan now)
    {
        if (sender == recipient)
        {
            return false;
        }

        foreach (var partition in _partitions)
        {
            if (partition.Blocks(sender, recipient, now))
            {
                return true;
            }
        }

        return false;
    }
}

// References: RFC 9591 section 5.1 (round one may be done in advance: "a signer may generate a batch of
// nonce pairs and publish their commitments"), section 7.3 (a nonce pair signs at most once);
// docs/PROTOCOLS.md "Application keys and signing".
using Proactive.Crypto.Frost;
using Proactive.Crypto.Groups;

namespace Proactive.Protocols.Application;

/// <summary>
/// A signer's nonce pairs, made in advance for each coordinator that asked, whose commitments only that
/// coordinator holds. A pair leaves the pool the moment a package names it (<see cref="TryTake"/>), so it
/// signs at most once; the pool lives in memory only (a restart loses it, and with it every pair that could
/// have been used twice) and is emptied at every period change.
/// </summary>
public sealed class AppSigningNonces : IDisposable
{
    /// <summary>Most pairs a signer holds for one coordinator (a coordinator that asks for more gets fewer).</summary>
    public const int MaxPerCoordinator = 1024;

    private readonly Dictionary<int, Dictionary<(Element Hiding, Element Binding), SigningNonces>> _byCoordinator = [];

    /// <summary>The period the pairs were made in; pairs of another period are never handed out.</summary>
    public ulong Period { get; private set; }

    /// <summary>How many pairs this signer holds for <paramref name="coordinator"/>.</summary>
    public int CountFor(int coordinator) => _byCoordinator.TryGetValue(coordinator, out var pool) ? pool.Count : 0;

    /// <summary>Forgets (wipes) every pair when the period is not <paramref name="period"/>.</summary>
    public void EnterPeriod(ulong period)
    {
        if (period != Period)
        {
            Clear();
            Period = period;
        }
    }

    /// <summary>
    /// Makes up to <paramref name="count"/> new pairs for <paramref name="coordinator"/> (fewer when the pool
    /// is full) and returns their commitments. <paramref name="reset"/>: the coordinator holds none of the
    /// earlier commitments (it restarted or starts over), so the earlier pairs are wiped first; only the
    /// coordinator can use them, so only it can lose by this.
    /// </summary>
    public IReadOnlyList<SigningCommitments> Make(int coordinator, int count, bool reset, Func<SigningNonces> commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        if (!_byCoordinator.TryGetValue(coordinator, out var pool))
        {
            _byCoordinator[coordinator] = pool = [];
        }
        else if (reset)
        {
            Wipe(pool);
        }

        var made = new List<SigningCommitments>(Math.Max(0, Math.Min(count, MaxPerCoordinator - pool.Count)));
        while (made.Count < count && pool.Count < MaxPerCoordinator)
        {
            var nonces = commit();
            if (!pool.TryAdd((nonces.Commitments.Hiding, nonces.Commitments.Binding), nonces))
            {
                nonces.Dispose();
                continue;
            }

            made.Add(nonces.Commitments);
        }

        return made;
    }

    /// <summary>Takes the pair behind <paramref name="commitments"/> out of <paramref name="coordinator"/>'s pool: false when there is none (used, wiped, never made).</summary>
    public bool TryTake(int coordinator, SigningCommitments commitments, out SigningNonces? nonces)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        nonces = null;
        return _byCoordinator.TryGetValue(coordinator, out var pool) && pool.Remove((commitments.Hiding, commitments.Binding), out nonces);
    }

    public void Dispose() => Clear();

    private void Clear()
    {
        foreach (var pool in _byCoordinator.Values)
        {
            Wipe(pool);
        }

        _byCoordinator.Clear();
    }

    private static void Wipe(Dictionary<(Element Hiding, Element Binding), SigningNonces> pool)
    {
        foreach (var nonces in pool.Values)
        {
            nonces.Dispose();
        }

        pool.Clear();
    }
}

/// <summary>
/// A coordinator's stock of the commitments its peers made for it in advance (<see cref="AppSigningNonces"/>),
/// per signer, in the order they came; and the requests for more under way. Public values only.
/// </summary>
/// <remarks>
/// Requests carry a sequence number the offer echoes. A request that asks a signer to start over (wipe its
/// pairs for this coordinator) opens a new generation: offers answering older requests are dropped (their
/// pairs are gone), and refusals of commitments drawn in an older generation do not start another one, so
/// one lost pool costs one start-over, not a cascade of them while packages are under way.
/// </remarks>
public sealed class AppCommitmentStock
{
    /// <summary>How many commitments of each signer a coordinator keeps in stock, at least (it keeps more after batch requests).</summary>
    public const int BatchSize = 128;

    /// <summary>Below this many commitments of a signer (with the least stock kept) the coordinator asks it for more.</summary>
    public const int LowWater = 48;

    private readonly Dictionary<int, Queue<SigningCommitments>> _bySigner = [];
    private readonly Dictionary<int, (uint Sequence, TimeSpan At)> _underWay = [];
    private readonly Dictionary<int, uint> _generation = [];
    private readonly HashSet<int> _needsReset = [];
    private uint _nextSequence = 1;
    private int _target = BatchSize;

    // The most a session of this period asked of one signer: the stock is topped up to cover it.
    private int _demand;

    /// <summary>The period the commitments belong to.</summary>
    public ulong Period { get; private set; }

    /// <summary>True once any session of <see cref="Period"/> drew from the stock: the next period then asks ahead.</summary>
    public bool WasUsed { get; private set; }

    /// <summary>How many commitments of <paramref name="signer"/> are in stock.</summary>
    public int CountOf(int signer) => _bySigner.TryGetValue(signer, out var queue) ? queue.Count : 0;

    /// <summary>Empties the stock when the period is not <paramref name="period"/>; true when it did.</summary>
    public bool EnterPeriod(ulong period)
    {
        if (period == Period)
        {
            return false;
        }

        _bySigner.Clear();
        _underWay.Clear();
        _generation.Clear();
        _needsReset.Clear();
        Period = period;
        WasUsed = false;
        _target = BatchSize;
        _demand = 0;
        return true;
    }

    /// <summary>
    /// Whether to ask <paramref name="signer"/> for more now: its stock is low and no request is under way
    /// (one older than <paramref name="patience"/> counts as lost). Marks the request as sent; the out
    /// parameters give its size, its sequence number and whether the signer should first wipe what it made
    /// for this coordinator (the first request of the period, and after <see cref="Forget"/>).
    /// </summary>
    public bool ShouldAsk(int signer, TimeSpan now, TimeSpan patience, out int count, out bool reset, out uint sequence)
    {
        count = _target;
        sequence = 0;
        reset = !_generation.ContainsKey(signer) || _needsReset.Contains(signer);

        // Low: below the low-water mark, or too few for a session that waits for this many.
        if (CountOf(signer) >= Math.Max(_target * LowWater / BatchSize, _demand) || (_underWay.TryGetValue(signer, out var asked) && now - asked.At < patience))
        {
            return false;
        }

        sequence = _nextSequence++;
        _underWay[signer] = (sequence, now);
        if (reset)
        {
            // A new generation: what the signer made before is wiped, and so is the stock of it.
            _generation[signer] = sequence;
            _needsReset.Remove(signer);
            _bySigner.Remove(signer);
        }

        count = _target - CountOf(signer);
        return true;
    }

    /// <summary>
    /// Commitments <paramref name="signer"/> sent in answer to request <paramref name="sequence"/>; dropped
    /// when that request is older than the signer's last start-over. False when dropped.
    /// </summary>
    public bool Add(int signer, uint sequence, IEnumerable<SigningCommitments> commitments)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        if (!_generation.TryGetValue(signer, out var generation) || sequence < generation)
        {
            return false;
        }

        if (!_bySigner.TryGetValue(signer, out var queue))
        {
            _bySigner[signer] = queue = new Queue<SigningCommitments>();
        }

        foreach (var commitment in commitments)
        {
            queue.Enqueue(commitment);
        }

        if (_underWay.TryGetValue(signer, out var asked) && asked.Sequence == sequence)
        {
            _underWay.Remove(signer);
        }

        return true;
    }

    /// <summary>
    /// The signer of commitments drawn in <paramref name="generation"/> refused, cheated or stayed silent:
    /// unless it started over since, its stock is dropped and sessions leave it out until it answers a new
    /// request, made no sooner than one patience after <paramref name="now"/>, which asks it to start over.
    /// </summary>
    public void Forget(int signer, uint generation, TimeSpan now)
    {
        if (_generation.TryGetValue(signer, out var current) && generation < current)
        {
            return;
        }

        _bySigner.Remove(signer);
        _underWay[signer] = (0, now);
        _needsReset.Add(signer);
    }

    /// <summary>
    /// <paramref name="perSigner"/> commitments from each of <paramref name="count"/> signers among
    /// <paramref name="candidates"/> (in their order), taken out of the stock, with the generation they belong
    /// to; null, taking nothing, when fewer than that many signers have that many (the stock kept then grows,
    /// up to half of what a signer makes for one coordinator, so that batches fit).
    /// </summary>
    public IReadOnlyList<(int Signer, IReadOnlyList<SigningCommitments> Commitments, uint Generation)>? TryDraw(IEnumerable<int> candidates, int count, int perSigner)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfLessThan(perSigner, 1);
        var chosen = candidates.Where(s => CountOf(s) >= perSigner).Take(count).ToList();
        if (chosen.Count < count)
        {
            // At most half a signer's pool in stock: the other half covers packages under way.
            _target = Math.Clamp(Math.Max(_target, 2 * perSigner), BatchSize, AppSigningNonces.MaxPerCoordinator / 2);
            _demand = Math.Max(_demand, Math.Min(perSigner, _target));
            return null;
        }

        WasUsed = true;
        return [.. chosen.Select(s => (s, (IReadOnlyList<SigningCommitments>)[.. Enumerable.Range(0, perSigner).Select(_ => _bySigner[s].Dequeue())], _generation.GetValueOrDefault(s)))];
    }
}

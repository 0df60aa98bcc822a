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
    public const int MaxPerCoordinator = 512;

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
/// per signer, in the order they came; and when it last asked each signer for more. Public values only.
/// </summary>
public sealed class AppCommitmentStock
{
    /// <summary>How many commitments of each signer a coordinator keeps in stock, at least (it keeps more after batch requests).</summary>
    public const int BatchSize = 128;

    /// <summary>Below this many commitments of a signer (with the least stock kept) the coordinator asks it for more.</summary>
    public const int LowWater = 48;

    private int _target = BatchSize;

    private readonly Dictionary<int, Queue<SigningCommitments>> _bySigner = [];
    private readonly Dictionary<int, TimeSpan> _askedAt = [];
    private readonly HashSet<int> _askedBefore = [];
    private readonly HashSet<int> _needsReset = [];

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
        _askedAt.Clear();
        _askedBefore.Clear();
        _needsReset.Clear();
        Period = period;
        WasUsed = false;
        _target = BatchSize;
        return true;
    }

    /// <summary>
    /// Whether to ask <paramref name="signer"/> for more now: its stock is low and no request is under way
    /// (one older than <paramref name="patience"/> counts as lost). Marks the request as sent; the out
    /// parameter says whether the signer should first wipe what it made for this coordinator.
    /// </summary>
    public bool ShouldAsk(int signer, TimeSpan now, TimeSpan patience, out int count, out bool reset)
    {
        count = _target;
        reset = !_askedBefore.Contains(signer) || _needsReset.Contains(signer);
        if (CountOf(signer) >= _target * LowWater / BatchSize || (_askedAt.TryGetValue(signer, out var at) && now - at < patience))
        {
            return false;
        }

        _askedAt[signer] = now;
        _askedBefore.Add(signer);
        _needsReset.Remove(signer);
        count = _target - CountOf(signer);
        return true;
    }

    /// <summary>Commitments <paramref name="signer"/> sent; the request they answer is no longer under way.</summary>
    public void Add(int signer, IEnumerable<SigningCommitments> commitments)
    {
        ArgumentNullException.ThrowIfNull(commitments);
        if (!_bySigner.TryGetValue(signer, out var queue))
        {
            _bySigner[signer] = queue = new Queue<SigningCommitments>();
        }

        foreach (var commitment in commitments)
        {
            queue.Enqueue(commitment);
        }

        _askedAt.Remove(signer);
    }

    /// <summary>
    /// Drops every commitment of <paramref name="signer"/> (it refused, cheated or stayed silent): sessions
    /// leave it out until it answers a new request, made no sooner than one patience after
    /// <paramref name="now"/>, which asks it to start over.
    /// </summary>
    public void Forget(int signer, TimeSpan now)
    {
        _bySigner.Remove(signer);
        _askedAt[signer] = now;
        _needsReset.Add(signer);
    }

    /// <summary>
    /// <paramref name="perSigner"/> commitments from each of <paramref name="count"/> signers among
    /// <paramref name="candidates"/> (in their order), taken out of the stock; null, taking nothing, when fewer
    /// than that many signers have that many (the stock kept then grows, up to what a signer makes for one
    /// coordinator, so that batches fit).
    /// </summary>
    public IReadOnlyList<(int Signer, IReadOnlyList<SigningCommitments> Commitments)>? TryDraw(IEnumerable<int> candidates, int count, int perSigner)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfLessThan(perSigner, 1);
        var chosen = candidates.Where(s => CountOf(s) >= perSigner).Take(count).ToList();
        if (chosen.Count < count)
        {
            _target = Math.Clamp(Math.Max(_target, 2 * perSigner), BatchSize, AppSigningNonces.MaxPerCoordinator);
            return null;
        }

        WasUsed = true;
        return [.. chosen.Select(s => (s, (IReadOnlyList<SigningCommitments>)[.. Enumerable.Range(0, perSigner).Select(_ => _bySigner[s].Dequeue())]))];
    }
}

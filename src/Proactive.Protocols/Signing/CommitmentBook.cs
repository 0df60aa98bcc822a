// References: Komlo and Goldberg, FROST (SAC 2020) section 5.2 "Preprocess" (the coordinator keeps each
// participant's published commitment list and uses each entry once); RFC 9591 section 5.1;
// docs/PROTOCOLS.md "Threshold signing".
using Proactive.Crypto.Frost;

namespace Proactive.Protocols.Signing;

/// <summary>
/// A coordinator's per-server queues of published, unused nonce commitments reserved for it. Public data:
/// it holds no secret. Each entry is taken at most once (<see cref="TryTake"/> removes it), so this
/// coordinator never puts one commitment in two packages. A server's newer generation (it restarted and
/// discarded its nonces) drops all its older entries.
/// </summary>
public sealed class CommitmentBook
{
    /// <summary>Most queued entries per server: a Byzantine publisher cannot make the coordinator hold more.</summary>
    public const int MaxQueuedPerServer = 256;

    private readonly Dictionary<int, Queue<PublishedNonce>> _queues = [];
    private readonly Dictionary<int, uint> _generations = [];
    private readonly HashSet<(int Server, ulong Index)> _seen = [];

    /// <summary>Creates an empty book for coordinator <paramref name="self"/>.</summary>
    public CommitmentBook(Ciphersuite suite, int self)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentOutOfRangeException.ThrowIfLessThan(self, 1);
        Suite = suite;
        Self = self;
    }

    /// <summary>The suite of the key the commitments are for.</summary>
    public Ciphersuite Suite { get; }

    /// <summary>The coordinator this book belongs to: entries reserved for others are ignored.</summary>
    public int Self { get; }

    /// <summary>The newest generation seen from <paramref name="server"/> (0: none yet).</summary>
    public uint GenerationOf(int server) => _generations.GetValueOrDefault(server);

    /// <summary>Unused commitments of <paramref name="server"/> available to this coordinator.</summary>
    public int Available(int server) => _queues.TryGetValue(server, out var q) ? q.Count : 0;

    /// <summary>
    /// Adds <paramref name="server"/>'s published entries reserved for this coordinator. The caller has
    /// checked that each commitment's identifier is the server's. Entries of an older generation than the
    /// newest seen are ignored; a newer generation drops the older queue. Returns how many were queued.
    /// </summary>
    public int Accept(int server, IEnumerable<PublishedNonce> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var added = 0;
        foreach (var entry in entries)
        {
            if (entry.Coordinator != Self)
            {
                continue;
            }

            var known = GenerationOf(server);
            if (entry.Generation < known)
            {
                continue;
            }

            if (entry.Generation > known)
            {
                DropServer(server);
                _generations[server] = entry.Generation;
            }

            if (!_queues.TryGetValue(server, out var queue))
            {
                queue = new Queue<PublishedNonce>();
                _queues[server] = queue;
            }

            if (queue.Count < MaxQueuedPerServer && _seen.Add((server, entry.Index)))
            {
                queue.Enqueue(entry);
                added++;
            }
        }

        return added;
    }

    /// <summary>Takes the oldest unused commitment of <paramref name="server"/>; it is never handed out again.</summary>
    public bool TryTake(int server, out PublishedNonce? entry)
    {
        entry = null;
        return _queues.TryGetValue(server, out var queue) && queue.TryDequeue(out entry);
    }

    /// <summary>Forgets every queued commitment of <paramref name="server"/> (it said it no longer holds them).</summary>
    public void DropServer(int server)
    {
        if (_queues.TryGetValue(server, out var queue))
        {
            queue.Clear();
        }
    }

    /// <summary>Forgets the queued commitments of <paramref name="server"/> older than <paramref name="generation"/>.</summary>
    public void DropGenerationsBelow(int server, uint generation)
    {
        if (GenerationOf(server) < generation)
        {
            DropServer(server);
            _generations[server] = generation;
        }
    }

    public override string ToString() => $"CommitmentBook(coordinator {Self}, {_queues.Values.Sum(q => q.Count)} queued)";
}

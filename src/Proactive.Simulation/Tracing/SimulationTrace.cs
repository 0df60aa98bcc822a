using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Proactive.Protocols.Machines;

namespace Proactive.Simulation.Tracing;

/// <summary>Packets and bytes that left servers in one period (the period of the instance they belong to).</summary>
public sealed record PeriodTraffic(ulong Period, long Messages, long Bytes);

/// <summary>
/// The record of a run: the events (when <see cref="SimulationOptions.RecordTrace"/> is on), counts
/// that are always kept, and a running SHA-256 over every event's text, so that two runs with the
/// same seed can be compared in one assertion even when the events themselves are not kept.
/// </summary>
public sealed class SimulationTrace
{
    private readonly List<TraceEvent> _events = [];
    private readonly SortedDictionary<ulong, (long Messages, long Bytes)> _traffic = [];
    private readonly Dictionary<DropReason, long> _drops = [];
    private byte[] _hash = new byte[32];
    private readonly bool _keepEvents;

    internal SimulationTrace(bool keepEvents) => _keepEvents = keepEvents;

    /// <summary>The events in order (empty when recording is off).</summary>
    public IReadOnlyList<TraceEvent> Events => _events;

    public long Sent { get; private set; }

    public long Delivered { get; private set; }

    public long Duplicated { get; private set; }

    /// <summary>Raw packets a Byzantine strategy injected (not attributed to any period).</summary>
    public long RawInjected { get; private set; }

    public long DroppedFor(DropReason reason) => _drops.GetValueOrDefault(reason);

    /// <summary>Per period, in period order.</summary>
    public IReadOnlyList<PeriodTraffic> Traffic =>
        _traffic.Select(t => new PeriodTraffic(t.Key, t.Value.Messages, t.Value.Bytes)).ToList();

    /// <summary>A SHA-256 chain over the text of every event so far (h = SHA-256(h || text)), in hex.</summary>
    public string Hash => Convert.ToHexString(_hash);

    public IEnumerable<T> OfType<T>()
        where T : TraceEvent => _events.OfType<T>();

    internal void Record(TraceEvent traceEvent)
    {
        switch (traceEvent)
        {
            case SendTrace send:
                Sent++;
                if (send.Instance is { } instance)
                {
                    var (messages, bytes) = _traffic.GetValueOrDefault(instance.Period);
                    _traffic[instance.Period] = (messages + 1, bytes + send.Bytes);
                }
                else
                {
                    RawInjected++;
                }

                break;
            case DeliverTrace:
                Delivered++;
                break;
            case DuplicateTrace:
                Duplicated++;
                break;
            case DropTrace drop:
                _drops[drop.Reason] = _drops.GetValueOrDefault(drop.Reason) + 1;
                break;
        }

        var text = Encoding.UTF8.GetBytes(Describe(traceEvent));
        var input = new byte[_hash.Length + text.Length];
        _hash.CopyTo(input, 0);
        text.CopyTo(input, _hash.Length);
        _hash = SHA256.HashData(input);
        if (_keepEvents)
        {
            _events.Add(traceEvent);
        }
    }

    /// <summary>
    /// The event's text. Records print their fields, but a byte array prints as its type name, so
    /// protocol events (user records, alerts with evidence) are spelled out property by property
    /// with byte strings as digests: two runs that differ in an event's bytes differ in the hash.
    /// </summary>
    internal static string Describe(TraceEvent traceEvent) => traceEvent switch
    {
        ProtocolEventTrace p => $"{p.Time.Ticks} event server={p.Server} instance={p.Instance} {DescribeEvent(p.Event)}",
        _ => $"{traceEvent.Time.Ticks} {traceEvent}",
    };

    private static string DescribeEvent(ProtocolEvent protocolEvent)
    {
        var text = new StringBuilder(protocolEvent.GetType().Name);
        foreach (var property in protocolEvent.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var value = property.GetValue(protocolEvent);
            var shown = value switch
            {
                byte[] bytes => Digest(bytes),
                ReadOnlyMemory<byte> memory => Digest(memory.Span),
                null => "null",
                _ => value.ToString(),
            };
            text.Append(' ').Append(property.Name).Append('=').Append(shown);
        }

        return text.ToString();
    }

    internal static string Digest(ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return Convert.ToHexString(hash[..8]);
    }
}

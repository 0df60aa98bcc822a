using System.Security.Cryptography;

namespace Proactive.Node.Storage;

/// <summary>
/// Every key of both spaces, as <c>ServerController.Restore</c> takes them after a restart
/// (<see cref="Entries"/>). It holds private values (shares) in ordinary arrays, so it wipes them on
/// <see cref="Dispose"/>: restore, then dispose.
/// </summary>
public sealed class StoreSnapshot : IDisposable
{
    private readonly Dictionary<string, byte[]> _entries;

    internal StoreSnapshot(Dictionary<string, byte[]> entries) => _entries = entries;

    /// <summary>Key to value, ordinal keys; valid until <see cref="Dispose"/>.</summary>
    public IReadOnlyDictionary<string, byte[]> Entries => _entries;

    /// <summary>Zeroes every value and empties the snapshot.</summary>
    public void Dispose()
    {
        foreach (var value in _entries.Values)
        {
            CryptographicOperations.ZeroMemory(value);
        }

        _entries.Clear();
    }
}

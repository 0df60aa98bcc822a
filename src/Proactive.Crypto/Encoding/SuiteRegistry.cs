using System.Diagnostics.CodeAnalysis;
using Proactive.Crypto.Groups;

namespace Proactive.Crypto.Encoding;

/// <summary>Maps a wire suite id to its group; an unknown id maps to nothing rather than throwing.</summary>
internal static class SuiteRegistry
{
    internal static bool TryGet(GroupId id, [NotNullWhen(true)] out PrimeOrderGroup? group)
    {
        group = id switch
        {
            GroupId.Ed25519 => PrimeOrderGroup.Ed25519,
            GroupId.Ristretto255 => PrimeOrderGroup.Ristretto255,
            GroupId.P256 => PrimeOrderGroup.P256,
            _ => null,
        };
        return group is not null;
    }
}

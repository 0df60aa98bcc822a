using Proactive.Crypto.Frost;

namespace Proactive.Cli.Commands;

/// <summary>The CLI's names for the ciphersuites.</summary>
internal static class SuiteNames
{
    internal static readonly string[] All = ["ed25519", "ristretto255", "p256"];

    internal static Ciphersuite Parse(string name) => name switch
    {
        "ed25519" => Ciphersuite.Ed25519,
        "ristretto255" => Ciphersuite.Ristretto255,
        "p256" => Ciphersuite.P256,
        _ => throw new ArgumentException($"Unknown suite '{name}'; use one of {string.Join(", ", All)}.", nameof(name)),
    };

    internal static string Name(Ciphersuite suite) =>
        suite == Ciphersuite.Ed25519 ? "ed25519" : suite == Ciphersuite.Ristretto255 ? "ristretto255" : "p256";
}

/// <summary>One JSON style for every command.</summary>
internal static class CliJson
{
    internal static readonly System.Text.Json.JsonSerializerOptions Options = new() { WriteIndented = false };
}

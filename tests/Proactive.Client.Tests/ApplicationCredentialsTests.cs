using System.Text.Json;
using System.Text.Json.Nodes;
using Proactive.Node.Tests;

namespace Proactive.Client.Tests;

/// <summary>The credentials file: owner-only, strict, consistent, never printing the key.</summary>
public sealed class ApplicationCredentialsTests : IDisposable
{
    private static readonly byte[] ApplicationId = Convert.FromHexString("00112233445566778899aabbccddeeff");

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Saved_credentials_load_back_owner_only_and_sign_the_same()
    {
        using var credentials = ApplicationCredentials.Create(ApplicationId, 0, "billing");
        var path = _temp.Combine(".proactive", "credentials.json");

        credentials.Save(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        using var loaded = ApplicationCredentials.Load(path);
        Assert.Equal("app_00112233445566778899aabbccddeeff_0", loaded.Handle);
        Assert.Equal(ApplicationId, loaded.ApplicationId.ToArray());
        Assert.Equal("billing", loaded.Name);
        Assert.Equal(credentials.PublicKey, loaded.PublicKey);
        Assert.Equal(credentials.Sign("m"u8), loaded.Sign("m"u8));

        using var json = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(["format", "handle", "applicationId", "instance", "name", "publicKey", "privateKey"], json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("proactive-credentials-v1", json.RootElement.GetProperty("format").GetString());
    }

    [Fact]
    public void Saving_over_existing_credentials_needs_overwrite()
    {
        using var credentials = ApplicationCredentials.Create(ApplicationId, 2, "x");
        var path = _temp.Combine("c.json");
        credentials.Save(path);

        Assert.Throws<IOException>(() => credentials.Save(path));
        credentials.Save(path, overwrite: true);
        Assert.Single(Directory.GetFiles(_temp.Path)); // no temporary file left behind
    }

    [Fact]
    public void A_file_others_may_read_is_refused()
    {
        using var credentials = ApplicationCredentials.Create(ApplicationId, 0, "x");
        var path = _temp.Combine("c.json");
        credentials.Save(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var error = Assert.Throws<ApplicationCredentialsException>(() => ApplicationCredentials.Load(path));
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("format", "\"proactive-credentials-v2\"", "format")]
    [InlineData("handle", "\"app_00112233445566778899aabbccddeeff_1\"", "'handle'")]
    [InlineData("instance", "1", "'handle'")]
    [InlineData("instance", "\"0\"", "'instance'")]
    [InlineData("applicationId", "\"00112233445566778899AABBCCDDEEFF\"", "'applicationId'")]
    [InlineData("publicKey", "\"0000000000000000000000000000000000000000000000000000000000000000\"", "'publicKey'")]
    [InlineData("privateKey", "\"00\"", "'privateKey'")]
    [InlineData("privateKey", "\"ZZ00000000000000000000000000000000000000000000000000000000000000\"", "'privateKey'")]
    [InlineData("extra", "1", "unknown member 'extra'")]
    public void A_tampered_or_inconsistent_file_is_refused_naming_what(string member, string json, string named)
    {
        var path = SavedAndEdited(root => root[member] = JsonNode.Parse(json));

        var error = Assert.Throws<ApplicationCredentialsException>(() => ApplicationCredentials.Load(path));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_missing_a_member_or_not_json_is_refused()
    {
        var missing = SavedAndEdited(root => root.Remove("name"));
        Assert.Contains("missing 'name'", Assert.Throws<ApplicationCredentialsException>(() => ApplicationCredentials.Load(missing)).Message, StringComparison.Ordinal);

        var garbage = _temp.Combine("garbage.json");
        File.WriteAllText(garbage, "{ nope");
        File.SetUnixFileMode(garbage, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Throws<ApplicationCredentialsException>(() => ApplicationCredentials.Load(garbage));

        Assert.Throws<ApplicationCredentialsException>(() => ApplicationCredentials.Load(_temp.Combine("absent.json")));
    }

    [Fact]
    public void The_key_is_never_printed_and_a_handle_must_match_its_id_and_instance()
    {
        using var credentials = ApplicationCredentials.Create(ApplicationId, 3, "x");

        Assert.Equal("ApplicationCredentials(app_00112233445566778899aabbccddeeff_3, x, <redacted>)", credentials.ToString());
        using var key = Proactive.Crypto.Signing.Ed25519PrivateKey.Generate(Proactive.Crypto.Random.SystemRandomSource.Instance);
        Assert.Throws<ArgumentException>(() => new ApplicationCredentials("app_00_3", ApplicationId, 3, "x", key));
    }

    private string SavedAndEdited(Action<JsonObject> edit)
    {
        using var credentials = ApplicationCredentials.Create(ApplicationId, 0, "x");
        var path = _temp.Combine(Guid.NewGuid().ToString("N") + ".json");
        credentials.Save(path);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }
}

// References: toolkit paper (seed 001) section 4 ("M_i = [S_start(V_cert, C)] ... M = (M_1, ..., M_n)
// is the Invariant Information of the system"), Tables 2 and 3; patent (seed 000) figures 3-4 and
// claims 9-10 and 21-22; docs/BRIEF.md section 3 "Initialization".
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Proactive.Crypto.Codec;
using Proactive.Crypto.Frost;
using Proactive.Crypto.Signing;
using Proactive.Protocols.Envelopes;

namespace Proactive.Protocols.Bootstrap;

/// <summary>
/// M, the invariant information of a network: the constants C, the network key V_cert and, for every
/// server i, M_i = its start key's signature S_start_i on (V_cert, C). A server that lost everything but
/// its ROM (V_start_i, its identity) recognises its own network in any copy of M: its own M_i verifies
/// with V_start_i, which only the manufacturing step could have made, and which nobody can make any
/// more once S_start_i is erased at initialization (toolkit section 4.3).
/// </summary>
/// <remarks>
/// <para>Statement signed by server i: <c>"proactive-invariant-statement-v1" || network id (16) ||
/// server u16 || suite u8 || V_cert (SerializeElement) || SHA-256(C)</c>.</para>
/// <para>Encoding: version u8 (<see cref="FormatVersion"/>), suite u8 (GroupId of the FROST
/// ciphersuite of V_cert), network id (16 bytes), C (u32 length, at most <see cref="MaxConstantsLength"/>),
/// V_cert (element), statements (u16 count, 1..<see cref="MaxServers"/>; each: server u16, Ed25519
/// signature 64 bytes; servers exactly 1..count in order). C is opaque here: the node's cluster
/// configuration, whose canonical bytes it is.</para>
/// </remarks>
public sealed class InvariantInformation
{
    /// <summary>The format version this class writes and reads.</summary>
    public const byte FormatVersion = 0x01;

    /// <summary>Largest constants C (the cluster configuration) M carries.</summary>
    public const int MaxConstantsLength = 64 * 1024;

    /// <summary>Most servers a network can have (server ids are u16 on the wire; 1024 keeps M small).</summary>
    public const int MaxServers = 1024;

    private const int StatementLength = 2 + Ed25519PublicKey.SignatureLength;

    private static readonly byte[] StatementLabel = "proactive-invariant-statement-v1"u8.ToArray();

    private readonly byte[] _constants;
    private readonly byte[][] _statements;

    private InvariantInformation(Ciphersuite suite, NetworkId network, byte[] constants, GroupPublicKey networkKey, byte[][] statements)
    {
        Suite = suite;
        Network = network;
        _constants = constants;
        NetworkKey = networkKey;
        _statements = statements;
    }

    /// <summary>The FROST ciphersuite of the network key.</summary>
    public Ciphersuite Suite { get; }

    /// <summary>The network the constants describe.</summary>
    public NetworkId Network { get; }

    /// <summary>C, the constants (the canonical cluster configuration bytes).</summary>
    public ReadOnlySpan<byte> Constants => _constants;

    /// <summary>V_cert, the network's threshold signing key.</summary>
    public GroupPublicKey NetworkKey { get; }

    /// <summary>n, the number of servers (one statement each).</summary>
    public int ServerCount => _statements.Length;

    /// <summary>
    /// The statement server <paramref name="server"/> signs with its start key: it binds the server to
    /// this network, this V_cert and these constants.
    /// </summary>
    public static byte[] StatementMessage(NetworkId network, int server, GroupPublicKey networkKey, ReadOnlySpan<byte> constants)
    {
        ArgumentNullException.ThrowIfNull(networkKey);
        CheckServer(server, MaxServers);
        var key = networkKey.Encode();
        var message = new byte[StatementLabel.Length + NetworkId.Length + 2 + 1 + key.Length + SHA256.HashSizeInBytes];
        var writer = new CanonicalWriter(message);
        writer.WriteFixedBytes(StatementLabel);
        writer.WriteFixedBytes(network.ToArray());
        writer.WriteU16((ushort)server);
        writer.WriteU8((byte)networkKey.Suite.Id);
        writer.WriteFixedBytes(key);
        writer.WriteFixedBytes(SHA256.HashData(constants));
        return message;
    }

    /// <summary>M_i: server <paramref name="server"/>'s start-key signature on (V_cert, C).</summary>
    public static byte[] SignStatement(Ed25519PrivateKey startKey, NetworkId network, int server, GroupPublicKey networkKey, ReadOnlySpan<byte> constants)
    {
        ArgumentNullException.ThrowIfNull(startKey);
        return startKey.Sign(StatementMessage(network, server, networkKey, constants));
    }

    /// <summary>True iff <paramref name="signature"/> is server <paramref name="server"/>'s M_i under <paramref name="startKey"/>.</summary>
    public static bool VerifyStatement(Ed25519PublicKey startKey, NetworkId network, int server, GroupPublicKey networkKey, ReadOnlySpan<byte> constants, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(startKey);
        return server is >= 1 and <= MaxServers && signature.Length == Ed25519PublicKey.SignatureLength &&
            startKey.Verify(StatementMessage(network, server, networkKey, constants), signature);
    }

    /// <summary>
    /// Assembles M from every server's M_i (index i-1 holds server i's). The statements are not checked
    /// here: see <see cref="VerifyStatement(int, Ed25519PublicKey)"/> and <see cref="VerifyAllStatements"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Too many servers, constants too long, or a signature of the wrong length.</exception>
    public static InvariantInformation Create(NetworkId network, GroupPublicKey networkKey, ReadOnlySpan<byte> constants, IReadOnlyList<byte[]> statements)
    {
        ArgumentNullException.ThrowIfNull(networkKey);
        ArgumentNullException.ThrowIfNull(statements);
        if (statements.Count is < 1 or > MaxServers)
        {
            throw new ArgumentException($"M has one statement per server, 1 to {MaxServers}.", nameof(statements));
        }

        if (constants.Length > MaxConstantsLength)
        {
            throw new ArgumentException($"The constants are at most {MaxConstantsLength} bytes.", nameof(constants));
        }

        var copies = new byte[statements.Count][];
        for (var i = 0; i < copies.Length; i++)
        {
            if (statements[i] is not { Length: Ed25519PublicKey.SignatureLength })
            {
                throw new ArgumentException($"Statement {i + 1} is not an Ed25519 signature.", nameof(statements));
            }

            copies[i] = (byte[])statements[i].Clone();
        }

        return new InvariantInformation(networkKey.Suite, network, constants.ToArray(), networkKey, copies);
    }

    /// <summary>Server <paramref name="server"/>'s M_i, or an empty span if M has no such server.</summary>
    public ReadOnlySpan<byte> StatementOf(int server) =>
        server >= 1 && server <= _statements.Length ? _statements[server - 1] : [];

    /// <summary>Table 2 step (i): M_i of <paramref name="server"/> verifies with its V_start (read from its ROM).</summary>
    public bool VerifyStatement(int server, Ed25519PublicKey startKey) =>
        server >= 1 && server <= _statements.Length &&
        VerifyStatement(startKey, Network, server, NetworkKey, _constants, _statements[server - 1]);

    /// <summary>
    /// Every M_i verifies with the start key the constants name for server i (<paramref name="startKeys"/>,
    /// index i-1), and M has exactly one statement per listed server.
    /// </summary>
    public bool VerifyAllStatements(IReadOnlyList<Ed25519PublicKey> startKeys)
    {
        ArgumentNullException.ThrowIfNull(startKeys);
        if (startKeys.Count != _statements.Length)
        {
            return false;
        }

        for (var i = 0; i < _statements.Length; i++)
        {
            if (!VerifyStatement(i + 1, startKeys[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The canonical encoding (what S_cert signs, inside <see cref="InvariantCertificate"/>).</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new CanonicalWriter(buffer);
        WriteTo(ref writer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the canonical encoding.</summary>
    public void WriteTo(ref CanonicalWriter writer)
    {
        writer.WriteHeader(FormatVersion, Suite.Id);
        writer.WriteFixedBytes(Network.ToArray());
        writer.WriteBytes(_constants, MaxConstantsLength);
        writer.WriteFixedBytes(NetworkKey.Encode());
        writer.WriteU16((ushort)_statements.Length);
        for (var i = 0; i < _statements.Length; i++)
        {
            writer.WriteU16((ushort)(i + 1));
            writer.WriteFixedBytes(_statements[i]);
        }
    }

    /// <summary>
    /// Decodes untrusted bytes: version, a known suite (and <paramref name="expectedSuite"/> when given),
    /// bounded constants, a valid V_cert, statements for servers 1..n in order, nothing after. Never
    /// throws; verifies no signature.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out InvariantInformation? information, out CodecFailure failure)
    {
        var reader = new CanonicalReader(encoding);
        if (TryRead(ref reader, expectedSuite, out information) && reader.TryReadEnd())
        {
            failure = default;
            return true;
        }

        information = null;
        failure = reader.FailureOrInvalidValue;
        return false;
    }

    /// <summary>Decodes untrusted bytes; never throws.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoding, Ciphersuite? expectedSuite, [NotNullWhen(true)] out InvariantInformation? information) =>
        TryDecode(encoding, expectedSuite, out information, out _);

    /// <summary>Reads one M from <paramref name="reader"/>; never throws.</summary>
    public static bool TryRead(ref CanonicalReader reader, Ciphersuite? expectedSuite, [NotNullWhen(true)] out InvariantInformation? information)
    {
        information = null;
        if (!reader.TryReadHeader(FormatVersion, expectedSuite?.Group, out var group) ||
            !reader.TryReadFixedBytes(NetworkId.Length, out var networkBytes, "network") ||
            !reader.TryReadBytes(MaxConstantsLength, out var constants, "constants"))
        {
            return false;
        }

        var network = NetworkId.FromBytes(networkBytes);
        var constantsCopy = constants.ToArray();
        var suite = Ciphersuite.FromGroupId(group.Id);
        var keyOffset = reader.Offset;
        if (!reader.TryReadFixedBytes(group.ElementLength, out var keyBytes, "networkKey"))
        {
            return false;
        }

        if (!GroupPublicKey.TryDecode(suite, keyBytes, out var networkKey) || networkKey is null)
        {
            return reader.Fail(CodecError.InvalidElement, keyOffset, "networkKey");
        }

        var countOffset = reader.Offset;
        if (!reader.TryReadU16(out var count, "statements"))
        {
            return false;
        }

        if (count is < 1 or > MaxServers)
        {
            return reader.Fail(CodecError.InvalidValue, countOffset, "statements");
        }

        if (reader.Remaining < count * StatementLength)
        {
            return reader.Fail(CodecError.Truncated, countOffset, "statements");
        }

        var statements = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var serverOffset = reader.Offset;
            if (!reader.TryReadU16(out var server, "server"))
            {
                return false;
            }

            if (server != i + 1)
            {
                return reader.Fail(CodecError.InvalidValue, serverOffset, "server");
            }

            if (!reader.TryReadFixedBytes(Ed25519PublicKey.SignatureLength, out var signature, "statement"))
            {
                return false;
            }

            statements[i] = signature.ToArray();
        }

        information = new InvariantInformation(suite, network, constantsCopy, networkKey, statements);
        return true;
    }

    private static void CheckServer(int server, int max)
    {
        if (server < 1 || server > max)
        {
            throw new ArgumentOutOfRangeException(nameof(server), server, $"Server ids are 1..{max}.");
        }
    }
}

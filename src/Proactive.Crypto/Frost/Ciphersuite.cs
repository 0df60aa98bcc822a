// References: RFC 9591 (FROST) section 6.1 FROST(Ed25519, SHA-512), section 6.2 FROST(ristretto255, SHA-512),
// section 6.4 FROST(P-256, SHA-256); RFC 9380 section 5.2/5.3 (hash_to_field, expand_message_xmd) for P-256.
using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Proactive.Crypto.Groups;
using Proactive.Crypto.Hashing;

namespace Proactive.Crypto.Frost;

/// <summary>
/// A FROST ciphersuite (RFC 9591 section 6): a prime-order group, a context string, and the five
/// domain-separated hash functions H1..H5. Everything else in FROST is generic over this type, so a
/// suite is defined only here.
/// </summary>
public abstract class Ciphersuite
{
    // Hash inputs up to this size are built on the stack; longer messages use a pooled buffer.
    private const int StackLimit = 512;

    private readonly byte[] _context;

    private protected Ciphersuite(string contextString)
    {
        ContextString = contextString;
        _context = Encoding.ASCII.GetBytes(contextString);
    }

    /// <summary>FROST(Ed25519, SHA-512): signatures verify as ordinary RFC 8032 Ed25519 signatures.</summary>
    public static Ciphersuite Ed25519 => Ed25519Sha512.Instance;

    /// <summary>FROST(ristretto255, SHA-512).</summary>
    public static Ciphersuite Ristretto255 => Ristretto255Sha512.Instance;

    /// <summary>FROST(P-256, SHA-256).</summary>
    public static Ciphersuite P256 => P256Sha256.Instance;

    /// <summary>The three suites, in suite-id order (for tests and registries).</summary>
    public static IReadOnlyList<Ciphersuite> All => [Ed25519, Ristretto255, P256];

    public abstract PrimeOrderGroup Group { get; }

    /// <summary>The suite id on the wire: the group id, since each group has exactly one suite here.</summary>
    public GroupId Id => Group.Id;

    /// <summary>The RFC 9591 name, e.g. <c>FROST(Ed25519, SHA-512)</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The RFC 9591 contextString that prefixes every hash, e.g. <c>FROST-ED25519-SHA512-v1</c>.</summary>
    public string ContextString { get; }

    /// <summary>Output length of H4 and H5 (the suite's hash).</summary>
    public abstract int DigestLength { get; }

    /// <summary>The suite for a wire suite id; throws for an id that is not a suite (caller misuse).</summary>
    public static Ciphersuite FromGroupId(GroupId id) =>
        TryFromGroupId(id, out var suite) ? suite : throw new ArgumentOutOfRangeException(nameof(id), id, "Not a FROST suite.");

    /// <summary>The suite for a suite id read from untrusted bytes; false for unknown ids.</summary>
    public static bool TryFromGroupId(GroupId id, out Ciphersuite suite)
    {
        switch (id)
        {
            case GroupId.Ed25519:
                suite = Ed25519;
                return true;
            case GroupId.Ristretto255:
                suite = Ristretto255;
                return true;
            case GroupId.P256:
                suite = P256;
                return true;
            default:
                suite = null!;
                return false;
        }
    }

    /// <summary>H1: the binding factor hash (RFC 9591 section 4.4, label "rho").</summary>
    public abstract Scalar H1(ReadOnlySpan<byte> message);

    /// <summary>H2: the challenge hash (RFC 9591 section 4.6, label "chal"; unprefixed SHA-512 for Ed25519).</summary>
    public abstract Scalar H2(ReadOnlySpan<byte> message);

    /// <summary>H3: the nonce hash (RFC 9591 section 4.1, label "nonce").</summary>
    public abstract Scalar H3(ReadOnlySpan<byte> message);

    /// <summary>H4: the message digest inside the binding factor input (label "msg").</summary>
    public void H4(ReadOnlySpan<byte> message, Span<byte> destination) => HashPrefixed("msg"u8, message, destination);

    /// <summary>H5: the commitment list digest inside the binding factor input (label "com").</summary>
    public void H5(ReadOnlySpan<byte> message, Span<byte> destination) => HashPrefixed("com"u8, message, destination);

    public override string ToString() => Name;

    /// <summary>The suite hash of contextString || label || message into <paramref name="destination"/>.</summary>
    private protected void HashPrefixed(ReadOnlySpan<byte> label, ReadOnlySpan<byte> message, Span<byte> destination)
    {
        if (destination.Length != DigestLength)
        {
            throw new ArgumentException($"{Name} digests are {DigestLength} bytes.", nameof(destination));
        }

        var length = _context.Length + label.Length + message.Length;
        byte[]? rented = null;
        var input = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            _context.CopyTo(input);
            label.CopyTo(input[_context.Length..]);
            message.CopyTo(input[(_context.Length + label.Length)..]);
            Hash(input, destination);
        }
        finally
        {
            // H3 inputs carry a secret share; clear every input rather than decide per label.
            input.Clear();
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>contextString || label, the DST of the P-256 hash_to_field calls.</summary>
    private protected byte[] Dst(ReadOnlySpan<byte> label) => [.. _context, .. label];

    private protected abstract void Hash(ReadOnlySpan<byte> input, Span<byte> destination);

    /// <summary>Shared by the two SHA-512 suites (RFC 9591 sections 6.1 and 6.2).</summary>
    private abstract class Sha512Suite(string contextString) : Ciphersuite(contextString)
    {
        public sealed override int DigestLength => 64;

        public sealed override Scalar H1(ReadOnlySpan<byte> message) => HashToScalar("rho"u8, message);

        public sealed override Scalar H3(ReadOnlySpan<byte> message) => HashToScalar("nonce"u8, message);

        private protected sealed override void Hash(ReadOnlySpan<byte> input, Span<byte> destination) =>
            SHA512.HashData(input, destination);

        /// <summary>SHA-512(contextString || label || m) read little-endian, reduced mod L.</summary>
        private protected Scalar HashToScalar(ReadOnlySpan<byte> label, ReadOnlySpan<byte> message)
        {
            Span<byte> digest = stackalloc byte[64];
            try
            {
                HashPrefixed(label, message, digest);
                return Group.ReduceWide(digest);
            }
            finally
            {
                digest.Clear();
            }
        }
    }

    private sealed class Ed25519Sha512() : Sha512Suite("FROST-ED25519-SHA512-v1")
    {
        internal static readonly Ed25519Sha512 Instance = new();

        public override PrimeOrderGroup Group => PrimeOrderGroup.Ed25519;

        public override string Name => "FROST(Ed25519, SHA-512)";

        /// <summary>
        /// RFC 9591 section 6.1: H2 is plain SHA-512(m) with no context prefix, so that the challenge is
        /// RFC 8032's SHA-512(R || A || M) and FROST signatures verify as Ed25519 signatures.
        /// </summary>
        public override Scalar H2(ReadOnlySpan<byte> message)
        {
            Span<byte> digest = stackalloc byte[64];
            SHA512.HashData(message, digest);
            return Group.ReduceWide(digest);
        }
    }

    private sealed class Ristretto255Sha512() : Sha512Suite("FROST-RISTRETTO255-SHA512-v1")
    {
        internal static readonly Ristretto255Sha512 Instance = new();

        public override PrimeOrderGroup Group => PrimeOrderGroup.Ristretto255;

        public override string Name => "FROST(ristretto255, SHA-512)";

        public override Scalar H2(ReadOnlySpan<byte> message) => HashToScalar("chal"u8, message);
    }

    /// <summary>
    /// RFC 9591 section 6.4: H1..H3 are hash_to_field (RFC 9380 section 5.2) with expand_message_xmd over
    /// SHA-256, L = 48, m = 1, DST = contextString || label; the 48 bytes are read big-endian mod n.
    /// </summary>
    private sealed class P256Sha256 : Ciphersuite
    {
        internal static readonly P256Sha256 Instance = new();

        private const int FieldBytes = 48;
        private readonly byte[] _rhoDst;
        private readonly byte[] _chalDst;
        private readonly byte[] _nonceDst;

        private P256Sha256()
            : base("FROST-P256-SHA256-v1")
        {
            _rhoDst = Dst("rho"u8);
            _chalDst = Dst("chal"u8);
            _nonceDst = Dst("nonce"u8);
        }

        public override PrimeOrderGroup Group => PrimeOrderGroup.P256;

        public override string Name => "FROST(P-256, SHA-256)";

        public override int DigestLength => 32;

        public override Scalar H1(ReadOnlySpan<byte> message) => HashToField(message, _rhoDst);

        public override Scalar H2(ReadOnlySpan<byte> message) => HashToField(message, _chalDst);

        public override Scalar H3(ReadOnlySpan<byte> message) => HashToField(message, _nonceDst);

        private protected override void Hash(ReadOnlySpan<byte> input, Span<byte> destination) =>
            SHA256.HashData(input, destination);

        private Scalar HashToField(ReadOnlySpan<byte> message, ReadOnlySpan<byte> dst)
        {
            Span<byte> uniform = stackalloc byte[FieldBytes];
            try
            {
                ExpandMessageXmd.Expand(HashAlgorithmName.SHA256, message, dst, uniform);
                return Group.ReduceWide(uniform);
            }
            finally
            {
                uniform.Clear();
            }
        }
    }
}

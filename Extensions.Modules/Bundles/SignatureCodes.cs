namespace Extensions.Modules.Bundles;

/// <summary>Stable codes for <see cref="SignatureCheck.Code"/>; scripts and the registry match on these.</summary>
public static class SignatureCodes
{
    public const string Ok = "ok";
    public const string HashMismatch = "hash_mismatch";
    public const string UnknownKey = "unknown_key";
    public const string RevokedKey = "revoked_key";
    public const string PublisherMismatch = "publisher_mismatch";
    public const string BadSignature = "bad_signature";
    public const string UnsupportedAlgorithm = "unsupported_algorithm";
}

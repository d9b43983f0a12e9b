namespace Extensions.Modules.Bundles;

/// <summary>A public key the operator trusts to sign for <see cref="Publisher"/>; <see cref="State"/> is active or revoked.</summary>
public sealed record TrustedKey(string Publisher, string KeyId, byte[] PublicKey, string State)
{
    public const string Active = "active";
    public const string Revoked = "revoked";
}

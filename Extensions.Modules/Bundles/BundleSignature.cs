using Extensions.Modules.Storage;
using System.Text;
using System.Text.Json;

namespace Extensions.Modules.Bundles;

/// <summary>The detached <c>&lt;bundle&gt;.sig</c> file: an Ed25519 signature over the UTF-8 content-hash string.</summary>
public sealed record BundleSignature(string Algorithm, string KeyId, string ContentHash, string Signature)
{
    public const string Ed25519 = "ed25519";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Where the signature of <paramref name="bundlePath"/> lives.</summary>
    public static string PathFor(string bundlePath) => bundlePath + ".sig";

    public static BundleSignature Create(string contentHash, PublisherKey key)
    {
        if (!Storage.ContentHash.IsValid(contentHash))
            throw new ArgumentException($"'{contentHash}' is not a sha256:<64 lower-case hex> content hash", nameof(contentHash));
        var signature = key.Sign(Encoding.UTF8.GetBytes(contentHash));
        return new BundleSignature(Ed25519, key.KeyId, contentHash, Convert.ToBase64String(signature));
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static BundleSignature Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new BundleException("signature file must be a JSON object");
            var signature = new BundleSignature(Field(root, "algorithm"), Field(root, "keyId"), Field(root, "contentHash"), Field(root, "signature"));
            if (!Convert.TryFromBase64String(signature.Signature, new byte[signature.Signature.Length], out _))
                throw new BundleException("signature file's 'signature' is not base64");
            return signature;
        }
        catch (JsonException ex)
        {
            throw new BundleException($"signature file is not valid JSON: {ex.Message}", ex);
        }
    }

    internal byte[]? SignatureBytes()
    {
        var bytes = new byte[Signature.Length];
        return Convert.TryFromBase64String(Signature, bytes, out var written) ? bytes[..written] : null;
    }

    private static string Field(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new BundleException($"signature file needs a non-empty string '{name}'");
}

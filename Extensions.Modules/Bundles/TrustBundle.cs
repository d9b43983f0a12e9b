using System.Text;
using System.Text.Json;

namespace Extensions.Modules.Bundles;

/// <summary>
/// The operator's set of publisher keys (<c>trust.json</c>). Immutable: edits return a new bundle, and
/// <see cref="Save"/> replaces the file atomically so a reader never sees half of one.
/// </summary>
public sealed class TrustBundle
{
    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false };
    private readonly IReadOnlyList<TrustedKey> _keys;

    private TrustBundle(IReadOnlyList<TrustedKey> keys) => _keys = keys;

    public static TrustBundle Empty { get; } = new([]);

    public IEnumerable<TrustedKey> Keys => _keys;

    /// <summary>A missing file is an empty trust bundle (nothing verifies), not an error.</summary>
    public static TrustBundle Load(string path)
    {
        if (!File.Exists(path)) return Empty;
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (BundleException ex)
        {
            throw new BundleException($"trust bundle '{path}': {ex.Message}", ex);
        }
    }

    public static TrustBundle Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, ParseOptions);
        }
        catch (JsonException ex)
        {
            throw new BundleException($"not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = Expect(document.RootElement, JsonValueKind.Object, "$");
            if (!root.TryGetProperty("publishers", out var publishers)) return Empty;
            var keys = new List<TrustedKey>();
            foreach (var publisher in Expect(publishers, JsonValueKind.Object, "publishers").EnumerateObject())
            {
                var at = $"publishers.{publisher.Name}";
                CheckPublisher(publisher.Name);
                if (!Expect(publisher.Value, JsonValueKind.Object, at).TryGetProperty("keys", out var list)) continue;
                var index = 0;
                foreach (var key in Expect(list, JsonValueKind.Array, $"{at}.keys").EnumerateArray())
                {
                    var parsed = ParseKey(publisher.Name, key, $"{at}.keys[{index++}]");
                    if (keys.Any(k => k.Publisher == parsed.Publisher && k.KeyId == parsed.KeyId))
                        throw new BundleException($"{at}: key {parsed.KeyId} is listed twice");
                    keys.Add(parsed);
                }
            }
            return new TrustBundle(keys);
        }
    }

    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, ToJson());
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("publishers");
            foreach (var group in _keys.GroupBy(k => k.Publisher).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                writer.WriteStartObject(group.Key);
                writer.WriteStartArray("keys");
                foreach (var key in group)
                {
                    writer.WriteStartObject();
                    writer.WriteString("keyId", key.KeyId);
                    writer.WriteString("publicKey", Convert.ToBase64String(key.PublicKey));
                    writer.WriteString("state", key.State);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>
    /// Adds the key as active for <paramref name="publisher"/>. Re-adding a key that is already there changes
    /// nothing, and in particular does not reactivate a revoked key: revocation must be undone deliberately.
    /// </summary>
    public TrustBundle WithKey(string publisher, byte[] rawPublicKey)
    {
        CheckPublisher(publisher);
        if (!Ed25519Crypto.IsValidPublicKey(rawPublicKey)) throw new BundleException("not a valid 32-byte Ed25519 public key");
        var keyId = KeyIds.For(rawPublicKey);
        if (_keys.Any(k => k.Publisher == publisher && k.KeyId == keyId)) return this;
        return new TrustBundle([.. _keys, new TrustedKey(publisher, keyId, rawPublicKey.ToArray(), TrustedKey.Active)]);
    }

    /// <summary>Revokes the key for every publisher it is bound to.</summary>
    public TrustBundle WithRevoked(string keyId)
    {
        if (!_keys.Any(k => k.KeyId == keyId)) throw new BundleException($"key {keyId} is not in the trust bundle");
        return new TrustBundle([.. _keys.Select(k => k.KeyId == keyId ? k with { State = TrustedKey.Revoked } : k)]);
    }

    public SignatureCheck Verify(BundleSignature sig, string contentHash, string publisher)
    {
        if (sig.Algorithm != BundleSignature.Ed25519)
            return Fail(SignatureCodes.UnsupportedAlgorithm, $"signature algorithm '{sig.Algorithm}' is not supported (expected '{BundleSignature.Ed25519}')");
        if (sig.ContentHash != contentHash)
            return Fail(SignatureCodes.HashMismatch, $"signature is for {sig.ContentHash}, but the bundle's content hash is {contentHash}");
        var bound = _keys.Where(k => k.KeyId == sig.KeyId).ToList();
        if (bound.Count == 0)
            return Fail(SignatureCodes.UnknownKey, $"signing key {sig.KeyId} is not in the trust bundle");
        if (bound.FirstOrDefault(k => k.Publisher == publisher) is not { } key)
            return Fail(SignatureCodes.PublisherMismatch,
                $"signing key {sig.KeyId} is trusted for publisher '{string.Join("', '", bound.Select(k => k.Publisher))}', not for '{publisher}'");
        if (key.State != TrustedKey.Active)
            return Fail(SignatureCodes.RevokedKey, $"signing key {sig.KeyId} of publisher '{publisher}' has been revoked");
        if (sig.SignatureBytes() is not { } signature || !Ed25519Crypto.Verify(key.PublicKey, Encoding.UTF8.GetBytes(contentHash), signature))
            return Fail(SignatureCodes.BadSignature, $"signature by {sig.KeyId} does not verify: the bundle hash or the signature was altered");
        return new SignatureCheck(true, SignatureCodes.Ok, $"signed by {sig.KeyId} of publisher '{publisher}'");
    }

    private static SignatureCheck Fail(string code, string message) => new(false, code, message);

    private static TrustedKey ParseKey(string publisher, JsonElement key, string at)
    {
        Expect(key, JsonValueKind.Object, at);
        var keyId = String(key, "keyId", at);
        var encoded = String(key, "publicKey", at);
        var state = String(key, "state", at);
        var raw = new byte[Ed25519Crypto.PublicKeySize + 3];
        if (!Convert.TryFromBase64String(encoded, raw, out var length) || !Ed25519Crypto.IsValidPublicKey(raw.AsSpan(0, length)))
            throw new BundleException($"{at}.publicKey: must be the base64 of a raw 32-byte Ed25519 public key");
        raw = raw[..length];
        // The id is derived, so a mismatch means a hand-edited or corrupted file; trusting either half would be a guess.
        if (keyId != KeyIds.For(raw)) throw new BundleException($"{at}.keyId: '{keyId}' does not match its public key ({KeyIds.For(raw)})");
        if (state is not (TrustedKey.Active or TrustedKey.Revoked))
            throw new BundleException($"{at}.state: must be '{TrustedKey.Active}' or '{TrustedKey.Revoked}'");
        return new TrustedKey(publisher, keyId, raw, state);
    }

    // Same rule as the manifest's publisher, so every trusted publisher name can actually appear in a manifest.
    private static void CheckPublisher(string publisher)
    {
        if (!ManifestReader.IsIdentifier(publisher))
            throw new BundleException($"'{publisher}' is not a valid publisher name (lower-case letters, digits and '-', starting with a letter)");
    }

    private static JsonElement Expect(JsonElement value, JsonValueKind kind, string at) =>
        value.ValueKind == kind ? value : throw new BundleException($"{at}: must be a JSON {kind.ToString().ToLowerInvariant()}");

    private static string String(JsonElement obj, string name, string at) =>
        obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new BundleException($"{at}.{name}: must be a string");
}

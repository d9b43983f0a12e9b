using System.Security.Cryptography;

namespace Extensions.Modules.Bundles;

/// <summary>Finds the single PEM block with an expected label and returns its DER bytes.</summary>
internal static class PemFile
{
    public static byte[] Der(string pemText, string label, string what)
    {
        if (!PemEncoding.TryFind(pemText, out var fields))
            throw new BundleException($"{what} is not a PEM file (expected -----BEGIN {label}-----)");
        var found = pemText[fields.Label];
        if (found != label)
            throw new BundleException($"{what} holds a '{found}' PEM block; expected '{label}'");
        return Convert.FromBase64String(pemText[fields.Base64Data]);
    }

    public static string Write(string label, byte[] der) => new string(PemEncoding.Write(label, der)) + "\n";
}

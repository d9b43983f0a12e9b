namespace Extensions.Modules.Bundles;

/// <summary>A bundle, manifest, key, signature or trust file was refused; the message is for the operator.</summary>
public sealed class BundleException : Exception
{
    public BundleException() { }
    public BundleException(string message) : base(message) { }
    public BundleException(string message, Exception innerException) : base(message, innerException) { }
}

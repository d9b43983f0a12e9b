namespace Extensions.Modules.Bundles;

/// <summary>Either a manifest or every error found; never both.</summary>
public sealed record ManifestResult(ExtensionManifest? Manifest, IReadOnlyList<ManifestError> Errors)
{
    public bool IsValid => Manifest is not null && Errors.Count == 0;
}

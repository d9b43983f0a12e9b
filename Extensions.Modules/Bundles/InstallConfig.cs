using System.Text.Json;

namespace Extensions.Modules.Bundles;

/// <summary>An install's settings checked against the config schema its manifest declares.</summary>
public static class InstallConfig
{
    /// <summary>Every way <paramref name="config"/> breaks the manifest's <c>config</c> schema; empty when it is valid.</summary>
    public static IReadOnlyList<ManifestError> Validate(ExtensionManifest manifest, JsonElement config) =>
        JsonSchemas.ValidateConfig(manifest.ConfigSchema, config);
}

using System.Text.Json;

namespace Extensions.Modules.Bundles;

/// <summary>A validated manifest v2; only <see cref="ManifestReader"/> produces trusted instances.</summary>
public sealed record ExtensionManifest
{
    public required int ManifestVersion { get; init; }
    public required string Publisher { get; init; }
    public required string Name { get; init; }
    public required string Version { get; init; }
    public string? DisplayName { get; init; }
    public string? Description { get; init; }
    public required string Runtime { get; init; }
    public required string Main { get; init; }
    public IReadOnlyList<string> Capabilities { get; init; } = [];
    public IReadOnlyList<string> EgressHosts { get; init; } = [];
    public JsonElement? ConfigSchema { get; init; }
    public IReadOnlyList<string> Secrets { get; init; } = [];
    public IReadOnlyList<EndpointSpec> Endpoints { get; init; } = [];
    public string? UiEntry { get; init; }

    /// <summary>Where the console shows the extension's UI (<c>ui.hooks</c>); empty when it is not shown.</summary>
    public IReadOnlyList<UiHook> UiHooks { get; init; } = [];
    public IReadOnlyList<string> Assets { get; init; } = [];
    public ManifestLimits Limits { get; init; } = new(null, null, null);

    public string ExtensionId => $"{Publisher}.{Name}";
}

namespace Extensions.Modules.Bundles;

/// <summary>A place in the console that shows the extension's iframe: <see cref="Place"/> is a known hook name (<c>nav</c>).</summary>
public sealed record UiHook(string Place, string Label)
{
    /// <summary>Hook names the console knows; anything else in a manifest is refused.</summary>
    public static IReadOnlyList<string> Known { get; } = ["nav"];
}

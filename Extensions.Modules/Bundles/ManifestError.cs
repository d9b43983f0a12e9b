namespace Extensions.Modules.Bundles;

/// <summary>One broken rule; <see cref="Field"/> is a JSON path such as <c>api.endpoints[1].path</c>.</summary>
public sealed record ManifestError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

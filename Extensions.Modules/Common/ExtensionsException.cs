namespace Extensions.Modules.Common;

/// <summary>
/// An expected failure that maps to one problem response: a stable <see cref="Code"/>, an HTTP status
/// and a detail that is safe to show to the caller.
/// </summary>
public sealed class ExtensionsException(string code, int status, string detail) : Exception(detail)
{
    public string Code { get; } = code;
    public int Status { get; } = status;

    /// <summary>Extra members of the problem response (e.g. the capability diff of a refused upgrade); values must be <see cref="System.Text.Json.JsonElement"/>.</summary>
    public IReadOnlyDictionary<string, System.Text.Json.JsonElement>? Members { get; init; }
}

namespace Extensions.Tests.Architecture;

/// <summary>
/// A third-party library only one part of the code may touch: types whose namespace is <see cref="Namespace"/> (or
/// below) or that come from assembly <see cref="AssemblyName"/> may be referenced only from types in
/// <c>{root}.{AllowedIn}</c> (or below).
/// </summary>
internal sealed record ConfinedLibrary(string Name, string Namespace, string AssemblyName, string AllowedIn)
{
    public static ConfinedLibrary Wasmtime { get; } = new("Wasmtime", "Wasmtime", "Wasmtime", "Runner.Worker");

    public static ConfinedLibrary BouncyCastle { get; } = new("BouncyCastle", "Org.BouncyCastle", "BouncyCastle.Cryptography", "Bundles");

    public static ConfinedLibrary JsonSchema { get; } = new("JsonSchema.Net", "Json.Schema", "JsonSchema.Net", "Bundles");

    public bool Owns(Type type) =>
        type.Assembly.GetName().Name == AssemblyName
        || (type.Namespace is { } ns && (ns == Namespace || ns.StartsWith(Namespace + ".", StringComparison.Ordinal)));
}

using System.Reflection;

namespace Extensions.Tests.Architecture;

/// <summary>
/// Which module a type belongs to: <c>{root}.{Module}[.…]</c> for module code, and for the public static entry class
/// <c>{entryNamespace}.{Module}Module</c> (e.g. <c>Microsoft.Extensions.DependencyInjection.RunnerModule</c> belongs to Runner).
/// Nested types, including compiler-generated closures and state machines, belong to their outermost type's module.
/// Only types from the analysed assemblies get a module.
/// </summary>
internal sealed class ModuleMap(IReadOnlySet<Assembly> assemblies, string namespaceRoot, string entryNamespace)
{
    public const string EntrySuffix = "Module";

    public string NamespaceRoot { get; } = namespaceRoot;

    public string EntryNamespace { get; } = entryNamespace;

    public string? ModuleOf(Type type)
    {
        var outer = Outermost(type);
        if (!assemblies.Contains(outer.Assembly) || outer.Namespace is not { } ns)
        {
            return null;
        }

        if (ns.StartsWith(NamespaceRoot + ".", StringComparison.Ordinal))
        {
            var rest = ns[(NamespaceRoot.Length + 1)..];
            var dot = rest.IndexOf('.', StringComparison.Ordinal);
            return dot < 0 ? rest : rest[..dot];
        }

        if (ns == EntryNamespace && IsEntryClassName(outer.Name))
        {
            return outer.Name[..^EntrySuffix.Length];
        }

        return null;
    }

    /// <summary>True when <paramref name="type"/> lives in <c>{root}.{relativeNamespace}</c> or below it.</summary>
    public bool IsUnder(Type type, string relativeNamespace)
    {
        var ns = Outermost(type).Namespace;
        var full = NamespaceRoot + "." + relativeNamespace;
        return ns is not null && (ns == full || ns.StartsWith(full + ".", StringComparison.Ordinal));
    }

    public static bool IsEntryClassName(string name) =>
        name.Length > EntrySuffix.Length && name.EndsWith(EntrySuffix, StringComparison.Ordinal);

    public static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } declaring)
        {
            type = declaring;
        }

        return type;
    }
}

using System.Reflection;

namespace Extensions.Tests.Architecture;

/// <summary>
/// Checks module boundaries over a set of types whose modules are <c>{namespaceRoot}.{Module}</c> namespaces plus
/// <c>{entryNamespace}.{Module}Module</c> entry classes. The same checker runs over the real Extensions.Modules
/// assembly and over deliberately broken fixtures in this test project.
/// </summary>
internal sealed class ModuleBoundaryChecker
{
    public const string DefaultEntryNamespace = "Microsoft.Extensions.DependencyInjection";

    private readonly IReadOnlyList<Type> _types;
    private readonly Lazy<(List<TypeReference> References, List<string> Errors)> _scan;

    public ModuleBoundaryChecker(IEnumerable<Type> types, string namespaceRoot, string entryNamespace = DefaultEntryNamespace)
    {
        _types = [.. types];
        Map = new ModuleMap(_types.Select(t => t.Assembly).ToHashSet(), namespaceRoot, entryNamespace);
        _scan = new(() =>
        {
            var errors = new List<string>();
            var references = _types.SelectMany(t => TypeReferenceScanner.Scan(t, errors)).ToList();
            return (references, errors);
        });
    }

    public static ModuleBoundaryChecker ForAssembly(Assembly assembly, string namespaceRoot, string entryNamespace = DefaultEntryNamespace) =>
        new(assembly.GetTypes(), namespaceRoot, entryNamespace);

    public ModuleMap Map { get; }

    public IReadOnlyList<Type> Types => _types;

    public IReadOnlyList<TypeReference> References => _scan.Value.References;

    /// <summary>IL tokens that could not be resolved: the scan would be incomplete.</summary>
    public IReadOnlyList<string> ScanErrors => _scan.Value.Errors;

    /// <summary>Rule 1: a reference into another module must name a public type (nested: public all the way out) and a public or protected member.</summary>
    public IReadOnlyList<Violation> CrossModuleNonPublicReferences() => Collect(
        from reference in References
        let fromModule = Map.ModuleOf(reference.Source)
        let toModule = Map.ModuleOf(reference.Target)
        where fromModule is not null && toModule is not null && fromModule != toModule
        let violation = !IsEffectivelyPublic(reference.Target)
            ? new Violation(reference.SourceName, TypeNames.Of(reference.Target), $"non-public type of module {toModule}")
            : reference.TargetMember is { } member && !IsAccessibleOutsideAssembly(member)
                ? new Violation(reference.SourceName, TypeNames.Member(member), $"non-public member of module {toModule}")
                : null
        where violation is not null
        select violation);

    /// <summary>Rule 2: no reference at all (public or not) along a pair the table forbids.</summary>
    public IReadOnlyList<Violation> ForbiddenDependencies(IReadOnlyDictionary<string, ModuleConstraint> table) => Collect(
        from reference in References
        let fromModule = Map.ModuleOf(reference.Source)
        let toModule = Map.ModuleOf(reference.Target)
        where fromModule is not null && toModule is not null && fromModule != toModule
              && table.TryGetValue(fromModule, out var constraint) && constraint.Forbids(toModule)
        select new Violation(reference.SourceName, TypeNames.Of(reference.Target), $"forbidden dependency {fromModule} -> {toModule}"));

    /// <summary>Rule 3: a confined library is referenced only from its allowed namespace.</summary>
    public IReadOnlyList<Violation> ConfinedLibraryReferences(ConfinedLibrary library) => Collect(
        from reference in References
        where library.Owns(reference.Target) && !library.Owns(reference.Source)
              && !Map.IsUnder(reference.Source, library.AllowedIn)
        select new Violation(reference.SourceName, TypeNames.Of(reference.Target),
            $"{library.Name} outside {Map.NamespaceRoot}.{library.AllowedIn}"));

    /// <summary>Rule 4: public static classes in the entry namespace are named <c>&lt;Something&gt;Module</c>.</summary>
    public IReadOnlyList<Violation> EntryClassNames() => Collect(
        from type in _types
        where type.Namespace == Map.EntryNamespace && type is { IsNested: false, IsPublic: true, IsAbstract: true, IsSealed: true }
              && !ModuleMap.IsEntryClassName(type.Name)
        select new Violation(TypeNames.Of(type) + ".(class)", TypeNames.Of(type), "entry class must be named <Something>Module"));

    /// <summary>
    /// Rule 5: every static field is readonly or const. Compiler-generated fields (names with '&lt;') are exempt,
    /// except auto-property backing fields, which must be init-only (a static get-only auto-property).
    /// </summary>
    public IReadOnlyList<Violation> StaticMutableFields() => Collect(
        from type in _types
        from field in type.GetFields(BindingFlags.DeclaredOnly | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
        where !field.IsInitOnly && !field.IsLiteral
              && (!field.Name.Contains('<', StringComparison.Ordinal) || field.Name.EndsWith(">k__BackingField", StringComparison.Ordinal))
        select new Violation(TypeNames.Member(field), TypeNames.Of(field.FieldType), "static mutable state"));

    public static bool IsEffectivelyPublic(Type type) =>
        type.IsNested ? type.IsNestedPublic && IsEffectivelyPublic(type.DeclaringType!) : type.IsPublic;

    private static bool IsAccessibleOutsideAssembly(MemberInfo member) => member switch
    {
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        _ => true,
    };

    private static List<Violation> Collect(IEnumerable<Violation> violations) =>
        [.. violations.Distinct().OrderBy(v => v.ToString(), StringComparer.Ordinal)];
}

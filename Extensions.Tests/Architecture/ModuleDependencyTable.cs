namespace Extensions.Tests.Architecture;

/// <summary>
/// Which modules a module must not depend on at all (public contracts included). Data flows one way:
/// Storage and Bundles are leaves, the Runner knows nothing of who calls it, the Gateway sits on top.
/// Edit this table, not the checker, when the architecture changes.
/// </summary>
internal static class ModuleDependencyTable
{
    public static IReadOnlyDictionary<string, ModuleConstraint> Forbidden { get; } = new Dictionary<string, ModuleConstraint>(StringComparer.Ordinal)
    {
        ["Runner"] = ModuleConstraint.Forbid("Registry", "Gateway", "HostApi"),
        ["Storage"] = ModuleConstraint.ForbidAllExcept("Common"),
        ["Bundles"] = ModuleConstraint.Forbid("Registry", "Gateway", "Runner", "HostApi"),
        ["HostApi"] = ModuleConstraint.Forbid("Gateway"),
        ["Gateway"] = ModuleConstraint.ForbidAllExcept("Registry", "Runner", "Bundles", "Common", "Storage"),
        ["Telemetry"] = ModuleConstraint.ForbidAllExcept("Common"),
        ["Assets"] = ModuleConstraint.ForbidAllExcept("Registry", "Bundles", "Common", "Storage"),
        // The console reads activity through the Gateway's and HostApi's contracts (the services their admin APIs use).
        ["Console"] = ModuleConstraint.ForbidAllExcept("Registry", "Assets", "Bundles", "Common", "Storage", "Gateway", "HostApi"),
    };
}

/// <summary>The modules one module may not reference: a deny list, or everything but an allow list.</summary>
internal sealed class ModuleConstraint
{
    private readonly HashSet<string> _modules;
    private readonly bool _allowList;

    private ModuleConstraint(IEnumerable<string> modules, bool allowList)
    {
        _modules = new HashSet<string>(modules, StringComparer.Ordinal);
        _allowList = allowList;
    }

    public static ModuleConstraint Forbid(params string[] modules) => new(modules, allowList: false);

    public static ModuleConstraint ForbidAllExcept(params string[] modules) => new(modules, allowList: true);

    public bool Forbids(string target) => _modules.Contains(target) != _allowList;
}

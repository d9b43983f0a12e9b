using System.Reflection.Emit;
using Extensions.Modules.Common;
using NUnit.Framework;

namespace Extensions.Tests.Architecture;

/// <summary>
/// Module boundaries of Extensions.Modules, checked on the compiled assembly (signatures and IL). Every rule also runs
/// over a deliberately broken fixture in <c>Extensions.Tests.Architecture.Fixtures</c> to prove it can fail.
/// </summary>
public sealed class ModuleBoundaryTests
{
    private const string Root = "Extensions.Modules";
    private const string FixtureRoot = "Extensions.Tests.Architecture.Fixtures";

    private static readonly Lazy<ModuleBoundaryChecker> RealModules =
        new(() => ModuleBoundaryChecker.ForAssembly(typeof(ExtensionsException).Assembly, Root));

    private static ModuleBoundaryChecker Real => RealModules.Value;

    // ---- the real assembly ----

    [Test]
    public void ModulesAssembly_ModuleMap_SeesEveryModuleAndItsEntryClass()
    {
        var modules = Real.Types.Select(Real.Map.ModuleOf).OfType<string>().ToHashSet();
        var entryModules = Real.Types.Where(t => t.Namespace == ModuleBoundaryChecker.DefaultEntryNamespace).Select(Real.Map.ModuleOf).OfType<string>();

        Assert.Multiple(() =>
        {
            Assert.That(modules, Is.SupersetOf(new[] { "Common", "Storage", "Bundles", "Registry", "Runner", "HostApi", "Gateway" }));
            Assert.That(entryModules, Is.SupersetOf(new[] { "Common", "Storage", "Registry", "Runner", "HostApi", "Gateway" }));
            Assert.That(Real.References.Count(r => Real.Map.ModuleOf(r.Source) is { } from && Real.Map.ModuleOf(r.Target) is { } to && from != to),
                Is.GreaterThan(0), "the scan found no cross-module references at all; is the namespace root right?");
        });
    }

    [Test]
    public void ModulesAssembly_IlScan_ResolvesEveryToken()
    {
        Assert.That(Real.ScanErrors, Is.Empty, () => string.Join(Environment.NewLine, Real.ScanErrors));
    }

    [Test]
    public void ModulesAssembly_CrossModuleReferences_TargetOnlyPublicTypesAndMembers()
    {
        var violations = Real.CrossModuleNonPublicReferences();

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    [Test]
    public void ModulesAssembly_ModuleDependencies_FollowTheOneWayTable()
    {
        var violations = Real.ForbiddenDependencies(ModuleDependencyTable.Forbidden);

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    [Test]
    public void ModulesAssembly_WasmtimeReferences_OnlyFromRunnerWorker()
    {
        var violations = Real.ConfinedLibraryReferences(ConfinedLibrary.Wasmtime);

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    [Test]
    public void ModulesAssembly_BouncyCastleReferences_OnlyFromBundles()
    {
        var violations = Real.ConfinedLibraryReferences(ConfinedLibrary.BouncyCastle);

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    [Test]
    public void ModulesAssembly_JsonSchemaReferences_OnlyFromBundles()
    {
        var violations = Real.ConfinedLibraryReferences(ConfinedLibrary.JsonSchema);

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    [Test]
    public void ModulesAssembly_EntryClasses_AreNamedSomethingModule()
    {
        var violations = Real.EntryClassNames();

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    [Test]
    public void ModulesAssembly_StaticFields_AreReadonlyOrConst()
    {
        var violations = Real.StaticMutableFields();

        Assert.That(violations, Is.Empty, () => Violation.Describe(violations));
    }

    // ---- the checker itself, on deliberately broken fixtures ----

    [Test]
    public void IlReader_OpCodeTable_CoversEveryOpCodeWithAMemberToken()
    {
        OpCode[] tokenOpCodes =
        [
            OpCodes.Call, OpCodes.Callvirt, OpCodes.Newobj, OpCodes.Ldfld, OpCodes.Ldsfld, OpCodes.Stfld, OpCodes.Stsfld,
            OpCodes.Ldflda, OpCodes.Ldsflda, OpCodes.Ldtoken, OpCodes.Box, OpCodes.Unbox, OpCodes.Unbox_Any, OpCodes.Castclass,
            OpCodes.Isinst, OpCodes.Newarr, OpCodes.Initobj, OpCodes.Ldftn, OpCodes.Ldvirtftn, OpCodes.Constrained,
            OpCodes.Ldobj, OpCodes.Stobj, OpCodes.Sizeof, OpCodes.Ldelema, OpCodes.Ldelem, OpCodes.Stelem, OpCodes.Mkrefany,
            OpCodes.Refanyval,
        ];

        Assert.Multiple(() =>
        {
            Assert.That(IlReader.OpCodesByValue, Has.Count.GreaterThan(200));
            Assert.That(IlReader.OpCodesByValue[OpCodes.Switch.Value].OperandType, Is.EqualTo(OperandType.InlineSwitch));
            foreach (var op in tokenOpCodes)
            {
                Assert.That(IlReader.OpCodesByValue[op.Value], Is.EqualTo(op));
                Assert.That(IlReader.HasMemberToken(op), Is.True, op.Name);
            }
        });
    }

    [Test]
    public void VisibilityFixture_CrossModuleReferences_ReportsEveryNonPublicTypeAndMember()
    {
        const string alpha = FixtureRoot + ".Visibility.Modules.Alpha.";
        const string beta = FixtureRoot + ".Visibility.Modules.Beta.";
        const string entry = FixtureRoot + ".Visibility.DependencyInjection.";
        var checker = Fixture("Visibility", FixtureRoot + ".Visibility.DependencyInjection");

        var violations = checker.CrossModuleNonPublicReferences();
        var lines = violations.Select(v => v.ToString()).ToList();

        string Type(string member, string target) => $"{alpha}AlphaViolator.{member} -> {beta}{target} (non-public type of module Beta)";
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain(Type("(base type)", "BetaBase")));
            Assert.That(lines, Does.Contain(Type("(interface)", "IBetaInternal")));
            Assert.That(lines, Does.Contain(Type("(attribute)", "BetaMarkerAttribute")));
            Assert.That(lines, Does.Contain(Type("_field", "BetaField")));
            Assert.That(lines, Does.Contain(Type("Items", "BetaListItem")));
            Assert.That(lines, Does.Contain(Type("Take", "BetaParameter")));
            Assert.That(lines, Does.Contain(Type("Make", "BetaReturn")));
            Assert.That(lines, Does.Contain(Type("BodyOnly", "BetaBodyOnly")));
            Assert.That(lines, Does.Contain(Type("UsesNested", "BetaOuterInternal+NestedPublicInInternal")));
            Assert.That(lines, Does.Contain(Type("TypeOf", "BetaTypeofOnly")));
            Assert.That(lines, Does.Contain(Type("Cast", "BetaCastOnly")));
            Assert.That(lines, Does.Contain(Type("GenericCall", "BetaGenericArgumentOnly")));
            Assert.That(lines, Does.Contain(Type("ReadsInternalStatic", "BetaStatics")));
            Assert.That(lines, Does.Contain($"{alpha}AlphaViolator.CallsInternalMember -> {beta}BetaPublic.InternalValue (non-public member of module Beta)"));
            Assert.That(lines, Does.Contain($"{alpha}AlphaViolator.ReadsInternalField -> {beta}BetaPublic.InternalField (non-public member of module Beta)"));
            Assert.That(lines, Has.Some.Match($@"^{Escape(alpha)}AlphaViolator\+<>c\.<Lambda>.* -> {Escape(beta)}BetaLambdaOnly \("));
            Assert.That(lines, Has.Some.Match($@"^{Escape(alpha)}AlphaViolator\+<AsyncBody>d__\d+\.MoveNext -> {Escape(beta)}BetaAsyncOnly \("));
            Assert.That(lines, Does.Contain($"{entry}BetaModule.Create -> {alpha}AlphaInternal (non-public type of module Alpha)"));

            Assert.That(violations.Select(v => v.Target).Distinct(), Is.EquivalentTo(new[]
            {
                "BetaBase", "IBetaInternal", "BetaMarkerAttribute", "BetaField", "BetaListItem", "BetaParameter", "BetaReturn",
                "BetaBodyOnly", "BetaOuterInternal+NestedPublicInInternal", "BetaTypeofOnly", "BetaCastOnly",
                "BetaGenericArgumentOnly", "BetaStatics", "BetaLambdaOnly", "BetaAsyncOnly", "BetaPublic.InternalValue",
                "BetaPublic.InternalField",
            }.Select(t => beta + t).Append(alpha + "AlphaInternal")), "only non-public targets are reported");
            Assert.That(violations.Where(v => v.Source.StartsWith(alpha + "AlphaCompliant", StringComparison.Ordinal)
                                            || v.Source.StartsWith(entry + "AlphaModule", StringComparison.Ordinal)), Is.Empty,
                "public surface and same-module internals are fine");
        });
    }

    [Test]
    public void DependencyFixture_ForbiddenDependencies_ReportsEveryForbiddenPairOnly()
    {
        const string modules = FixtureRoot + ".Dependencies.Modules.";
        var checker = Fixture("Dependencies");

        var violations = checker.ForbiddenDependencies(ModuleDependencyTable.Forbidden);

        Assert.That(violations.Select(v => v.ToString()), Is.EquivalentTo(new[]
        {
            $"{modules}Runner.RunnerUsesRegistry.Use -> {modules}Registry.RegistryContract (forbidden dependency Runner -> Registry)",
            $"{modules}Storage.StorageUsesBundles.Use -> {modules}Bundles.BundleContract (forbidden dependency Storage -> Bundles)",
            $"{modules}Bundles.BundlesUsesRunner.Use -> {modules}Runner.RunnerContract (forbidden dependency Bundles -> Runner)",
            $"{modules}HostApi.HostApiUsesGateway.Use -> {modules}Gateway.GatewayContract (forbidden dependency HostApi -> Gateway)",
        }), () => Violation.Describe(violations));
    }

    [Test]
    public void LibraryFixture_ConfinedLibraries_ReportsUsesOutsideTheirHome()
    {
        const string modules = FixtureRoot + ".Libraries.Modules.";
        var checker = Fixture("Libraries");

        var wasmtime = checker.ConfinedLibraryReferences(ConfinedLibrary.Wasmtime);
        var bouncyCastle = checker.ConfinedLibraryReferences(ConfinedLibrary.BouncyCastle);

        Assert.Multiple(() =>
        {
            Assert.That(wasmtime.Select(v => v.ToString()), Is.EquivalentTo(new[]
            {
                $"{modules}Runner.Pool.PoolUsesWasmtime.Use -> Wasmtime.Config (Wasmtime outside {modules}Runner.Worker)",
            }), () => Violation.Describe(wasmtime));
            Assert.That(bouncyCastle.Select(v => v.ToString()), Is.EquivalentTo(new[]
            {
                $"{modules}Registry.RegistryUsesBouncyCastle.Use -> Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters (BouncyCastle outside {modules}Bundles)",
            }), () => Violation.Describe(bouncyCastle));
        });
    }

    [Test]
    public void EntryClassFixture_EntryClassNames_ReportsPublicStaticClassesNotNamedModule()
    {
        const string ns = FixtureRoot + ".EntryClasses.DependencyInjection";
        var checker = Fixture("EntryClasses", ns);

        var violations = checker.EntryClassNames();

        Assert.That(violations.Select(v => v.ToString()), Is.EquivalentTo(new[]
        {
            $"{ns}.AlphaServiceCollectionExtensions.(class) -> {ns}.AlphaServiceCollectionExtensions (entry class must be named <Something>Module)",
            $"{ns}.Module.(class) -> {ns}.Module (entry class must be named <Something>Module)",
        }), () => Violation.Describe(violations));
    }

    [Test]
    public void StaticStateFixture_StaticMutableFields_ReportsEveryWritableStatic()
    {
        const string type = FixtureRoot + ".StaticState.Modules.Alpha.MutableStatics";
        var checker = Fixture("StaticState");

        var violations = checker.StaticMutableFields();

        Assert.That(violations.Select(v => v.ToString()), Is.EquivalentTo(new[]
        {
            $"{type}.Counter -> System.Int32 (static mutable state)",
            $"{type}.Gate -> System.Threading.Lock (static mutable state)",
            $"{type}.<AutoProperty>k__BackingField -> System.Int32 (static mutable state)",
        }), () => Violation.Describe(violations));
    }

    /// <summary>A checker over the fixture types under <c>Fixtures.{name}</c>, whose modules are <c>Fixtures.{name}.Modules.*</c>.</summary>
    private static ModuleBoundaryChecker Fixture(string name, string entryNamespace = ModuleBoundaryChecker.DefaultEntryNamespace)
    {
        var prefix = $"{FixtureRoot}.{name}.";
        var types = typeof(ModuleBoundaryTests).Assembly.GetTypes()
            .Where(t => ModuleMap.Outermost(t).Namespace?.StartsWith(prefix, StringComparison.Ordinal) == true);
        return new ModuleBoundaryChecker(types, prefix + "Modules", entryNamespace);
    }

    private static string Escape(string text) => System.Text.RegularExpressions.Regex.Escape(text);
}

// Deliberately broken module code for the cross-module visibility rule; only ModuleBoundaryTests reads it.
#pragma warning disable CA1812, CA1822, CA1852, CA1859, CA1002, CA1051, CA1034, CA2211, CA1813, CA1018, CS0649

using Extensions.Tests.Architecture.Fixtures.Visibility.Modules.Alpha;
using Extensions.Tests.Architecture.Fixtures.Visibility.Modules.Beta;

namespace Extensions.Tests.Architecture.Fixtures.Visibility.Modules.Beta
{
    public class BetaPublic
    {
        internal int InternalField;

        public static int PublicValue() => 1;

        internal static int InternalValue() => 2;

        public class PublicNested;
    }

    internal class BetaOuterInternal
    {
        public class NestedPublicInInternal;
    }

    internal class BetaBase;

    internal interface IBetaInternal;

    internal sealed class BetaMarkerAttribute : Attribute;

    internal sealed class BetaField;

    internal sealed class BetaListItem;

    internal sealed class BetaParameter;

    internal sealed class BetaReturn;

    internal sealed class BetaBodyOnly;

    internal sealed class BetaLambdaOnly;

    internal sealed class BetaAsyncOnly;

    internal sealed class BetaTypeofOnly;

    internal sealed class BetaCastOnly;

    internal sealed class BetaGenericArgumentOnly;

    internal static class BetaStatics
    {
        public static readonly string Value = "x";
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Visibility.Modules.Alpha
{
    internal sealed class AlphaInternal;

    [BetaMarker]
    internal sealed class AlphaViolator : BetaBase, IBetaInternal
    {
        private BetaField? _field;

        public List<BetaListItem> Items { get; } = [];

        public static string Take(BetaParameter parameter) => parameter.ToString()!;

        public static BetaReturn? Make() => null;

        public static string? BodyOnly() => new BetaBodyOnly().ToString();

        public static int CallsInternalMember() => BetaPublic.InternalValue();

        public static int ReadsInternalField(BetaPublic value) => value.InternalField;

        public static string? UsesNested() => new BetaOuterInternal.NestedPublicInInternal().ToString();

        public static Type TypeOf() => typeof(BetaTypeofOnly);

        public static bool Cast(object value) => value is BetaCastOnly;

        public static int GenericCall() => Array.Empty<BetaGenericArgumentOnly>().Length;

        public static string ReadsInternalStatic() => BetaStatics.Value;

        public static object Lambda()
        {
            Func<object> make = () => new BetaLambdaOnly();
            return make();
        }

        public static async Task<string?> AsyncBody()
        {
            await Task.Yield();
            return new BetaAsyncOnly().ToString();
        }

        public override string? ToString() => _field?.ToString();
    }

    /// <summary>Uses only Beta's public surface and Alpha's own internals: nothing to report.</summary>
    public static class AlphaCompliant
    {
        public static object Use()
        {
            var own = new AlphaInternal();
            Func<int> lambda = () => BetaPublic.PublicValue();
            return (own, new BetaPublic.PublicNested(), lambda());
        }
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Visibility.DependencyInjection
{
    /// <summary>Alpha's entry class belongs to Alpha: it may use Alpha internals.</summary>
    public static class AlphaModule
    {
        public static object Create() => new AlphaInternal();
    }

    /// <summary>Beta's entry class belongs to Beta: Alpha internals are off limits.</summary>
    public static class BetaModule
    {
        public static object Create() => new AlphaInternal();
    }
}

// Deliberately mutable statics for the static-state rule; only ModuleBoundaryTests reads it.
#pragma warning disable CA1812, CA1822, CA1852, CA2211, CA1051

namespace Extensions.Tests.Architecture.Fixtures.StaticState.Modules.Alpha
{
    internal static class MutableStatics
    {
        internal const int Constant = 2;

        internal static readonly int Readonly = 1;

        internal static int Counter;

        internal static Lock Gate = new();

        internal static int AutoProperty { get; set; }

        internal static int GetOnly { get; } = 3;

        /// <summary>A non-capturing lambda: the compiler caches it in a mutable static field on <c>&lt;&gt;c</c>, which is exempt.</summary>
        internal static Func<int> Lambda() => () => Counter + Readonly + GetOnly + AutoProperty + Constant;

        internal static void Touch()
        {
            lock (Gate)
            {
                Counter++;
            }
        }
    }
}

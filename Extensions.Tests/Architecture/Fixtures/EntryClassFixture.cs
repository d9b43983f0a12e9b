// Deliberately misnamed entry classes for the entry-class naming rule; only ModuleBoundaryTests reads it.
#pragma warning disable CA1812, CA1822, CA1852, CA1716

namespace Extensions.Tests.Architecture.Fixtures.EntryClasses.DependencyInjection
{
    public static class AlphaModule
    {
        public static int Add() => 1;
    }

    public static class AlphaServiceCollectionExtensions
    {
        public static int Add() => 1;
    }

    public static class Module
    {
        public static int Add() => 1;
    }

    /// <summary>Not public: not an entry class.</summary>
    internal static class HelperExtensions
    {
        public static int Add() => 1;
    }

    /// <summary>Not static: not an entry class.</summary>
    public sealed class Options
    {
        public int Value { get; set; }
    }
}

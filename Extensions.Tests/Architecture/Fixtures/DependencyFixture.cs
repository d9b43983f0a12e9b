// Deliberately broken module code for the one-way dependency rule; only ModuleBoundaryTests reads it.
#pragma warning disable CA1812, CA1822, CA1852

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.Common
{
    public sealed class CommonContract;
}

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.Registry
{
    public sealed class RegistryContract;
}

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.Bundles
{
    public sealed class BundleContract;

    public static class BundlesUsesRunner
    {
        public static object Use() => new Runner.RunnerContract();
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.Gateway
{
    public sealed class GatewayContract;

    /// <summary>The top of the stack may use everything below it.</summary>
    public static class GatewayUsesEverything
    {
        public static object Use() => (new Registry.RegistryContract(), new Runner.RunnerContract(), new Bundles.BundleContract(), new Common.CommonContract());
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.Runner
{
    public sealed class RunnerContract;

    public static class RunnerUsesRegistry
    {
        public static object Use() => new Registry.RegistryContract();
    }

    public static class RunnerUsesStorageAndCommon
    {
        public static object Use() => (new Storage.StorageContract(), new Common.CommonContract());
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.Storage
{
    public sealed class StorageContract;

    public static class StorageUsesBundles
    {
        public static object Use() => new Bundles.BundleContract();
    }

    public static class StorageUsesCommon
    {
        public static object Use() => new Common.CommonContract();
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Dependencies.Modules.HostApi
{
    public static class HostApiUsesGateway
    {
        public static object Use() => new Gateway.GatewayContract();
    }

    public static class HostApiUsesRegistryContract
    {
        public static object Use() => new Registry.RegistryContract();
    }
}

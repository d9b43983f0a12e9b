// Deliberately broken module code for the confined-library rule; only ModuleBoundaryTests reads it.
#pragma warning disable CA1812, CA1822, CA1852

namespace Extensions.Tests.Architecture.Fixtures.Libraries.Modules.Runner.Worker
{
    public static class SandboxUsesWasmtime
    {
        public static Type Use() => typeof(Wasmtime.Engine);
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Libraries.Modules.Runner.Pool
{
    public static class PoolUsesWasmtime
    {
        public static string? Use(Wasmtime.Config config) => config.ToString();
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Libraries.Modules.Bundles
{
    public static class SignerUsesBouncyCastle
    {
        public static Type Use() => typeof(Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters);
    }
}

namespace Extensions.Tests.Architecture.Fixtures.Libraries.Modules.Registry
{
    public static class RegistryUsesBouncyCastle
    {
        public static Type Use() => typeof(Org.BouncyCastle.Crypto.Parameters.Ed25519PublicKeyParameters);
    }
}

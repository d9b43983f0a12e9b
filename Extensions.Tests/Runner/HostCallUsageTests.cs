using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Storage;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Runner;

/// <summary>The usage of an invocation tells how long its guest waited on capability calls (worker to host and back).</summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class HostCallUsageTests
{
    [Test]
    public async Task HostCallWait_IsMeasuredForAGuestThatCalls_AndZeroForOneThatDoesNot()
    {
        await using var platform = await TestPlatform.StartAsync();
        var runner = platform.App.Services.GetRequiredService<IExtensionRunner>();
        var dir = Directory.CreateTempSubdirectory("ext-usage-").FullName;
        try
        {
            // Ten kv_get calls of a missing key (the host answers -3 absent), and a guest that only sets its status.
            var calling = await runner.InvokeAsync(Request(runner, Guest(dir, "calls", 10)));
            var quiet = await runner.InvokeAsync(Request(runner, Guest(dir, "quiet", 0)));

            Assert.That(calling.Outcome, Is.EqualTo(InvocationOutcome.Ok), calling.Diagnostic);
            Assert.That(calling.Usage.HostCalls, Is.EqualTo(10), "the ten kv_get (setting the response is not a host call)");
            Assert.That(calling.Usage.HostCallWaitMs, Is.GreaterThan(0).And.LessThanOrEqualTo(calling.Usage.WallMs));
            Assert.That(quiet.Outcome, Is.EqualTo(InvocationOutcome.Ok), quiet.Diagnostic);
            Assert.That(quiet.Usage.HostCallWaitMs, Is.Zero, "resp_status is answered in the worker: nothing crossed to the host");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static InvocationRequest Request(IExtensionRunner runner, (string Path, string Hash) module) => new()
    {
        TenantId = "default", ExtensionId = "test.usage", InstallId = "usage-install", Version = "1.0.0", RequestId = "usage",
        ModuleHash = module.Hash, ModulePath = module.Path, Limits = runner.LimitsFor(null, null, null),
        Request = new GuestHttpRequest("GET", "/", "", [], [], []),
        Context = [new("tenant", "default")],
        Grants = new HashSet<string> { "cap:kv" },
    };

    private static (string Path, string Hash) Guest(string dir, string name, int calls)
    {
        var wat = $$"""
            (module
              (import "ext" "kv_get" (func $kv (param i32 i32 i32 i32 i32) (result i32)))
              (import "ext" "resp_status" (func $status (param i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 0) "key")
              (func (export "handle") (result i32)
                (local $i i32)
                (block $done
                  (loop $again
                    (br_if $done (i32.ge_u (local.get $i) (i32.const {{calls}})))
                    (drop (call $kv (i32.const 0) (i32.const 3) (i32.const 1024) (i32.const 4096) (i32.const 0)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br $again)))
                (drop (call $status (i32.const 200)))
                (i32.const 0)))
            """;
        var bytes = Wasmtime.Module.ConvertText(wat);
        var path = Path.Combine(dir, name + ".wasm");
        File.WriteAllBytes(path, bytes);
        return (path, ContentHash.Of(bytes));
    }
}

using System.Text;
using Extensions.Modules.Runner.Contracts;
using Extensions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Extensions.Tests.Gateway;

/// <summary>WAT guests for gateway tests.</summary>
internal static class GatewayGuests
{
    /// <summary>Waits until a worker is running an invocation: a fixed delay is not enough on a loaded machine.</summary>
    public static async Task WaitForInFlightAsync(TestPlatform platform)
    {
        var pool = (Modules.Runner.Pool.WorkerPool)platform.App.Services.GetRequiredService<IExtensionRunner>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (pool.Workers.Sum(w => w.InFlight) == 0)
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the slow call never reached a worker");
            await Task.Delay(20);
        }
    }

    /// <summary>Answers 200 with <c>METHOD /path</c> as the body: shows what the gateway passed on.</summary>
    public const string Echo = """
        (module
          (import "ext" "req_method" (func $method (param i32 i32) (result i32)))
          (import "ext" "req_path" (func $path (param i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "handle") (result i32)
            (local $m i32) (local $n i32)
            (local.set $m (call $method (i32.const 0) (i32.const 16)))
            (i32.store8 (local.get $m) (i32.const 32))
            (local.set $n (call $path (i32.add (local.get $m) (i32.const 1)) (i32.const 4096)))
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 0) (i32.add (i32.add (local.get $m) (i32.const 1)) (local.get $n))))
            (i32.const 0)))
        """;

    /// <summary>A guest that sets the given status, headers (in order) and body, ignoring what the host says back.</summary>
    public static string Respond(int status, string body, params (string Name, string Value)[] headers)
    {
        var data = new StringBuilder();
        var calls = new StringBuilder();
        var offset = 0;
        int Put(string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            data.Append(System.Globalization.CultureInfo.InvariantCulture, $"  (data (i32.const {offset}) \"{string.Concat(bytes.Select(b => $"\\{b:x2}"))}\")\n");
            var at = offset;
            offset += bytes.Length + 1;
            return at;
        }

        foreach (var (name, value) in headers)
        {
            var n = Put(name);
            var v = Put(value);
            calls.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"    (drop (call $header (i32.const {n}) (i32.const {Encoding.UTF8.GetByteCount(name)}) (i32.const {v}) (i32.const {Encoding.UTF8.GetByteCount(value)})))\n");
        }

        var b = Put(body);
        return $$"""
            (module
              (import "ext" "resp_status" (func $status (param i32) (result i32)))
              (import "ext" "resp_header" (func $header (param i32 i32 i32 i32) (result i32)))
              (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
              (memory (export "memory") 1)
            {{data}}
              (func (export "handle") (result i32)
                (drop (call $status (i32.const {{status}})))
            {{calls}}
                (drop (call $body (i32.const {{b}}) (i32.const {{Encoding.UTF8.GetByteCount(body)}})))
                (i32.const 0)))
            """;
    }
}

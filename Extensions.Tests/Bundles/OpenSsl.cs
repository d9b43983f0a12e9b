using System.ComponentModel;
using System.Diagnostics;
using NUnit.Framework;

namespace Extensions.Tests.Bundles;

/// <summary>Runs the openssl CLI; its absence fails the test loudly instead of skipping the interop check.</summary>
internal static class OpenSsl
{
    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr);
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"openssl (3.x) is required for the Ed25519 interop tests but could not be started: {ex.Message}");
            throw;
        }
    }

    public static void Succeed(params string[] args)
    {
        var (exitCode, output) = Run(args);
        Assert.That(exitCode, Is.Zero, $"openssl {string.Join(' ', args)} failed:\n{output}");
    }
}

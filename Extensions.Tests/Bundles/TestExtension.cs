using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Extensions.Tests.Bundles;

/// <summary>Writes a small extension source tree: manifest, module, UI, and files that must not be packed.</summary>
internal static class TestExtension
{
    /// <summary>The smallest valid core module: magic and version 1.</summary>
    public static byte[] Wasm => [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    public static readonly string[] PackedPaths = ["build/hello.wasm", "manifest.json", "ui/app.js", "ui/index.html"];

    public static string Create(string dir, JsonObject? manifest = null, bool reverseOrder = false)
    {
        var files = new List<(string Path, byte[] Content)>
        {
            ("manifest.json", Encoding.UTF8.GetBytes((manifest ?? TestManifests.Valid()).ToJsonString(new JsonSerializerOptions { WriteIndented = true }))),
            ("build/hello.wasm", Wasm),
            ("ui/index.html", "<!doctype html><script src=app.js></script>"u8.ToArray()),
            ("ui/app.js", "console.log('hi')"u8.ToArray()),
            ("README.md", "not packed"u8.ToArray()),
            ("src/hello.c", "int x;"u8.ToArray()),
        };
        if (reverseOrder) files.Reverse();
        foreach (var (path, content) in files) Write(dir, path, content);
        return dir;
    }

    public static void Write(string dir, string path, byte[] content)
    {
        var full = Path.Combine(dir, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
    }
}

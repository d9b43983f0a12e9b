using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Extensions.Modules.Console;

/// <summary>The console's script and stylesheet, embedded at build time and revalidated by ETag.</summary>
internal static class StaticFiles
{
    private static readonly Dictionary<string, (byte[] Bytes, string ETag, string Type)> Files = new(StringComparer.Ordinal)
    {
        ["console.js"] = Load("console.js", "text/javascript; charset=utf-8"),
        ["console.css"] = Load("console.css", "text/css; charset=utf-8"),
        // The UI kit's stylesheet that extension pages get (one embedded copy): its tokens are the console's too.
        ["ui-kit.css"] = Load("ui-kit.css", "text/css; charset=utf-8", "Extensions.Modules.Assets.ui-kit.css"),
        ["console-admin.css"] = Load("console-admin.css", "text/css; charset=utf-8"),
    };

    public static IResult Serve(string name, HttpContext context)
    {
        if (!Files.TryGetValue(name, out var file))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ETag = file.ETag;
        headers.CacheControl = "no-cache";
        headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch.ToString() == file.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(file.Bytes, file.Type);
    }

    private static (byte[], string, string) Load(string name, string type, string? resource = null)
    {
        using var stream = typeof(StaticFiles).Assembly.GetManifestResourceStream(resource ?? $"Extensions.Modules.Console.Static.{name}")
            ?? throw new InvalidOperationException($"console file {name} is not embedded in this build");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        return (bytes, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..32]}\"", type);
    }
}

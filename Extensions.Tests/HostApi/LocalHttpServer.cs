using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Extensions.Tests.HostApi;

/// <summary>A real Kestrel server on 127.0.0.1 for <c>http_fetch</c> to reach; it records every request it gets.</summary>
internal sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LocalHttpServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Path and query of every request received, in order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Headers of every request received (lower-case names).</summary>
    public ConcurrentQueue<Dictionary<string, string>> Headers { get; } = new();

    public string Url(string pathAndQuery) => $"http://127.0.0.1:{Port}{pathAndQuery}";

    public static async Task<LocalHttpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LocalHttpServer? self = null;
        app.Use(async (context, next) =>
        {
            self!.Requests.Enqueue(context.Request.Path + context.Request.QueryString);
            self.Headers.Enqueue(context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()));
            await next(context);
        });
        app.MapGet("/hello", (HttpContext context) =>
        {
            context.Response.Headers["x-local"] = "yes";
            return Results.Text("hello from 127.0.0.1", "text/plain");
        });
        app.MapMethods("/echo", ["GET", "POST", "PUT"], async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            return Results.Json(new
            {
                method = context.Request.Method,
                body,
                headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            });
        });
        app.MapGet("/redirect", (string to, int? status) => Results.Redirect(to, permanent: status is 301 or 308, preserveMethod: status is 307 or 308));
        app.MapGet("/loop", () => Results.Redirect("/loop"));
        app.MapGet("/slow", async (CancellationToken ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
            return Results.Text("late");
        });
        app.MapGet("/big", async (HttpContext context, int n, bool? chunked) =>
        {
            var bytes = new byte[n];
            Array.Fill(bytes, (byte)'b');
            if (chunked != true)
            {
                context.Response.ContentLength = n;
            }

            await context.Response.Body.WriteAsync(bytes);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new LocalHttpServer(app, new Uri(address).Port);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>An <c>http_fetch</c> request envelope.</summary>
    public static byte[] Envelope(string method, string url, IEnumerable<(string Name, string Value)>? headers = null, string body = "")
    {
        var head = JsonSerializer.Serialize(new { method, url, headers = (headers ?? []).Select(h => new[] { h.Name, h.Value }) });
        return System.Text.Encoding.UTF8.GetBytes(head + "\n" + body);
    }
}

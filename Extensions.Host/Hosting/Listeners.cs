using System.Net;
using Extensions.Modules.Common;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Extensions.Host.Hosting;

/// <summary>
/// Two listeners: the console/API origin and the asset origin. Nothing but extension UI assets may ever be served on the
/// asset origin, so requests that arrive there are tagged at connection level and kept away from every API route.
/// </summary>
public static class Listeners
{
    private const string AssetConnection = "extensions.asset-origin";
    private static readonly object Marker = new();

    /// <summary>The bound endpoints, known once the server has started (ports may have been chosen by the OS).</summary>
    public sealed class Bound : IListenerUrls
    {
        public ListenOptions? Console { get; set; }
        public ListenOptions? Assets { get; set; }

        public string ConsoleUrl => Url(Console);
        public string AssetsUrl => Url(Assets);

        private static string Url(ListenOptions? options) =>
            options?.IPEndPoint is { } ep ? $"http://{(ep.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]" : ep.Address.ToString())}:{ep.Port}" : "";
    }

    public static IWebHostBuilder UsePlatformListeners(this IWebHostBuilder builder, IConfiguration configuration)
    {
        var bind = IPAddress.Parse(configuration["Host:Bind"] ?? "127.0.0.1");
        var port = configuration.GetValue("Host:Port", 5080);
        var assetPort = configuration.GetValue("Host:AssetPort", 5081);
        var bound = new Bound();
        builder.ConfigureServices(s => s.AddSingleton(bound).AddSingleton<IListenerUrls>(bound));
        return builder.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(bind, port, listen => bound.Console = listen);
            kestrel.Listen(bind, assetPort, listen =>
            {
                bound.Assets = listen;
                listen.Use(next => connection =>
                {
                    connection.Items[AssetConnection] = Marker;
                    return next(connection);
                });
            });
        });
    }

    /// <summary>
    /// Requests on the asset origin get 404 for everything except the asset route (served by the Assets module), and the asset
    /// route gets 404 on the console origin: extension UI must never run on the origin that holds the session.
    /// </summary>
    public static IApplicationBuilder UseAssetOriginIsolation(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
            var onAssetOrigin = items is not null && items.ContainsKey(AssetConnection);
            var assetRoute = context.Request.Path.StartsWithSegments("/ext-ui");
            if (onAssetOrigin && !assetRoute)
            {
                return Problems.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.NotFound, "the asset origin serves extension UI assets only");
            }

            if (!onAssetOrigin && assetRoute)
            {
                return Problems.WriteAsync(context, StatusCodes.Status404NotFound, ProblemCodes.NotFound, "extension UI assets are served on the asset origin only");
            }

            return next(context);
        });
}

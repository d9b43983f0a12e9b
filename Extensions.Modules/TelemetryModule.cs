using Extensions.Modules.Common;
using Extensions.Modules.Telemetry;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.DependencyInjection;

public static class TelemetryModule
{
    /// <summary>The platform's own span sources and meters (by name: the modules that emit them are not referenced).</summary>
    public static IReadOnlyList<string> Sources { get; } = ["Extensions.Gateway", "Extensions.Runner", "Extensions.HostApi"];

    /// <summary>
    /// OpenTelemetry export of the platform's spans and metrics: OTLP when <c>Telemetry:OtlpEndpoint</c> is set, the
    /// console when <c>Telemetry:ConsoleExporter</c> is true, nothing otherwise (then no listener exists and the
    /// instruments cost next to nothing).
    /// </summary>
    public static IServiceCollection AddTelemetryModule(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleOptions<TelemetryOptions>(configuration, TelemetryOptions.SectionName);
        var options = new TelemetryOptions();
        configuration.GetSection(TelemetryOptions.SectionName).Bind(options);
        var otlp = options.OtlpEndpoint.Length > 0 && Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var endpoint) ? endpoint : null;
        if (otlp is null && !options.ConsoleExporter)
        {
            return services;
        }

        var http = options.OtlpProtocol == "http/protobuf";
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(tracing =>
            {
                // The host's request span (ASP.NET Core's own source) is the parent of ours and carries the caller's traceparent;
                // it must be sampled by the same provider, or a parent-based sampler would drop every child.
                tracing.AddSource([.. Sources, "Microsoft.AspNetCore"]);
                if (otlp is not null)
                {
                    tracing.AddOtlpExporter(o => Configure(o, otlp, http, "v1/traces"));
                }

                if (options.ConsoleExporter)
                {
                    tracing.AddConsoleExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter([.. Sources, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"]);
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(o => Configure(o, otlp, http, "v1/metrics"));
                }

                if (options.ConsoleExporter)
                {
                    metrics.AddConsoleExporter();
                }
            });
        return services;
    }

    // Over HTTP the exporter takes the endpoint as the full URL of each signal; over gRPC it is the collector's address.
    private static void Configure(OtlpExporterOptions exporter, Uri endpoint, bool http, string signalPath)
    {
        exporter.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
        exporter.Endpoint = http ? new Uri(endpoint.ToString().TrimEnd('/') + "/" + signalPath) : endpoint;
    }
}

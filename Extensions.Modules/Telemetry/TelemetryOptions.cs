using System.ComponentModel.DataAnnotations;

namespace Extensions.Modules.Telemetry;

public sealed class TelemetryOptions : IValidatableObject
{
    public const string SectionName = "Telemetry";

    /// <summary>Where traces and metrics go over OTLP, e.g. <c>http://localhost:4317</c>; empty sends nothing. <remarks>Defaults to empty.</remarks></summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>grpc</c> or <c>http/protobuf</c>. <remarks>Defaults to grpc.</remarks></summary>
    [RegularExpression("^(grpc|http/protobuf)$")]
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Also print spans and metrics on standard output (for a look during development). <remarks>Defaults to false.</remarks></summary>
    public bool ConsoleExporter { get; set; }

    /// <summary>The <c>service.name</c> resource attribute. <remarks>Defaults to extensions.</remarks></summary>
    [Required]
    [MinLength(1)]
    public string ServiceName { get; set; } = "extensions";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (OtlpEndpoint.Length > 0 && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult($"Telemetry:OtlpEndpoint '{OtlpEndpoint}' is not an http(s) URL", [nameof(OtlpEndpoint)]);
        }
    }
}

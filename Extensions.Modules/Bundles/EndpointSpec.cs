namespace Extensions.Modules.Bundles;

/// <summary>A declared route; <see cref="Path"/> segments are literals or <c>:name</c> parameters.</summary>
public sealed record EndpointSpec(string Method, string Path, EndpointLimits? Limits);

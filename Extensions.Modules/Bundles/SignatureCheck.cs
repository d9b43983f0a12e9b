namespace Extensions.Modules.Bundles;

/// <summary>The outcome of checking a signature against the trust bundle; <see cref="Code"/> is one of <see cref="SignatureCodes"/>.</summary>
public sealed record SignatureCheck(bool Ok, string Code, string Message);

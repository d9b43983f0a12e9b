namespace Extensions.Modules.Common;

/// <summary>Stable error codes carried in every problem response's <c>code</c> field.</summary>
/// <remarks>Clients and scripts branch on these; never rename one, only add.</remarks>
public static class ProblemCodes
{
    public const string Unauthenticated = "unauthenticated";
    public const string Forbidden = "forbidden";
    public const string ExtensionNotInstalled = "extension_not_installed";
    public const string ExtensionDisabled = "extension_disabled";
    public const string ExtensionFailed = "extension_failed";
    public const string EndpointNotFound = "endpoint_not_found";
    public const string PayloadTooLarge = "payload_too_large";
    public const string Overloaded = "overloaded";
    public const string FuelExhausted = "fuel_exhausted";
    public const string MemoryExceeded = "memory_exceeded";
    public const string Timeout = "timeout";
    public const string ExtensionTrap = "extension_trap";
    public const string ExtensionError = "extension_error";
    public const string RunnerCrashed = "runner_crashed";
    public const string BadExtensionResponse = "bad_extension_response";
    public const string ResponseTooLarge = "response_too_large";
    public const string InvalidRequest = "invalid_request";
    public const string InvalidManifest = "invalid_manifest";
    public const string InvalidBundle = "invalid_bundle";
    public const string SignatureRejected = "signature_rejected";
    public const string VersionConflict = "version_conflict";
    public const string ConsentRequired = "consent_required";
    public const string InvalidState = "invalid_state";
    public const string NotFound = "not_found";
    public const string Internal = "internal";
    public const string InvalidConfig = "invalid_config";
    public const string SecretNotDeclared = "secret_not_declared";
    public const string RateLimited = "rate_limited";
    public const string ConcurrencyLimited = "concurrency_limited";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string IdempotencyInProgress = "idempotency_in_progress";
    public const string CorsOriginDenied = "cors_origin_denied";
    public const string RequestTimeout = "request_timeout";
    public const string WrongAssetOrigin = "wrong_asset_origin";
}

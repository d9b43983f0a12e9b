using Extensions.Modules.Bundles;

namespace Extensions.Modules.Runner.Contracts;

/// <summary>
/// The <c>ext-v1</c> guest ABI: the imports a worker defines (with their exact signatures) and the exports it calls.
/// A module that imports anything else, or with another signature, is refused at publish, before it reaches a worker.
/// </summary>
public static class GuestAbi
{
    public const string Runtime = "ext-v1";
    public const string ImportModule = "ext";
    public const string HandleExport = "handle";
    public const string MemoryExport = "memory";
    public const string InitializeExport = "_initialize";

    private static readonly WasmType[] I32x2 = [WasmType.I32, WasmType.I32];
    private static readonly WasmType[] I32x4 = [WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32];

    /// <summary>Import name → signature.</summary>
    public static IReadOnlyDictionary<string, ImportSignature> Imports { get; } = new Dictionary<string, ImportSignature>(StringComparer.Ordinal)
    {
        ["req_method"] = new(I32x2, WasmType.I32),
        ["req_path"] = new(I32x2, WasmType.I32),
        ["req_query"] = new(I32x2, WasmType.I32),
        ["req_body"] = new(I32x2, WasmType.I32),
        ["req_header"] = new(I32x4, WasmType.I32),
        ["req_param"] = new(I32x4, WasmType.I32),
        ["ctx_get"] = new(I32x4, WasmType.I32),
        ["config_get"] = new(I32x4, WasmType.I32),
        ["resp_status"] = new([WasmType.I32], WasmType.I32),
        ["resp_header"] = new(I32x4, WasmType.I32),
        ["resp_body"] = new(I32x2, WasmType.I32),
        ["log"] = new([WasmType.I32, WasmType.I32, WasmType.I32], WasmType.I32),
        ["secret_get"] = new(I32x4, WasmType.I32),
        // (key_ptr, key_len, ptr, cap, revision_ptr): the value's length; its revision (i64) at revision_ptr unless 0.
        ["kv_get"] = new([WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32], WasmType.I32),
        // (key_ptr, key_len, value_ptr, value_len, if_revision, ttl_ms) -> the new revision.
        ["kv_put"] = new([WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I64, WasmType.I32], WasmType.I64),
        // (key_ptr, key_len, if_revision)
        ["kv_delete"] = new([WasmType.I32, WasmType.I32, WasmType.I64], WasmType.I32),
        // (prefix_ptr, prefix_len, cursor_ptr, cursor_len, ptr, cap): a JSON page {"keys":[...],"cursor":"..."|null}.
        ["kv_list"] = new([WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32, WasmType.I32], WasmType.I32),
        // (request_ptr, request_len, ptr, cap): request and response envelopes (JSON head line, '\n', raw body).
        ["http_fetch"] = new(I32x4, WasmType.I32),
    };

    /// <summary>The capability an import needs (the host answers "denied" without it), or <c>null</c> when it needs none.</summary>
    public static string? CapabilityOf(string import) => import switch
    {
        "log" => Capabilities.Log,
        "secret_get" => Capabilities.Secrets,
        "kv_get" or "kv_put" or "kv_delete" or "kv_list" => Capabilities.Kv,
        "http_fetch" => Capabilities.HttpFetch,
        _ => null,
    };
}

/// <summary>Wasm value types used by the ABI (their binary encodings).</summary>
public enum WasmType : byte
{
    I64 = 0x7E,
    I32 = 0x7F,
}

public sealed record ImportSignature(IReadOnlyList<WasmType> Params, WasmType Result)
{
    public override string ToString() =>
        $"({string.Join(", ", Params.Select(p => p.ToString().ToLowerInvariant()))}) -> {Result.ToString().ToLowerInvariant()}";
}

namespace Extensions.Modules.Runner.Contracts;

/// <summary>
/// The <c>ext-v1</c> guest ABI: the imports a worker defines (all i32 parameters, one i32 result) and the exports it calls.
/// A module that imports anything else is refused at publish, before it ever reaches a worker.
/// </summary>
public static class GuestAbi
{
    public const string Runtime = "ext-v1";
    public const string ImportModule = "ext";
    public const string HandleExport = "handle";
    public const string MemoryExport = "memory";
    public const string InitializeExport = "_initialize";

    /// <summary>Import name → number of i32 parameters.</summary>
    public static IReadOnlyDictionary<string, int> Imports { get; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["req_method"] = 2,
        ["req_path"] = 2,
        ["req_query"] = 2,
        ["req_body"] = 2,
        ["req_header"] = 4,
        ["req_param"] = 4,
        ["ctx_get"] = 4,
        ["config_get"] = 4,
        ["resp_status"] = 1,
        ["resp_header"] = 4,
        ["resp_body"] = 2,
        ["log"] = 3,
    };
}

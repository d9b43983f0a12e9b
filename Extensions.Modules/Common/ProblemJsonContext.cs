using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Extensions.Modules.Common;

[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(System.Text.Json.JsonElement))]
internal sealed partial class ProblemJsonContext : JsonSerializerContext;

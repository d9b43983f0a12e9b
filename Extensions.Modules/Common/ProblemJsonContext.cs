using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Extensions.Modules.Common;

[JsonSerializable(typeof(ProblemDetails))]
internal sealed partial class ProblemJsonContext : JsonSerializerContext;

namespace Extensions.Modules.Storage;

/// <summary>
/// One schema step owned by a module. Modules register theirs with <c>services.AddSingleton(new Migration(...))</c>;
/// they are applied in (module, version) order at start, each once, in its own transaction.
/// </summary>
/// <param name="Module">Owning module, e.g. <c>registry</c>; its tables are prefixed with it.</param>
/// <param name="Version">Ascending per module, starting at 1. Never edit an applied step: add a new one.</param>
/// <param name="Sql">The DDL/DML to run.</param>
public sealed record Migration(string Module, int Version, string Sql);

namespace Extensions.Modules.Runner.Contracts;

/// <summary>A module that the engine refuses to compile; the message says why and is safe to show its publisher.</summary>
public sealed class ModuleRejectedException(string message) : Exception(message);

namespace Extensions.Tests.Architecture;

/// <summary>One broken rule, printed as <c>Type.Member -> ReferencedType (rule)</c>.</summary>
internal sealed record Violation(string Source, string Target, string Rule)
{
    public override string ToString() => $"{Source} -> {Target} ({Rule})";

    public static string Describe(IReadOnlyCollection<Violation> violations) =>
        $"{violations.Count} violation(s):{Environment.NewLine}" + string.Join(Environment.NewLine, violations);
}

using System.Reflection;
using System.Text.RegularExpressions;
using Extensions.Modules.Common;

namespace Extensions.Tests.Gateway;

/// <summary><c>docs/error-codes.md</c> lists exactly the codes in <see cref="ProblemCodes"/>, each with an HTTP status.</summary>
[TestFixture]
public sealed partial class ErrorCodeDocTests
{
    [GeneratedRegex(@"^\| `(?<code>[a-z_]+)` \| (?<status>[1-5]\d\d) \| .+\|$", RegexOptions.Multiline)]
    private static partial Regex Row();

    private static string DocPath()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Extensions.sln")))
            {
                return Path.Combine(dir.FullName, "docs", "error-codes.md");
            }
        }

        throw new InvalidOperationException("Extensions.sln not found above the test directory");
    }

    private static IEnumerable<string> Codes() =>
        typeof(ProblemCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    [Test]
    public void EveryProblemCode_IsDocumentedWithAStatus()
    {
        var documented = Row().Matches(File.ReadAllText(DocPath())).Select(m => m.Groups["code"].Value).ToList();

        Assert.That(Codes().Except(documented), Is.Empty, "codes in ProblemCodes missing from docs/error-codes.md");
        Assert.That(documented.Except(Codes()), Is.Empty, "codes in docs/error-codes.md that ProblemCodes does not have");
        Assert.That(documented, Is.Unique);
    }
}

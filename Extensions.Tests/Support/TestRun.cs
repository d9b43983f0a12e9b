namespace Extensions.Tests;

/// <summary>One scratch folder for the whole run (guest fixtures, bundles), removed when the run ends.</summary>
[SetUpFixture]
public sealed class TestRun
{
    private static readonly Lazy<string> Root = new(() => Directory.CreateTempSubdirectory("ext-tests-").FullName);

    public static string NewDirectory(string prefix) => Directory.CreateDirectory(Path.Combine(Root.Value, $"{prefix}-{Guid.NewGuid():N}")).FullName;

    [OneTimeTearDown]
    public void RemoveScratch()
    {
        if (Root.IsValueCreated)
        {
            Directory.Delete(Root.Value, recursive: true);
        }
    }
}

namespace Extensions.Tests.Support;

/// <summary>Files of this repository (samples, SDKs), found from the test binary by walking up to the solution file.</summary>
internal static class RepoFiles
{
    public static string Root { get; } = Find();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Extensions.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("Extensions.sln not found above " + AppContext.BaseDirectory);
    }
}

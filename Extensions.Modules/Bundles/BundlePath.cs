namespace Extensions.Modules.Bundles;

/// <summary>
/// The one rule for paths inside a bundle, shared by the manifest (main, ui entry, assets), the
/// packer and the reader, so a path accepted in one place can't be refused or reinterpreted in another.
/// </summary>
internal static class BundlePath
{
    /// <summary>Null when <paramref name="path"/> is a canonical relative path; otherwise why not.</summary>
    public static string? Problem(string path)
    {
        if (path.Length == 0) return "is empty";
        if (path.Contains('\0', StringComparison.Ordinal)) return "contains a NUL character";
        if (path.Contains('\\', StringComparison.Ordinal)) return "contains a backslash; use '/'";
        if (path.StartsWith('/')) return "is an absolute path";
        var segments = path.Split('/');
        if (segments.Contains("..")) return "escapes the bundle root";
        if (segments.Any(s => s.Length == 0 || s == ".")) return "has an empty or '.' segment";
        return null;
    }

    /// <summary>Quotes a hostile name safely for an error message (NULs and control characters escaped).</summary>
    public static string Quote(string path)
    {
        var shown = string.Concat(path.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return $"'{(shown.Length > 200 ? shown[..200] + "..." : shown)}'";
    }
}

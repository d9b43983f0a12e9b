using System.Text;
using System.Text.RegularExpressions;

namespace Extensions.Modules.Bundles;

/// <summary>Manifest <c>assets</c> globs: <c>*</c> and <c>?</c> stay within a segment, <c>**</c> spans segments.</summary>
internal static class AssetGlob
{
    public static Regex ToRegex(string glob)
    {
        var pattern = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            if (glob.AsSpan(i).StartsWith("**/"))
            {
                pattern.Append("(?:.*/)?");
                i += 2;
            }
            else if (glob.AsSpan(i).StartsWith("**"))
            {
                pattern.Append(".*");
                i++;
            }
            else if (glob[i] == '*') pattern.Append("[^/]*");
            else if (glob[i] == '?') pattern.Append("[^/]");
            else pattern.Append(Regex.Escape(glob[i].ToString()));
        }
        // NonBacktracking: patterns come from a manifest, so matching time must not depend on their shape.
        return new Regex(pattern.Append(@"\z").ToString(), RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
    }
}

using System.CommandLine;
using System.Text.RegularExpressions;

namespace Extensions.Host.Commands;

/// <summary>
/// <c>new NAME --template c|assemblyscript|ui</c>: writes a project that builds and passes <c>invoke --fixtures</c> with no edits.
/// Templates are resources of this binary, so it works anywhere, not only inside a checkout of the platform.
/// </summary>
internal static partial class NewVerb
{
    private const string Prefix = "Templates/";
    private static readonly string[] TemplateNames = ["assemblyscript", "c", "ui"];

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Extension name: lower-case letters, digits and '-', starting with a letter" };
        var template = new Option<string>("--template") { Description = "assemblyscript, c, or ui (a console page and the C endpoint it calls)", Required = true };
        template.AcceptOnlyFromAmong(TemplateNames);
        var dir = new Option<string?>("--dir") { Description = "Directory to create. Default: ./NAME" };
        var publisher = new Option<string>("--publisher") { Description = "Publisher name in the manifest (must match your signing key's publisher)", DefaultValueFactory = _ => "local" };
        var command = new Command("new", "Create an extension project (manifest, handler, fixtures, build script, README) from a template.")
        {
            name, template, dir, publisher,
        };
        command.SetAction((parse, ct) => Verbs.Guard(async () =>
        {
            var extensionName = parse.GetValue(name)!;
            var publisherName = parse.GetValue(publisher)!;
            foreach (var (what, value) in new[] { ("name", extensionName), ("--publisher", publisherName) })
            {
                if (!Identifier().IsMatch(value))
                {
                    throw new CliException($"{what} '{value}' must be lower-case letters, digits and '-', start with a letter, at most 63 characters");
                }
            }

            var target = Path.GetFullPath(parse.GetValue(dir) ?? extensionName);
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new CliException($"{target} exists and is not empty; choose another --dir");
            }

            var files = Files(parse.GetValue(template)!);
            var schema = await SchemaReferenceAsync(target, ct);
            Directory.CreateDirectory(target);
            foreach (var (relative, resource) in files)
            {
                var path = Path.Combine(target, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using (var stream = typeof(NewVerb).Assembly.GetManifestResourceStream(resource)!)
                {
                    // SDK copies are written as they are; template files get the project's names.
                    if (relative.StartsWith("sdk/", StringComparison.Ordinal) || relative == "ext.h")
                    {
                        await using var output = File.Create(path);
                        await stream.CopyToAsync(output, ct);
                    }
                    else
                    {
                        using var reader = new StreamReader(stream);
                        var text = (await reader.ReadToEndAsync(ct))
                            .Replace("{{name}}", extensionName, StringComparison.Ordinal)
                            .Replace("{{publisher}}", publisherName, StringComparison.Ordinal)
                            .Replace("{{schema}}", schema, StringComparison.Ordinal);
                        await File.WriteAllTextAsync(path, text, ct);
                    }
                }

                if (relative.EndsWith(".sh", StringComparison.Ordinal) && !OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
                }
            }

            Console.WriteLine($"created {target} ({files.Count} files)");
            Console.WriteLine($"next: cd {Path.GetRelativePath(Environment.CurrentDirectory, target)} && <this binary> build . && <this binary> invoke . --fixtures fixtures.json (or: <this binary> dev .)");
            return 0;
        }));
        return command;
    }

    /// <summary>Project-relative path → resource name, for one template.</summary>
    private static List<(string Relative, string Resource)> Files(string template)
    {
        var prefix = $"{Prefix}{template}/";
        var files = typeof(NewVerb).Assembly.GetManifestResourceNames()
            .Select(r => (Resource: r, Normal: r.Replace('\\', '/')))
            .Where(r => r.Normal.StartsWith(prefix, StringComparison.Ordinal))
            .Select(r => (r.Normal[prefix.Length..], r.Resource))
            .ToList();
        if (template == "ui")
        {
            // The page's endpoint is written in C: it carries the c template's header and build script (each embedded once).
            files.Add(("ext.h", Prefix + "c/ext.h"));
            files.Add(("build.sh", Prefix + "c/build.sh"));
        }

        return [.. files.Order()];
    }

    /// <summary>
    /// The manifest's <c>$schema</c>: a copy of the schema written next to it when this binary carries one, so editors
    /// validate offline; otherwise the platform's <c>docs/manifest.schema.json</c> as a path relative to the project.
    /// </summary>
    private static async Task<string> SchemaReferenceAsync(string target, CancellationToken ct)
    {
        await using var embedded = typeof(NewVerb).Assembly.GetManifestResourceStream(Prefix + "manifest.schema.json");
        if (embedded is not null)
        {
            Directory.CreateDirectory(target);
            await using var output = File.Create(Path.Combine(target, "manifest.schema.json"));
            await embedded.CopyToAsync(output, ct);
            return "./manifest.schema.json";
        }

        for (var dir = new DirectoryInfo(target).Parent; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Extensions.sln")))
            {
                return Path.GetRelativePath(target, Path.Combine(dir.FullName, "docs", "manifest.schema.json")).Replace('\\', '/');
            }
        }

        return "docs/manifest.schema.json";
    }

    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,62}\z")]
    private static partial Regex Identifier();
}

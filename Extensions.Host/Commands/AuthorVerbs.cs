using System.CommandLine;
using Extensions.Modules.Bundles;

namespace Extensions.Host.Commands;

/// <summary>Verbs an extension author runs on a laptop or in CI: no server needed.</summary>
internal static class AuthorVerbs
{
    public static Command Keygen()
    {
        var output = new Option<string>("--out") { Description = "Directory for publisher.key (private, mode 0600) and publisher.pub", Required = true };
        var command = new Command("keygen", "Generate an Ed25519 publisher key pair.") { output };
        command.SetAction((parse, _) => Verbs.Guard(() =>
        {
            var dir = parse.GetValue(output)!;
            Directory.CreateDirectory(dir);
            var privatePath = Path.Combine(dir, "publisher.key");
            if (File.Exists(privatePath))
            {
                throw new CliException($"{privatePath} already exists; refusing to overwrite a key");
            }

            var key = PublisherKey.Generate();
            key.Save(privatePath, Path.Combine(dir, "publisher.pub"));
            Console.WriteLine($"key id: {key.KeyId}");
            Console.WriteLine($"private key: {privatePath}");
            Console.WriteLine($"public key: {Path.Combine(dir, "publisher.pub")}");
            return Task.FromResult(0);
        }));
        return command;
    }

    public static Command Pack()
    {
        var dir = new Argument<string>("dir") { Description = "Extension directory containing manifest.json" };
        var output = new Option<string?>("--out") { Description = "Bundle file to write. Default: <publisher>.<name>-<version>.extb in the current directory" };
        var command = new Command("pack", "Validate and pack an extension into a reproducible bundle; prints its sha256: content hash.") { dir, output };
        command.SetAction((parse, _) => Verbs.Guard(async () =>
        {
            PackedBundle packed;
            try
            {
                // The same checks as build (and publish): a bundle the registry would refuse is not written.
                ProjectBuild.Check(parse.GetValue(dir)!);
                packed = BundlePacker.Pack(parse.GetValue(dir)!);
            }
            catch (ProjectProblemsException problems)
            {
                return ProjectBuild.Report(problems);
            }

            var path = parse.GetValue(output) ?? $"{packed.Manifest.ExtensionId}-{packed.Manifest.Version}.extb";
            await File.WriteAllBytesAsync(path, packed.ToGzip());
            Console.WriteLine(packed.ContentHash);
            await Console.Error.WriteLineAsync($"wrote {path}");
            return 0;
        }));
        return command;
    }

    public static Command Sign()
    {
        var file = new Argument<string>("file") { Description = "Bundle file" };
        var key = new Option<string>("--key") { Description = "Publisher private key (PEM)", Required = true };
        var output = new Option<string?>("--out") { Description = "Signature file. Default: <file>.sig" };
        var command = new Command("sign", "Sign a bundle's content hash with a publisher key (detached signature).") { file, key, output };
        command.SetAction((parse, _) => Verbs.Guard(async () =>
        {
            var path = parse.GetValue(file)!;
            var bundle = BundleReader.Read(await File.ReadAllBytesAsync(path));
            var signature = BundleSignature.Create(bundle.ContentHash, PublisherKey.Load(parse.GetValue(key)!));
            var sigPath = parse.GetValue(output) ?? path + ".sig";
            await File.WriteAllTextAsync(sigPath, signature.ToJson());
            Console.WriteLine($"signed {bundle.ContentHash} with {signature.KeyId} -> {sigPath}");
            return 0;
        }));
        return command;
    }

    public static Command Verify()
    {
        var file = new Argument<string>("file") { Description = "Bundle file" };
        var trust = new Option<string?>("--trust") { Description = "Trust bundle (JSON) to check the signature against. Default: ./data/trust.json" };
        var signature = new Option<string?>("--signature") { Description = "Signature file. Default: <file>.sig" };
        var command = new Command("verify", "Recompute a bundle's content hash, validate its manifest, and check its signature.") { file, trust, signature };
        command.SetAction((parse, _) => Verbs.Guard(async () =>
        {
            var path = parse.GetValue(file)!;
            var bundle = BundleReader.Read(await File.ReadAllBytesAsync(path));
            Console.WriteLine($"content: {bundle.ContentHash}");
            Console.WriteLine($"extension: {bundle.Manifest.ExtensionId}@{bundle.Manifest.Version}");
            var sigPath = parse.GetValue(signature) ?? path + ".sig";
            if (!File.Exists(sigPath))
            {
                throw new CliException($"no signature at {sigPath}; sign the bundle first (see 'sign')");
            }

            var trustPath = parse.GetValue(trust) ?? Path.Combine("data", "trust.json");
            if (!File.Exists(trustPath))
            {
                throw new CliException($"trust bundle {trustPath} does not exist; pass --trust FILE");
            }

            var check = TrustBundle.Load(trustPath).Verify(BundleSignature.Parse(await File.ReadAllTextAsync(sigPath)), bundle.ContentHash, bundle.Manifest.Publisher);
            if (!check.Ok)
            {
                throw new CliException($"signature rejected ({check.Code}): {check.Message}");
            }

            Console.WriteLine($"signature: ok ({check.Message})");
            return 0;
        }));
        return command;
    }
}

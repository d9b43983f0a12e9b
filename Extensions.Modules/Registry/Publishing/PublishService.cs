using Extensions.Modules.Bundles;
using Extensions.Modules.Common;
using Extensions.Modules.Registry.Data;
using Extensions.Modules.Runner.Contracts;
using Extensions.Modules.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Extensions.Modules.Registry.Publishing;

public sealed record PublishResult(string ExtensionId, string Version, string ContentHash, string ModuleHash, string SignerKeyId, bool AlreadyPublished);

/// <summary>
/// Publish: read the bundle defensively, validate its manifest and module against the ABI, verify the signature against
/// the trust bundle for the manifest's publisher, then store it in the CAS and record provenance. Versions are immutable.
/// </summary>
internal sealed partial class PublishService(
    RegistryStore store, IContentStore cas, TrustStore trust, IExtensionRunner runner, CrashPoints crashPoints, IOptions<RegistryOptions> options,
    ILogger<PublishService> logger)
{
    public async Task<PublishResult> PublishAsync(byte[] bundleFile, string signatureJson, string actor, CancellationToken ct)
    {
        if (bundleFile.Length > options.Value.MaxBundleBytes)
        {
            throw new ExtensionsException(ProblemCodes.PayloadTooLarge, StatusCodes.Status413PayloadTooLarge,
                $"bundle is {bundleFile.Length} bytes; the limit is {options.Value.MaxBundleBytes}");
        }

        Bundle bundle;
        BundleSignature signature;
        try
        {
            bundle = BundleReader.Read(bundleFile);
            signature = BundleSignature.Parse(signatureJson);
        }
        catch (BundleException ex)
        {
            throw await RefuseAsync(actor, ProblemCodes.InvalidBundle, ex.Message);
        }

        // Trust first: nothing from an unsigned or tampered bundle is examined further.
        var manifest = bundle.Manifest;
        var check = trust.Current.Verify(signature, bundle.ContentHash, manifest.Publisher);
        if (!check.Ok)
        {
            throw await RefuseAsync(actor, ProblemCodes.SignatureRejected, $"{check.Code}: {check.Message}");
        }

        IReadOnlyList<string> abiProblems;
        try
        {
            abiProblems = GuestModule.Read(bundle.MainModule).AbiProblems();
        }
        catch (InvalidDataException ex)
        {
            abiProblems = [ex.Message];
        }

        if (abiProblems.Count > 0)
        {
            throw await RefuseAsync(actor, ProblemCodes.InvalidBundle, $"module {manifest.Main}: " + string.Join("; ", abiProblems));
        }

        var existing = await store.FindVersionAsync(manifest.ExtensionId, manifest.Version, ct);
        if (existing is not null)
        {
            if (existing.ContentHash != bundle.ContentHash)
            {
                throw await RefuseAsync(actor, ProblemCodes.VersionConflict,
                    $"{manifest.ExtensionId}@{manifest.Version} is already published with content {existing.ContentHash}; versions are immutable, publish a new version");
            }

            var row = await store.FindBundleAsync(existing.ContentHash, ct);
            return new PublishResult(manifest.ExtensionId, manifest.Version, bundle.ContentHash, row!.ModuleHash, row.SignerKeyId, AlreadyPublished: true);
        }

        // Blobs first, the registry rows last in one transaction: a crash in between leaves only unreferenced blobs, never a
        // version whose content is missing. A re-publish finds the blobs already there.
        await crashPoints.ReachedAsync("publish.before-cas", manifest.ExtensionId);
        var storedHash = await cas.PutAsync(bundle.Tar, ct);
        await crashPoints.ReachedAsync("publish.after-bundle", manifest.ExtensionId);
        var moduleHash = await cas.PutAsync(bundle.MainModule, ct);
        if (storedHash != bundle.ContentHash)
        {
            throw new InvalidOperationException($"CAS stored the bundle as {storedHash}, expected {bundle.ContentHash}");
        }

        // Compile now, in a worker, so that no request ever pays for it; a module the engine refuses is refused here.
        // A worker that dies or is still starting is not the bundle's fault: try once more after the pool replaces it, then
        // answer overloaded (nothing is recorded, so publishing again is safe).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await runner.PrepareAsync(moduleHash, cas.PathOf(moduleHash), ct);
                break;
            }
            catch (ModuleRejectedException ex)
            {
                throw await RefuseAsync(actor, ProblemCodes.InvalidBundle, $"module {manifest.Main}: {ex.Message}");
            }
            catch (IOException ex) when (attempt < 2)
            {
                Log.CompileRetried(logger, manifest.ExtensionId, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
            catch (IOException ex)
            {
                throw new ExtensionsException(ProblemCodes.Overloaded, StatusCodes.Status503ServiceUnavailable,
                    $"no worker could compile {manifest.ExtensionId}@{manifest.Version} now ({ex.Message}); nothing was recorded, publish again");
            }
        }

        await crashPoints.ReachedAsync("publish.after-precompile", manifest.ExtensionId);
        await store.InsertVersionAsync(manifest.ExtensionId, manifest.Publisher, manifest.Name, manifest.Version,
            new BundleRow(bundle.ContentHash, bundle.Tar.Length, moduleHash, signature.KeyId, signature.ToJson(), store.Now), actor, ct);
        await crashPoints.ReachedAsync("publish.after-commit", manifest.ExtensionId);
        Log.Published(logger, manifest.ExtensionId, manifest.Version, bundle.ContentHash, signature.KeyId);
        return new PublishResult(manifest.ExtensionId, manifest.Version, bundle.ContentHash, moduleHash, signature.KeyId, AlreadyPublished: false);
    }

    private async Task<ExtensionsException> RefuseAsync(string actor, string code, string detail)
    {
        Log.PublishRefused(logger, actor, code, detail);
        await store.AuditAsync(null, actor, "publish.refused", "bundle", $"{code}: {detail}", CancellationToken.None);
        var status = code switch
        {
            ProblemCodes.VersionConflict => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status422UnprocessableEntity,
        };
        return new ExtensionsException(code, status, detail);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Published {ExtensionId}@{Version} as {ContentHash}, signed by {KeyId}")]
        public static partial void Published(ILogger logger, string extensionId, string version, string contentHash, string keyId);

        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Refused a publish by {Actor}: {Code}: {Detail}")]
        public static partial void PublishRefused(ILogger logger, string actor, string code, string detail);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Compiling {ExtensionId} failed in the worker pool ({Problem}); trying once more")]
        public static partial void CompileRetried(ILogger logger, string extensionId, string problem);
    }
}

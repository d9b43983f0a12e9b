namespace Extensions.Modules.Registry.Contracts;

/// <summary>
/// A module that keeps data per install (KV, secrets, ...). Register implementations as <c>IInstallDataOwner</c>; uninstall
/// calls every one before the install row goes, so a failure leaves the install in place to retry. Must be idempotent.
/// </summary>
public interface IInstallDataOwner
{
    Task RemoveInstallDataAsync(string installId, CancellationToken cancellationToken);
}

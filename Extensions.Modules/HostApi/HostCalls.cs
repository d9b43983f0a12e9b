using Extensions.Modules.Bundles;
using Extensions.Modules.Runner.Contracts;

namespace Extensions.Modules.HostApi;

/// <summary>
/// The host's side of every capability. Each call arrives with the invocation the host minted (so its tenant, install and
/// grants are the host's own record, not anything the worker claims) and is checked against that invocation's grants
/// before it is performed. An ungranted call is <see cref="AbiCodes.Denied"/>, never a trap: the guest decides what to answer.
/// </summary>
internal sealed class HostCalls(GuestLog log, KvStore kv, SecretStore secrets, HttpFetcher http, HostApiMetrics metrics) : IHostCalls
{
    public int Log(InvocationRequest invocation, GuestLogLevel level, string message)
    {
        if (!invocation.Grants.Contains(Capabilities.Log))
        {
            metrics.Denied("log", invocation.ExtensionId);
            return AbiCodes.Denied;
        }

        return log.Log(invocation, level, message);
    }

    public async ValueTask<HostCallReply> CallAsync(InvocationRequest invocation, HostCall hostCall, CancellationToken cancellationToken)
    {
        var capability = hostCall switch
        {
            KvGetCall or KvPutCall or KvDeleteCall or KvListCall => Capabilities.Kv,
            SecretGetCall => Capabilities.Secrets,
            HttpFetchCall => Capabilities.HttpFetch,
            _ => null,
        };
        if (capability is null || !invocation.Grants.Contains(capability))
        {
            metrics.Denied(hostCall.Import, invocation.ExtensionId);
            return HostCallReply.Error(AbiCodes.Denied);
        }

        metrics.Called(hostCall.Import, invocation.ExtensionId);
        if (hostCall is not (KvGetCall or KvListCall or SecretGetCall))
        {
            // The runner starts calls on a worker pipe's read thread; only reads that never wait may finish there.
            // Writes can wait for SQLite's write lock and fetches for the network, so they continue on the thread pool.
            await Task.Yield();
        }

        return hostCall switch
        {
            KvGetCall get => await kv.GetAsync(invocation.InstallId, get.Key, cancellationToken),
            KvPutCall put => await kv.PutAsync(invocation.InstallId, put, cancellationToken),
            KvDeleteCall delete => await kv.DeleteAsync(invocation.InstallId, delete.Key, delete.IfRevision, cancellationToken),
            KvListCall list => await kv.ListAsync(invocation.InstallId, list.Prefix, list.Cursor, cancellationToken),
            SecretGetCall secret => await secrets.GetAsync(invocation, secret.Name, cancellationToken),
            HttpFetchCall fetch => await http.FetchAsync(invocation, fetch.Envelope, cancellationToken),
            _ => HostCallReply.Error(AbiCodes.Denied),
        };
    }
}

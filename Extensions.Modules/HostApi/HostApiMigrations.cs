using Extensions.Modules.Storage;

namespace Extensions.Modules.HostApi;

internal static class HostApiMigrations
{
    public static IEnumerable<Migration> All =>
    [
        new("hostapi", 1, """
            CREATE TABLE hostapi_kv (
                install_id TEXT NOT NULL,
                key TEXT NOT NULL,
                value BLOB NOT NULL,
                revision INTEGER NOT NULL,
                expires_at INTEGER,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (install_id, key)) WITHOUT ROWID;

            -- Per install: the next revision (revisions never repeat within an install, so a deleted and re-created key
            -- cannot satisfy a stale if_revision) and the usage the quotas are checked against.
            CREATE TABLE hostapi_kv_usage (
                install_id TEXT PRIMARY KEY,
                next_revision INTEGER NOT NULL,
                keys INTEGER NOT NULL,
                bytes INTEGER NOT NULL);
            """),
        new("hostapi", 2, """
            CREATE TABLE hostapi_guest_logs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                tenant_id TEXT NOT NULL,
                extension_id TEXT NOT NULL,
                install_id TEXT NOT NULL,
                request_id TEXT NOT NULL,
                level TEXT NOT NULL,
                message TEXT NOT NULL);
            CREATE INDEX hostapi_guest_logs_tenant ON hostapi_guest_logs (tenant_id, extension_id, id);
            CREATE INDEX hostapi_guest_logs_request ON hostapi_guest_logs (request_id);
            """),
        new("hostapi", 3, """
            -- AES-256-GCM under the host key file; (install_id, name) is the associated data.
            CREATE TABLE hostapi_secrets (
                install_id TEXT NOT NULL,
                name TEXT NOT NULL,
                nonce BLOB NOT NULL,
                ciphertext BLOB NOT NULL,
                tag BLOB NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (install_id, name)) WITHOUT ROWID;
            """),
        new("hostapi", 4, """
            -- Request ids are random, so each logged line landed on its own page of this index: under load every batch of
            -- log lines rewrote about one index page per line. The log queries filter a tenant's rows (the other index),
            -- and an optional request id within them needs no index of its own.
            DROP INDEX IF EXISTS hostapi_guest_logs_request;
            """),
    ];
}

using Extensions.Modules.Storage;

namespace Extensions.Modules.Registry.Data;

internal static class RegistryMigrations
{
    public static IEnumerable<Migration> All =>
    [
        new("registry", 1, """
            CREATE TABLE registry_tenants (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL);

            CREATE TABLE registry_api_keys (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES registry_tenants(id),
                kind TEXT NOT NULL CHECK (kind IN ('admin', 'tenant')),
                key_hash TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                revoked_at INTEGER);

            CREATE TABLE registry_extensions (
                id TEXT PRIMARY KEY,
                publisher TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL);

            CREATE TABLE registry_bundles (
                content_hash TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                module_hash TEXT NOT NULL,
                signer_key_id TEXT NOT NULL,
                signature TEXT NOT NULL,
                published_at INTEGER NOT NULL);

            CREATE TABLE registry_versions (
                extension_id TEXT NOT NULL REFERENCES registry_extensions(id),
                version TEXT NOT NULL,
                content_hash TEXT NOT NULL REFERENCES registry_bundles(content_hash),
                published_at INTEGER NOT NULL,
                PRIMARY KEY (extension_id, version));

            CREATE TABLE registry_installs (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL REFERENCES registry_tenants(id),
                extension_id TEXT NOT NULL REFERENCES registry_extensions(id),
                version TEXT NOT NULL,
                content_hash TEXT NOT NULL REFERENCES registry_bundles(content_hash),
                granted_capabilities TEXT NOT NULL,
                config TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'enabled', 'disabled', 'failed')),
                state_reason TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                UNIQUE (tenant_id, extension_id));

            CREATE TABLE registry_audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                tenant_id TEXT,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL);
            CREATE INDEX registry_audit_subject ON registry_audit (subject, at);
            """),
    ];
}

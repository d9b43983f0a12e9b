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

        // Egress consent, the history an install ran (for rollback), and audit rows that can be queried by tenant and
        // extension and carry the state before and after.
        new("registry", 2, """
            ALTER TABLE registry_installs ADD COLUMN granted_egress TEXT NOT NULL DEFAULT '';

            CREATE TABLE registry_install_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                install_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                extension_id TEXT NOT NULL,
                version TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                granted_capabilities TEXT NOT NULL,
                granted_egress TEXT NOT NULL,
                action TEXT NOT NULL,
                actor TEXT NOT NULL,
                at INTEGER NOT NULL);
            CREATE INDEX registry_install_history_install ON registry_install_history (install_id, id);
            INSERT INTO registry_install_history
                (install_id, tenant_id, extension_id, version, content_hash, granted_capabilities, granted_egress, action, actor, at)
            SELECT id, tenant_id, extension_id, version, content_hash, granted_capabilities, '', 'install', 'migration', updated_at
            FROM registry_installs;

            ALTER TABLE registry_audit ADD COLUMN extension_id TEXT;
            ALTER TABLE registry_audit ADD COLUMN before TEXT;
            ALTER TABLE registry_audit ADD COLUMN after TEXT;
            UPDATE registry_audit SET extension_id = subject WHERE action LIKE 'install%' OR action = 'uninstall';
            CREATE INDEX registry_audit_tenant ON registry_audit (tenant_id, id);
            CREATE INDEX registry_audit_extension ON registry_audit (extension_id, id);
            """),
    ];
}

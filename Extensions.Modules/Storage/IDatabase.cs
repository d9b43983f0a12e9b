using System.Data.Common;

namespace Extensions.Modules.Storage;

/// <summary>Opens connections to the platform database (SQLite today; kept behind this seam for PostgreSQL later).</summary>
public interface IDatabase
{
    /// <summary>Opens a new connection with the platform's pragmas applied. Dispose it when done.</summary>
    ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default);
}

namespace Extensions.Modules.Common;

/// <summary>The platform's two listeners, known once the server has started (ports may have been chosen by the OS).</summary>
public interface IListenerUrls
{
    /// <summary>The console/API listener, e.g. <c>http://127.0.0.1:5080</c>.</summary>
    string ConsoleUrl { get; }

    /// <summary>The asset listener, e.g. <c>http://127.0.0.1:5081</c>.</summary>
    string AssetsUrl { get; }
}

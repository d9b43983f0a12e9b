using Wasmtime;

namespace Extensions.Modules.Runner.Worker;

/// <summary>
/// Loaded modules, least recently used first out, bounded by the bytes of their artifacts. An evicted module is not
/// disposed here: an invocation may still be instantiating it, and its native handle is released by its finalizer.
/// </summary>
internal sealed class ModuleCache(long capacityBytes)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, Module Module, long Bytes)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, Module Module, long Bytes)> _order = new();
    private long _bytes;

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public bool TryGet(string key, out Module module)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                module = node.Value.Module;
                return true;
            }
        }

        module = null!;
        return false;
    }

    /// <summary>Adds a module (or returns the one another thread added first) and evicts the oldest past the capacity.</summary>
    public Module Add(string key, Module module, long bytes)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var existing))
            {
                return existing.Value.Module;
            }

            _entries[key] = _order.AddFirst((key, module, bytes));
            _bytes += bytes;
            while (_bytes > capacityBytes && _order.Count > 1)
            {
                var oldest = _order.Last!;
                _order.RemoveLast();
                _entries.Remove(oldest.Value.Key);
                _bytes -= oldest.Value.Bytes;
            }

            return module;
        }
    }
}

namespace Extensions.Modules.Runner.Contracts;

/// <summary>
/// Reads a module's imports and exports straight from the binary, so that publish can refuse a module the workers
/// would not link without compiling untrusted code inside the host, and so that <c>build</c> and <c>pack</c> tell an
/// author the same thing before anything is uploaded.
/// </summary>
public sealed class GuestModule
{
    private GuestModule(List<(string Module, string Name, byte Kind, int TypeIndex)> imports, List<(string Name, byte Kind, int Index)> exports,
        List<(int Params, int[] ParamTypes, int[] Results)> types, List<int> functionTypes)
    {
        Imports = imports;
        Exports = exports;
        Types = types;
        FunctionTypes = functionTypes;
    }

    public IReadOnlyList<(string Module, string Name, byte Kind, int TypeIndex)> Imports { get; }
    public IReadOnlyList<(string Name, byte Kind, int Index)> Exports { get; }
    private List<(int Params, int[] ParamTypes, int[] Results)> Types { get; }
    private List<int> FunctionTypes { get; }

    private static readonly ImportSignature HandleSignature = new([], WasmType.I32);

    public static GuestModule Read(ReadOnlySpan<byte> wasm)
    {
        var r = new Reader(wasm);
        if (wasm.Length < 8 || !wasm[..4].SequenceEqual("\0asm"u8) || wasm[4] != 1 || wasm[5] != 0 || wasm[6] != 0 || wasm[7] != 0)
        {
            throw new InvalidDataException("main is not a WebAssembly core module (bad magic or version; components are not supported)");
        }

        r.Position = 8;
        var imports = new List<(string, string, byte, int)>();
        var exports = new List<(string, byte, int)>();
        var types = new List<(int, int[], int[])>();
        var functions = new List<int>();
        while (!r.AtEnd)
        {
            var id = r.Byte();
            var size = (int)r.U32();
            var end = r.Position + size;
            if (end > wasm.Length)
            {
                throw new InvalidDataException($"section {id} runs past the end of the module");
            }

            switch (id)
            {
                case 1:
                    for (var n = r.U32(); n > 0; n--)
                    {
                        if (r.Byte() != 0x60)
                        {
                            throw new InvalidDataException("unsupported type form in type section");
                        }

                        var ps = new int[r.U32()];
                        for (var i = 0; i < ps.Length; i++) ps[i] = r.Byte();
                        var rs = new int[r.U32()];
                        for (var i = 0; i < rs.Length; i++) rs[i] = r.Byte();
                        types.Add((ps.Length, ps, rs));
                    }

                    break;
                case 2:
                    for (var n = r.U32(); n > 0; n--)
                    {
                        var module = r.Name();
                        var name = r.Name();
                        var kind = r.Byte();
                        var typeIndex = -1;
                        switch (kind)
                        {
                            case 0: typeIndex = (int)r.U32(); functions.Add(typeIndex); break;
                            case 1: r.Byte(); SkipLimits(ref r); break;
                            case 2: SkipLimits(ref r); break;
                            case 3: r.Byte(); r.Byte(); break;
                            case 4: r.Byte(); r.U32(); break;
                            default: throw new InvalidDataException($"unknown import kind {kind}");
                        }

                        imports.Add((module, name, kind, typeIndex));
                    }

                    break;
                case 7:
                    for (var n = r.U32(); n > 0; n--)
                    {
                        exports.Add((r.Name(), r.Byte(), (int)r.U32()));
                    }

                    break;
                case 3:
                    for (var n = r.U32(); n > 0; n--)
                    {
                        functions.Add((int)r.U32());
                    }

                    break;
            }

            r.Position = end;
        }

        return new GuestModule(imports, exports, types, functions);
    }

    /// <summary>Every way the module fails the <c>ext-v1</c> ABI, each as a line an author can act on.</summary>
    public IReadOnlyList<string> AbiProblems()
    {
        var problems = new List<string>();
        foreach (var (module, name, kind, typeIndex) in Imports)
        {
            if (module != GuestAbi.ImportModule || kind != 0 || !GuestAbi.Imports.TryGetValue(name, out var signature))
            {
                problems.Add($"unknown import {module}.{name}: ext-v1 modules may import only functions of module 'ext' ({string.Join(", ", GuestAbi.Imports.Keys)})");
                continue;
            }

            if (!Matches(typeIndex, signature))
            {
                problems.Add($"import ext.{name} has the wrong signature: expected {signature}");
            }
        }

        if (!Exports.Any(e => e.Name == GuestAbi.MemoryExport && e.Kind == 2))
        {
            problems.Add("the module must export its memory as 'memory'");
        }

        var handle = Exports.FirstOrDefault(e => e.Name == GuestAbi.HandleExport && e.Kind == 0);
        if (handle.Name is null)
        {
            problems.Add("the module must export a function 'handle'");
        }
        else if (handle.Index >= FunctionTypes.Count || !Matches(FunctionTypes[handle.Index], HandleSignature))
        {
            problems.Add("export 'handle' must have the signature () -> i32");
        }

        return problems;
    }

    /// <summary>
    /// Imports whose capability <paramref name="requested"/> (the manifest's <c>capabilities</c>) lacks. Such a module links
    /// and runs, but every call of that import answers "denied", which is never what its author meant; so <c>build</c> and
    /// <c>pack</c> refuse it. Publish does not: the denial is the platform working as designed, not a risk to it.
    /// </summary>
    public IReadOnlyList<string> CapabilityProblems(IEnumerable<string> requested)
    {
        var have = requested.ToHashSet(StringComparer.Ordinal);
        return Imports
            .Where(i => i.Module == GuestAbi.ImportModule && i.Kind == 0)
            .Select(i => (i.Name, Capability: GuestAbi.CapabilityOf(i.Name)))
            .Where(i => i.Capability is not null && !have.Contains(i.Capability))
            .Select(i => $"imports {i.Name} but the manifest does not request capability {i.Capability}: add \"{i.Capability}\" to capabilities")
            .ToList();
    }

    private bool Matches(int typeIndex, ImportSignature signature) =>
        typeIndex >= 0 && typeIndex < Types.Count
        && Types[typeIndex].ParamTypes.SequenceEqual(signature.Params.Select(p => (int)p))
        && Types[typeIndex].Results is [var result] && result == (int)signature.Result;

    private static void SkipLimits(ref Reader r)
    {
        var flags = r.Byte();
        r.U32();
        if ((flags & 1) != 0)
        {
            r.U32();
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        public int Position;

        public readonly bool AtEnd => Position >= _data.Length;

        public byte Byte() => Position < _data.Length ? _data[Position++] : throw new InvalidDataException("module ends unexpectedly");

        public uint U32()
        {
            uint result = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = Byte();
                result |= (uint)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new InvalidDataException("malformed LEB128 number");
        }

        public string Name()
        {
            var length = (int)U32();
            if (length < 0 || Position + length > _data.Length)
            {
                throw new InvalidDataException("name runs past the end of the module");
            }

            var name = System.Text.Encoding.UTF8.GetString(_data.Slice(Position, length));
            Position += length;
            return name;
        }
    }
}

namespace Extensions.Modules.Bundles;

/// <summary>Cheap early refusal of a <c>main</c> that is not a core module (e.g. a .wat file or a component).</summary>
internal static class WasmBinary
{
    // "\0asm" then binary format version 1; components use a different version/layer word.
    private static ReadOnlySpan<byte> Header => [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    public static bool IsCoreModule(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Header);
}

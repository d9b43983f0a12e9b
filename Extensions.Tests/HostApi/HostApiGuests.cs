namespace Extensions.Tests.HostApi;

/// <summary>
/// WAT guests that expose one capability to the test through the gateway. A negative ABI code comes back as HTTP status
/// 400 + |code| (so -1 is 401, -11 is 411) with an empty body, which no problem response of the platform looks like.
/// </summary>
internal static class HostApiGuests
{
    /// <summary>Status for an ABI error code as these guests report it.</summary>
    public static int StatusFor(int abiCode) => 400 - abiCode;

    /// <summary>The request body names a secret; answers 200 with its value.</summary>
    public const string SecretEcho = """
        (module
          (import "ext" "req_body" (func $req_body (param i32 i32) (result i32)))
          (import "ext" "secret_get" (func $secret (param i32 i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 2)
          (func (export "handle") (result i32)
            (local $n i32) (local $r i32)
            (local.set $n (call $req_body (i32.const 0) (i32.const 256)))
            (local.set $r (call $secret (i32.const 0) (local.get $n) (i32.const 1024) (i32.const 65536)))
            (if (i32.lt_s (local.get $r) (i32.const 0))
              (then
                (drop (call $status (i32.sub (i32.const 400) (local.get $r))))
                (return (i32.const 0))))
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 1024) (local.get $r)))
            (i32.const 0)))
        """;

    /// <summary>The request body is an <c>http_fetch</c> request envelope; answers 200 with the response envelope.</summary>
    public const string FetchProxy = """
        (module
          (import "ext" "req_body" (func $req_body (param i32 i32) (result i32)))
          (import "ext" "http_fetch" (func $fetch (param i32 i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 40)
          (func (export "handle") (result i32)
            (local $n i32) (local $r i32)
            (local.set $n (call $req_body (i32.const 0) (i32.const 65536)))
            (local.set $r (call $fetch (i32.const 0) (local.get $n) (i32.const 65536) (i32.const 2097152)))
            (if (i32.lt_s (local.get $r) (i32.const 0))
              (then
                (drop (call $status (i32.sub (i32.const 400) (local.get $r))))
                (return (i32.const 0))))
            (if (i32.gt_s (local.get $r) (i32.const 2097152))
              (then
                (drop (call $status (i32.const 399)))
                (return (i32.const 0))))
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 65536) (local.get $r)))
            (i32.const 0)))
        """;

    /// <summary>Calls <c>http_fetch</c> 20 times with a malformed envelope; the body has one character per call: '0' - code.</summary>
    public const string FetchLoop = """
        (module
          (import "ext" "http_fetch" (func $fetch (param i32 i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "x")
          (func (export "handle") (result i32)
            (local $i i32)
            (loop $more
              (i32.store8 (i32.add (i32.const 100) (local.get $i))
                (i32.sub (i32.const 48) (call $fetch (i32.const 0) (i32.const 1) (i32.const 1024) (i32.const 1024))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $more (i32.lt_u (local.get $i) (i32.const 20))))
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 100) (i32.const 20)))
            (i32.const 0)))
        """;

    /// <summary>
    /// Two fetches: the request body's envelope, then the one in header <c>x-second</c>. The body has one character per
    /// call: '0' - code for an error, 'P' for a response.
    /// </summary>
    public const string FetchTwice = """
        (module
          (import "ext" "req_body" (func $req_body (param i32 i32) (result i32)))
          (import "ext" "req_header" (func $req_header (param i32 i32 i32 i32) (result i32)))
          (import "ext" "http_fetch" (func $fetch (param i32 i32 i32 i32) (result i32)))
          (import "ext" "resp_status" (func $status (param i32) (result i32)))
          (import "ext" "resp_body" (func $body (param i32 i32) (result i32)))
          (memory (export "memory") 20)
          (data (i32.const 16000) "x-second")
          (func $code (param $r i32) (result i32)
            (select (i32.sub (i32.const 48) (local.get $r)) (i32.const 80) (i32.lt_s (local.get $r) (i32.const 0))))
          (func (export "handle") (result i32)
            (local $n i32)
            (local.set $n (call $req_body (i32.const 0) (i32.const 8192)))
            (i32.store8 (i32.const 16100) (call $code (call $fetch (i32.const 0) (local.get $n) (i32.const 65536) (i32.const 1048576))))
            (local.set $n (call $req_header (i32.const 16000) (i32.const 8) (i32.const 8192) (i32.const 4096)))
            (i32.store8 (i32.const 16101) (call $code (call $fetch (i32.const 8192) (local.get $n) (i32.const 65536) (i32.const 1048576))))
            (drop (call $status (i32.const 200)))
            (drop (call $body (i32.const 16100) (i32.const 2)))
            (i32.const 0)))
        """;
}

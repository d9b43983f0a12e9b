#!/usr/bin/env python3
"""A misbehaving worker for protocol tests: speaks the host's frame protocol, then breaks it as FAKE_WORKER_MODE says.

Modes: wrong-secret, wrong-line-secret, garbage-after-hello, foreign-ids, oversized-frame, ungranted-host-call,
foreign-host-call, unknown-host-call, host-call-on-main.
"""
import os
import socket
import struct
import sys
import time

HELLO, COMPILE, EXECUTE, HOST_CALL, HOST_REPLY, RESULT, CANCEL, PING, PONG, SHUTDOWN, COMPILED, CALL_LINE = range(1, 13)
HELLO_VERSION = 2


def frame(kind, invocation_id, payload=b""):
    return struct.pack("<IBQ", 9 + len(payload), kind, invocation_id) + payload


def blob(data):
    return struct.pack("<i", len(data)) + data


def kv_put(key, value):
    return b"\x04" + blob(key) + blob(value) + struct.pack("<qq", -1, 0)


def ok_result(body):
    return b"\x00" + struct.pack("<i", 200) + struct.pack("<i", 0) + blob(body) + struct.pack("<qqqiq", 0, 0, 0, 1, 0) + blob(b"")


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data


def read_frame(sock):
    length, kind, invocation_id = struct.unpack("<IBQ", read_exactly(sock, 13))
    return kind, invocation_id, read_exactly(sock, length - 9)


def main():
    args = sys.argv[1:]
    path = args[args.index("--socket") + 1]
    secret = bytes.fromhex(sys.stdin.readline().strip())
    mode = os.environ.get("FAKE_WORKER_MODE", "wrong-secret")
    if mode == "impostor":
        # Another process (a child of the worker) connects in its place, presenting the right secret.
        if os.fork() == 0:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            sock.sendall(frame(HELLO, 0, struct.pack("<i", HELLO_VERSION) + blob(secret) + struct.pack("<i", os.getpid()) + blob(b"fake-engine")))
            time.sleep(30)
            os._exit(0)
        time.sleep(30)
        return

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)

    presented = os.urandom(32) if mode == "wrong-secret" else secret
    sock.sendall(frame(HELLO, 0, struct.pack("<i", HELLO_VERSION) + blob(presented) + struct.pack("<i", os.getpid()) + blob(b"fake-engine")))
    if mode == "wrong-secret":
        time.sleep(30)
        return

    # One call line per serving thread (concurrency + 1), as a real worker connects them; calls travel on line 0.
    lines = []
    for index in range(int(args[args.index("--concurrency") + 1]) + 1):
        line = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        line.connect(path)
        line_secret = os.urandom(32) if mode == "wrong-line-secret" else secret
        line.sendall(frame(CALL_LINE, 0, blob(line_secret) + struct.pack("<i", index)))
        lines.append(line)
    if mode == "wrong-line-secret":
        time.sleep(30)
        return
    calls = lines[0]

    while True:
        kind, invocation_id, _ = read_frame(sock)
        if kind == PING:
            sock.sendall(frame(PONG, 0, struct.pack("<qqqiqq", 0, 0, 0, 0, 0, 0)))
        elif kind == COMPILE:
            sock.sendall(frame(COMPILED, invocation_id, b"\x01" + blob(b"fake-artifact") + blob(b"")))
        elif kind == EXECUTE:
            if mode == "garbage-after-hello":
                sock.sendall(struct.pack("<IBQ", 9, 200, invocation_id))
            elif mode == "foreign-ids":
                # A well-formed answer, but for an invocation the host never minted.
                body = b"forged"
                result = b"\x00" + struct.pack("<i", 200) + struct.pack("<i", 0) + blob(body) + struct.pack("<qqqiq", 0, 0, 0, 0, 0) + blob(b"")
                sock.sendall(frame(RESULT, invocation_id + 1000, result))
            elif mode == "oversized-frame":
                sock.sendall(struct.pack("<IBQ", 0x7FFFFFF0, RESULT, invocation_id))
            elif mode == "ungranted-host-call":
                # Asks for a KV write its invocation was never granted, and reports what the host answered.
                calls.sendall(frame(HOST_CALL, invocation_id, kv_put(b"stolen", b"x")))
                while True:
                    kind, reply_id, payload = read_frame(calls)
                    if kind == HOST_REPLY and reply_id == invocation_id:
                        break
                code = struct.unpack("<q", payload[:8])[0]
                sock.sendall(frame(RESULT, invocation_id, ok_result(b"host answered %d" % code)))
            elif mode == "foreign-host-call":
                # A KV write in the name of an invocation the host never minted: it must be ignored.
                calls.sendall(frame(HOST_CALL, invocation_id + 1000, kv_put(b"stolen", b"x")))
            elif mode == "unknown-host-call":
                calls.sendall(frame(HOST_CALL, invocation_id, b"\x63"))
            elif mode == "host-call-on-main":
                # A capability call on the main connection: only log lines may come there.
                sock.sendall(frame(HOST_CALL, invocation_id, kv_put(b"stolen", b"x")))
        elif kind == SHUTDOWN:
            return


if __name__ == "__main__":
    main()

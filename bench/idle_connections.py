#!/usr/bin/env python3
"""S7: memory per idle keep-alive connection of a running proxy.

Opens N connections to 127.0.0.1:PORT, sends one small GET on each and reads its answer, leaves them
all open and idle, waits, and prints how much the resident memory (VmRSS) of the given processes grew
per connection. Give every process of the proxy (nginx: master and worker). For a JVM, --heap also
prints the growth of the live heap by class (jcmd GC.class_histogram, which runs a full GC).

--h2: the connections are HTTP/2 over TLS (ALPN h2, any certificate accepted): each sends the
preface, SETTINGS and one GET, acknowledges the server's SETTINGS and reads the whole answer.
--h2c: the same over cleartext (HTTP/2 with prior knowledge), so the TLS library's share is left out.
--json: print one JSON object ({"kib_per_connection": ..., ...}) instead of the sentence; with --heap it
also holds "live_heap_kib_per_connection".

Warm the proxy first (a few seconds of wrk), so memory touched once by any traffic is not counted.

A JVM's RSS also grows by the heap pages its garbage touches for the first time (opening 8000 TLS
connections makes some 150 MB of garbage), which a process that has run a while has touched anyway,
while the live objects the connections hold may sit in pages touched before. To count what the
connections hold, start the JVM with -XX:+AlwaysPreTouch (the whole heap is resident from the start,
so RSS grows only by memory outside the heap) and add the live heap's growth (--heap).

usage: idle_connections.py PORT N PATH PID [PID...] [--h2 | --h2c] [--json] [--heap] [--wait SECONDS]
example: python3 bench/idle_connections.py 8080 8000 /hello.txt $(pgrep -f meridian.jar) --heap
"""
import json
import ssl
import struct
import resource
import socket
import subprocess
import sys
import time


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def live_heap(pid):
    out = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].endswith(":"):
            rows[parts[3]] = (int(parts[1]), int(parts[2]))
    return rows


def open_idle(port, count, path):
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        sockets.append(s)
    for s in sockets:
        s.settimeout(10)
        answer = s.recv(65536)
        if not answer.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"unexpected answer: {answer[:80]!r}")
    return sockets


def skip_table_size_updates(block):
    """The header block after the dynamic table size updates it may start with (RFC 7541 6.3)."""
    while block and block[0] & 0xE0 == 0x20:
        i = 1
        if block[0] & 0x1F == 0x1F:   # the size goes on in 7-bit groups
            while block[i] & 0x80:
                i += 1
            i += 1
        block = block[i:]
    return block


def h2_frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def h2_request(path, scheme="https"):
    # HPACK: :method GET, :scheme (static indexes), :path and :authority as literals.
    block = b"\x82" + (b"\x87" if scheme == "https" else b"\x86") + (b"\x84" if path == "/" else b"\x04" + bytes([len(path)]) + path.encode())
    block += b"\x01\x05bench"
    return (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0)
            + h2_frame(1, 0x5, 1, block))


def read_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise SystemExit("connection closed before the HTTP/2 answer was complete")
        data += chunk
    return data


def h2_read_answer(s):
    """Reads frames until stream 1 ends; acknowledges SETTINGS; checks the status is 200."""
    status_ok = None
    while True:
        header = read_exactly(s, 9)
        length = int.from_bytes(header[:3], "big")
        kind, flags, stream = header[3], header[4], int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
        payload = read_exactly(s, length)
        if kind == 4 and not flags & 1:
            s.sendall(h2_frame(4, 1, 0))
        elif kind == 7:
            raise SystemExit(f"GOAWAY from the server: {payload!r}")
        elif kind == 1 and stream == 1 and status_ok is None:
            status_ok = skip_table_size_updates(payload)[:1] == b"\x88"   # indexed :status 200
            if not status_ok:
                raise SystemExit(f"unexpected HTTP/2 answer: {payload[:40].hex()}")
        if stream == 1 and kind in (0, 1) and flags & 1:
            return


def open_idle_h2c(port, count, path):
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(h2_request(path, "http"))
        sockets.append(s)
    for s in sockets:
        s.settimeout(10)
        h2_read_answer(s)
    return sockets


def open_idle_h2(port, count, path):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    sockets = []
    for _ in range(count):
        s = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
        if s.selected_alpn_protocol() != "h2":
            raise SystemExit(f"the server did not choose h2 by ALPN: {s.selected_alpn_protocol()}")
        s.sendall(h2_request(path))
        sockets.append(s)
    for s in sockets:
        s.settimeout(10)
        h2_read_answer(s)
    return sockets


def main(argv):
    h2 = "--h2" in argv
    h2c = "--h2c" in argv
    as_json = "--json" in argv
    argv = [a for a in argv if a not in ("--h2", "--h2c", "--json")]
    heap = "--heap" in argv
    wait = 3.0
    if "--wait" in argv:
        wait = float(argv[argv.index("--wait") + 1])
        del argv[argv.index("--wait"):argv.index("--wait") + 2]
    args = [a for a in argv[1:] if a != "--heap"]
    if len(args) < 4:
        raise SystemExit(__doc__)
    port, count, path, pids = int(args[0]), int(args[1]), args[2], [int(p) for p in args[3:]]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 256)), hard))

    heap_before = live_heap(pids[0]) if heap else None
    before = rss_kb(pids)
    if h2:
        sockets = open_idle_h2(port, count, path)
    elif h2c:
        sockets = open_idle_h2c(port, count, path)
    else:
        sockets = open_idle(port, count, path)
    time.sleep(wait)
    after = rss_kb(pids)
    growth = []
    if heap:
        heap_after = live_heap(pids[0])
        names = set(heap_before) | set(heap_after)
        growth = sorted(((heap_after.get(n, (0, 0))[1] - heap_before.get(n, (0, 0))[1],
                          heap_after.get(n, (0, 0))[0] - heap_before.get(n, (0, 0))[0], n) for n in names),
                        reverse=True)
    heap_bytes = sum(g[0] for g in growth)
    if as_json:
        report = {"connections": count, "protocol": "h2" if h2 else "h2c" if h2c else "http/1.1", "rss_before_kib": before,
                  "rss_after_kib": after, "kib_per_connection": round((after - before) / count, 2)}
        if heap:
            report["live_heap_kib_per_connection"] = round(heap_bytes / 1024 / count, 2)
        print(json.dumps(report))
    else:
        print(f"connections {count}: RSS {before} KB -> {after} KB, "
              f"{(after - before) * 1024 / count / 1024:.1f} KB per idle connection")
    if heap and not as_json:
        print(f"live heap: {heap_bytes / count:.0f} bytes per connection; largest classes"
              " (bytes and instances per connection):")
        for size, instances, name in growth[:15]:
            print(f"  {size / count:8.1f} {instances / count:6.2f}  {name}")
    for s in sockets:
        s.close()


if __name__ == "__main__":
    main(sys.argv)

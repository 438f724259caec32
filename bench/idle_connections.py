#!/usr/bin/env python3
"""S7: memory per idle keep-alive connection of a running proxy.

Opens N connections to 127.0.0.1:PORT, sends one small GET on each and reads its answer, leaves them
all open and idle, waits, and prints how much the resident memory (VmRSS) of the given processes grew
per connection. Give every process of the proxy (nginx: master and worker). For a JVM, --heap also
prints the growth of the live heap by class (jcmd GC.class_histogram, which runs a full GC).

Warm the proxy first (a few seconds of wrk), so memory touched once by any traffic is not counted.

usage: idle_connections.py PORT N PATH PID [PID...] [--heap] [--wait SECONDS]
example: python3 bench/idle_connections.py 8080 8000 /hello.txt $(pgrep -f meridian.jar) --heap
"""
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


def main(argv):
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
    sockets = open_idle(port, count, path)
    time.sleep(wait)
    after = rss_kb(pids)
    print(f"connections {count}: RSS {before} KB -> {after} KB, "
          f"{(after - before) * 1024 / count / 1024:.1f} KB per idle connection")
    if heap:
        heap_after = live_heap(pids[0])
        names = set(heap_before) | set(heap_after)
        growth = sorted(((heap_after.get(n, (0, 0))[1] - heap_before.get(n, (0, 0))[1],
                          heap_after.get(n, (0, 0))[0] - heap_before.get(n, (0, 0))[0], n) for n in names),
                        reverse=True)
        print(f"live heap: {sum(g[0] for g in growth) / count:.0f} bytes per connection; largest classes"
              " (bytes and instances per connection):")
        for size, instances, name in growth[:15]:
            print(f"  {size / count:8.1f} {instances / count:6.2f}  {name}")
    for s in sockets:
        s.close()


if __name__ == "__main__":
    main(sys.argv)

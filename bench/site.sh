# Shared by ab.sh and profile.sh (sourced, not run): the static site the nginx backend serves and the
# TLS certificate Meridian's TLS listener uses, made in a run's temporary directory, and free ports.

# free_ports N: N ports free on 127.0.0.1 now, space-separated.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))
PY
}

# make_site DIR: DIR/www/hello.txt (the 100-byte body of S1 and S4), DIR/www/uploaded.txt (the
# backend's answer to S8's POST /upload; without it the backend answers 404), DIR/tls/site.{crt,key}
# (a self-signed certificate for localhost and 127.0.0.1) and DIR/backend-tmp (nginx's temporary files).
make_site() {
  mkdir -p "$1/www" "$1/tls" "$1/backend-tmp"
  python3 -c 'import sys; t = "hello from the meridian bench suite backend " * 3; print(t[:99])' > "$1/www/hello.txt"
  echo "uploaded" > "$1/www/uploaded.txt"
  chmod 755 "$1" "$1/www"; chmod 644 "$1/www/hello.txt" "$1/www/uploaded.txt"   # nginx's workers run as another user
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$1/tls/site.key" -out "$1/tls/site.crt" 2>/dev/null
}

# render TEMPLATE OUT PORT TLS_PORT: a configuration template of bench/suite with its placeholders
# filled in (the caller sets TEMPLATES, TMP and BACKEND_PORT).
render() {
  sed -e "s|@DIR@|$TMP|g" -e "s|@PORT@|$3|g" -e "s|@TLS_PORT@|$4|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" \
    "$TEMPLATES/$1" > "$2"
}

# wait_up PORT PID: waits up to 30 s for GET /hello.txt on PORT to succeed; 1 if PID exits first.
wait_up() {
  for _ in $(seq 1 300); do
    kill -0 "$2" 2>/dev/null || return 1
    curl -sf -o /dev/null "http://127.0.0.1:$1/hello.txt" && return 0
    sleep 0.1
  done
  return 1
}

# round_stats H2 TICKS_BEFORE TICKS_AFTER OUTFILE: one measured round of wrk (H2=0, with
# suite/latency.lua) or h2load (H2=1) read from OUTFILE, printed as "req/s cpu_us_per_request
# failures p99_ms p99.9_ms" (latency "- -" for h2load, which gives no percentiles); the ticks are the
# proxy's CPU (user + system) before and after the round.
round_stats() {
  python3 - "$1" "$2" "$3" "$(getconf CLK_TCK)" "$4" <<'PY'
import re, sys
h2, before, after, tck = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out = open(sys.argv[5]).read()
if h2:
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    m = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed", out)
    done, failed = int(m.group(1)), int(m.group(3))
    # As wrk's "Non-2xx or 3xx responses": h2load counts a 4xx or 5xx as succeeded.
    codes = re.search(r"status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx", out)
    failed += int(codes.group(1)) + int(codes.group(2)) if codes else 0
else:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    failed = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    failed += int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
latency = re.search(r'LATENCY_JSON \{.*"99":([\d.]+),"99.9":([\d.]+)', out)
tail = f"{latency.group(1)} {latency.group(2)}" if latency else "- -"
print(f"{rps:.0f} {(after - before) * 1e6 / tck / max(done, 1):.2f} {failed} {tail}")
PY
}

# cpu_ticks PID: CPU ticks (user + system) of a process and its direct children (nginx's worker).
cpu_ticks() {
  local total=0 p t
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    total=$(( total + ${t:-0} ))
  done
  echo "$total"
}

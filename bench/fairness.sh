#!/usr/bin/env bash
# Does one protocol's load starve the other's (issue 15)? One Meridian jar on a cleartext listener
# (HTTP/1.1 and HTTP/2 with prior knowledge) in front of one nginx worker; each round measures, for
# SECONDS_PER_PHASE seconds each: wrk HTTP/1.1 alone, h2load HTTP/2 alone, then both at once, and prints the
# HTTP/1.1 and HTTP/2 rates with the other load as a share of their solo rates, and HTTP/1.1's share
# of the requests served together. Ratios within one round, repeated: the host is shared and noisy.
#
# usage: bench/fairness.sh JAR
# Environment (defaults in brackets): ROUNDS [3]  SECONDS_PER_PHASE [15]
#   WRK [-t2 -c10]  wrk's threads and connections (HTTP/1.1: one request in flight per connection)
#   H2LOAD [-c10 -m10]  h2load's connections and streams per connection
#   KEEP_TMP [0]  1 = keep the configs and the tools' reports
# A protocol served in turn gets about its share of the requests in flight: with the defaults 10 of
# 110, so about 9% of the requests served together go to HTTP/1.1; H2LOAD="-c10 -m1" makes it 50%.
set -euo pipefail
(( $# == 1 )) || { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }
JAR="$(realpath "$1")"
ROUNDS="${ROUNDS:-3}"; SECS="${SECONDS_PER_PHASE:-15}"
WRK_ARGS="${WRK:--t2 -c10}"; H2_ARGS="${H2LOAD:--c10 -m10}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
for tool in wrk h2load "$NGINX" java python3; do command -v "$tool" >/dev/null || { echo "[fairness] $tool not found" >&2; exit 1; }; done

TMP="$(mktemp -d /tmp/meridian-fairness.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ "${KEEP_TMP:-0}" == 1 ]] && echo "[fairness] kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT

read -r BACKEND PROXY ADMIN <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')"
mkdir -p "$TMP/tmp"
cat > "$TMP/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/tmp; proxy_temp_path $TMP/tmp; fastcgi_temp_path $TMP/tmp;
  uwsgi_temp_path $TMP/tmp; scgi_temp_path $TMP/tmp;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACKEND; location / { return 200 "hello from the fairness backend\n"; } }
}
CONF
cat > "$TMP/meridian.conf" <<CONF
meridian {
  listeners = [ { name = "web", address = "127.0.0.1:$PROXY" } ]
  admin { address = "127.0.0.1:$ADMIN" }
  backend-groups { app { backends = [ { address = "127.0.0.1:$BACKEND" } ] } }
  routes = [ { name = "all", path-prefix = "/", backend-group = "app" } ]
}
CONF
"$NGINX" -c "$TMP/nginx.conf" -p "$TMP" & PIDS+=($!)
java -Xms512m -Xmx512m -XX:+UseParallelGC -jar "$JAR" run -c "$TMP/meridian.conf" > "$TMP/meridian.log" 2>&1 & PIDS+=($!)
URL="http://127.0.0.1:$PROXY/"
for _ in $(seq 100); do curl -sf -o /dev/null "$URL" && break; sleep 0.2; done
curl -sf -o /dev/null "$URL" || { cat "$TMP/meridian.log" >&2; echo "[fairness] Meridian did not start" >&2; exit 1; }
wrk -t2 -c10 -d10s "$URL" > /dev/null; h2load -c10 -m10 -D 10 "$URL" > /dev/null   # warm-up

rate_wrk() { awk '/^Requests\/sec/ {print $2}' "$1"; }
rate_h2() { sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$1"; }
printf '%-6s %12s %12s %8s %12s %12s %8s %10s\n' round h1-solo h1-both h1-x h2-solo h2-both h2-x h1-share
for r in $(seq "$ROUNDS"); do
  wrk $WRK_ARGS -d"${SECS}s" --latency "$URL" > "$TMP/r$r-h1-solo.txt"
  h2load $H2_ARGS -D "$SECS" "$URL" > "$TMP/r$r-h2-solo.txt"
  # h2load starts first and ends last, so that wrk's whole run sees it; its rate is over its own run.
  h2load $H2_ARGS -D $(( SECS + 2 )) "$URL" > "$TMP/r$r-h2-both.txt" & h2=$!
  sleep 1
  wrk $WRK_ARGS -d"${SECS}s" --latency "$URL" > "$TMP/r$r-h1-both.txt"
  wait "$h2"
  python3 - "$r" "$(rate_wrk "$TMP/r$r-h1-solo.txt")" "$(rate_wrk "$TMP/r$r-h1-both.txt")" \
      "$(rate_h2 "$TMP/r$r-h2-solo.txt")" "$(rate_h2 "$TMP/r$r-h2-both.txt")" <<'PY'
import sys
r, h1s, h1b, h2s, h2b = sys.argv[1], *map(float, sys.argv[2:])
print(f"{r:<6} {h1s:12.0f} {h1b:12.0f} {h1b / h1s:8.3f} {h2s:12.0f} {h2b:12.0f} {h2b / h2s:8.3f} {h1b / (h1b + h2b):10.3f}")
PY
  grep -h -E 'Socket errors|Non-2xx' "$TMP/r$r-h1-both.txt" || true
  grep -h -E '^requests:' "$TMP/r$r-h2-both.txt" | grep -v ' 0 failed' || true
done

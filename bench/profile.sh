#!/usr/bin/env bash
# Profiles one Meridian jar under S1's load (or S4's) with async-profiler: where the proxy's CPU goes,
# per method, as a flame graph and as a table of Meridian's own methods. This is how the forwarding
# path's costs are found; a ratio against the peers still comes from suite.sh, a comparison of two
# builds from ab.sh.
#
# usage: bench/profile.sh [--h2 | --post] JAR [OUT_DIR]
#   default   S1's load: wrk -t1 -c50, small GET over HTTP/1.1, to the nginx backend
#   --h2      S4's load: h2load -c10 -m10, HTTP/2 over TLS
#   --post    S8's load: wrk -t1 -c8, a 1 MiB POST each (bench/suite/post.lua)
#
# The proxy runs alone on PROXY_CPU with one event loop (as in the suite); the load tool and the nginx
# backend share LOAD_CPU. After WARMUP seconds of load (in 10 s runs: a run's end closes its
# connections, and the JIT recompiles what that deoptimizes before the profile starts), the profiler
# is attached (jcmd JVMTI.agent_load) for PROFILE_SECONDS of the same load. In OUT_DIR [a new directory under
# /tmp]: flame.html (open in a browser), collapsed.txt (one stack per line, for other tools),
# flat.txt (the 40 hottest frames by self time), load.txt (the load tool's output) and meridian.log.
# It prints the load's rate and a table of Meridian's methods by the share of the proxy's user-space
# CPU spent in them and what they call (the kernel's share, mostly send and receive, is printed apart).
#
# Environment (defaults in brackets):
#   WARMUP [30; 45 with --h2]  PROFILE_SECONDS [15]  EVENT [cpu] (async-profiler event: cpu, alloc, lock, wall)
#   JAVA [java]  JAVA_OPTS [the options README recommends]  CONF [meridian.conf, in bench/suite]
#   LOAD_CPU [0]  PROXY_CPU [1]
#   ASYNC_PROFILER [fetched] the path of libasyncProfiler.so; else async-profiler 4.1 is taken from
#                 Maven Central (tools.profiler:async-profiler) into ~/.cache/meridian-bench
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="$SCRIPT_DIR/suite"
# shellcheck source=site.sh
source "$SCRIPT_DIR/site.sh"
H2=0; POST=0
if [[ "${1:-}" == "--h2" ]]; then H2=1; shift; elif [[ "${1:-}" == "--post" ]]; then POST=1; shift; fi
(( $# == 1 || $# == 2 )) || { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }
JAR="$(realpath "$1")"
OUT="${2:-$(mktemp -d /tmp/meridian-profile.XXXXXX)}"
WARMUP="${WARMUP:-$(( H2 ? 45 : 30 ))}"; SECONDS_PROFILED="${PROFILE_SECONDS:-15}"; EVENT="${EVENT:-cpu}"
JAVA="${JAVA:-java}"; CONF="${CONF:-meridian.conf}"
JAVA_OPTS="${JAVA_OPTS--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1}"
LOAD_CPU="${LOAD_CPU:-0}"; PROXY_CPU="${PROXY_CPU:-1}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

die() { echo "[profile] $*" >&2; exit 1; }

[[ -f "$JAR" ]] || die "no such jar: $JAR"
for tool in taskset python3 openssl curl jcmd "$NGINX"; do command -v "$tool" >/dev/null || die "$tool not found"; done
if (( H2 )); then command -v h2load >/dev/null || die "h2load not found (package nghttp2-client)"
else command -v wrk >/dev/null || die "wrk not found (package wrk)"; fi

LIB="${ASYNC_PROFILER:-}"
if [[ -z "$LIB" ]]; then
  CACHE="$HOME/.cache/meridian-bench"
  LIB="$CACHE/async-profiler-4.1/linux-x64/libasyncProfiler.so"
  if [[ ! -f "$LIB" ]]; then
    mkdir -p "$CACHE"
    mvn -B -ntp -q dependency:copy -Dartifact=tools.profiler:async-profiler:4.1 -DoutputDirectory="$CACHE" >/dev/null \
      || die "could not fetch tools.profiler:async-profiler:4.1 (give ASYNC_PROFILER=/path/to/libasyncProfiler.so)"
    mkdir -p "$CACHE/async-profiler-4.1"
    (cd "$CACHE/async-profiler-4.1" && python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("linux-x64/libasyncProfiler.so")' \
      "$CACHE/async-profiler-4.1.jar")
  fi
fi
[[ -f "$LIB" ]] || die "no async-profiler library at $LIB"

mkdir -p "$OUT"
OUT="$(realpath "$OUT")"
TMP="$(mktemp -d /tmp/meridian-profile-run.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

read -r BACKEND_PORT PORT TLS_PORT <<<"$(free_ports 3)"

make_site "$TMP"
render backend-nginx.conf "$TMP/backend.conf" 0 0
taskset -c "$LOAD_CPU" "$NGINX" -p "$TMP" -c "$TMP/backend.conf" >"$TMP/backend.out" 2>&1 &
PIDS+=($!)
render "$CONF" "$TMP/meridian.conf" "$PORT" "$TLS_PORT"
# shellcheck disable=SC2086 # the options are words
taskset -c "$PROXY_CPU" "$JAVA" -XX:ActiveProcessorCount=1 $JAVA_OPTS -jar "$JAR" run -c "$TMP/meridian.conf" \
  >"$OUT/meridian.log" 2>&1 &
PID=$!; PIDS+=("$PID")
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/hello.txt" && break
  kill -0 "$PID" 2>/dev/null || { cat "$OUT/meridian.log" >&2; die "Meridian did not start"; }
  sleep 0.1
done

load() {  # load SECONDS OUT_FILE
  if (( H2 )); then taskset -c "$LOAD_CPU" h2load -c10 -m10 -D "$1" "https://127.0.0.1:$TLS_PORT/hello.txt" >"$2" 2>&1
  elif (( POST )); then taskset -c "$LOAD_CPU" wrk -t1 -c8 -d"$1"s --latency -s "$TEMPLATES/post.lua" \
    "http://127.0.0.1:$PORT/upload" >"$2" 2>&1
  else taskset -c "$LOAD_CPU" wrk -t1 -c50 -d"$1"s --latency "http://127.0.0.1:$PORT/hello.txt" >"$2" 2>&1; fi
}
agent() { jcmd "$PID" JVMTI.agent_load "$LIB" "\"$1\"" >/dev/null; }

echo "[profile] warming up for ${WARMUP}s" >&2
left="$WARMUP"
while (( left > 0 )); do run=$(( left < 10 ? left : 10 )); load "$run" "$TMP/warmup.txt"; left=$(( left - run )); done
echo "[profile] profiling ($EVENT) for ${SECONDS_PROFILED}s" >&2
agent "start,event=$EVENT,interval=1000000,file=$OUT/unused.txt"
load "$SECONDS_PROFILED" "$OUT/load.txt"
agent "dump,file=$OUT/flat.txt,flat=40"
agent "dump,collapsed,file=$OUT/collapsed.txt"
agent "stop,file=$OUT/flame.html"
rm -f "$OUT/unused.txt"

grep -E "Requests/sec|99%|finished in|requests:" "$OUT/load.txt" || true
python3 - "$OUT/collapsed.txt" <<'PY'
import collections, sys
total = kernel = 0
inclusive = collections.Counter()
for line in open(sys.argv[1]):
    stack, count = line.rsplit(" ", 1)
    count = int(count)
    frames = stack.split(";")
    total += count
    if frames[-1].endswith("_[k]"):
        kernel += count
        continue
    for frame in set(frames):
        inclusive[frame] += count
if not total:
    sys.exit("no samples")
print(f"kernel (system calls and what they do): {100 * kernel / total:.1f}% of the samples; user space {100 * (total - kernel) / total:.1f}%")
print("Meridian's methods: the share of all samples in user space inside them (they and what they call):")
for frame, count in inclusive.most_common():
    if frame.startswith("dev/meridian/") and count * 200 >= total:
        print(f"  {100 * count / total:5.1f}%  {frame.replace('/', '.')}")
PY
echo "[profile] flame graph: $OUT/flame.html" >&2

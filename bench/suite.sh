#!/usr/bin/env bash
# The bench suite: Meridian against nginx and HAProxy (and the backend direct), scenarios S1-S9, in
# one run on this machine, with a report in Markdown, JSON and PNG. See bench/README.md.
#
#   S1  small GET, keep-alive, wrk -c50                      S5  1 MiB GET over TLS (HTTP/1.1), wrk -c8
#   S2  open loop: fixed rates at 50% and 80% of the best    S6  full TLS 1.3 handshakes per second
#       peer's S1 rate, latency from intended send time      S7  memory per idle keep-alive connection,
#   S3  1 MiB GET, wrk -c8                                       HTTP/1.1 (S7-h1) and HTTP/2 over TLS (S7-h2)
#   S4  HTTP/2 over TLS, h2load -c10 -m10                    S8  1 MiB POST, wrk -c8
#   S9  S1's GET answered from each proxy's own cache (nginx proxy_cache, HAProxy's cache, Meridian's
#       edge cache): every request after the first is a hit, wrk -c50
#   W   warm-up (Meridian only): a freshly started process under S1's load (W-h1) and S4's (W-h2)
#       in one-second slices; the figure is the seconds of load until a slice reaches 90% of the
#       rate of the last five (the JIT shares the proxy's core)
#
# A repetition starts each target afresh (the order rotates from one repetition to the next), checks
# that it answers correctly (every path, cleartext and TLS, HTTP/1.1 and HTTP/2), warms it up, then
# runs each scenario: a short unrecorded warm-up of the same load, then the measured run, with the
# proxy's CPU use and the other load on its core. Each proxy runs alone on PROXY_CPU; the load tools
# and the static nginx backend share LOAD_CPU. The report (medians over repetitions, ratios to the
# peers, plots) is written by dev.meridian.bench.suite.BenchReport under bench/results/suite-<time>/.
#
# usage: bench/suite.sh [--quick] [--scenarios "S1 S3 ... W"]
#   --quick   one short repetition of everything: checks that each target answers every scenario
#             correctly, asserts no ratio (what .ci/run runs); exit status 1 when a target fails
#
# Environment (defaults in brackets; --quick changes the ones marked *):
#   SCENARIOS ["S1 S2 S3 S4 S5 S6 S7 S8 S9 W"]  TARGETS ["direct nginx haproxy meridian meridian-matched"]
#                        (+ baseline); meridian-matched is the same jar with the headers it adds matched to
#                        the peers' configs (MATCHED_CONF_EXTRA), in S1, S3, S4, S5, S8 and S9
#   REPEAT* [3]          repetitions; figures are medians      DURATION* [10]  measured seconds
#   WARMUP* [30]         S1 warm-up seconds when a target starts, in WARMUP_ROUNDS* [3] wrk runs (after
#                        one long run the first connection close deoptimizes the JIT's hot I/O path)
#   TLS_WARMUP* [45]     seconds of S4's load (HTTP/2 over TLS) added to those rounds when S4 or S5 is
#                        measured: the JIT compiles the TLS and HTTP/2 paths apart from S1's, and
#                        Meridian's HTTP/2 path reaches its steady rate only after 30-40 s of its load
#   BULK_WARMUP* [30]    seconds of S3's and S8's loads (1 MiB GET and POST, half each) added to those
#                        rounds when S3, S5 or S8 is measured: the body path is compiled apart from
#                        S1's, and Meridian's 1 MiB POST reaches its steady rate after 30-40 s of its load
#   W_SECONDS* [30]      one-second slices of load in W
#   SCENARIO_WARMUP* [3] seconds of the same load before each measured scenario
#   CONNECTIONS [50]     wrk -c for S1 and the connections of S2    BULK_CONNECTIONS [8]  S3, S5, S8
#   H2_CLIENTS [10], H2_STREAMS [10]   h2load -c and -m for S4      HANDSHAKE_CONNECTIONS [16]  S6
#   IDLE_CONNECTIONS* [8000]  S7 connections      S2_LEVELS ["50 80"]  S2 rates, % of the base rate
#   S2_WARMUP* [6]       seconds the open-loop generator runs at the rate before it measures (its JIT)
#   S2_BASE_RATE []      req/s that S2_LEVELS are percentages of; default: the better of nginx's and
#                        HAProxy's S1 rate, measured first in a short calibration run
#   LOAD_CPU [0], PROXY_CPU [1], BACKEND_CPU [=LOAD_CPU]           BODY_BYTES [100]  the small body
#   MERIDIAN_JAR [proxy-core/target/meridian.jar]   BENCH_JAR [bench/target/benchmarks.jar]
#   MERIDIAN_JAVA_OPTS ["-Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1"]
#                      (the options README recommends)
#   MERIDIAN_JAVA [java]  the java launcher (e.g. /usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
#   MERIDIAN_CONF_EXTRA []  HOCON appended to Meridian's generated config
#   MATCHED_CONF_EXTRA ["meridian.headers.via = \"\", meridian.headers.forwarded = false,
#                        meridian.tracing.enabled = false"]  appended for meridian-matched (after
#                        MERIDIAN_CONF_EXTRA): no Via either way, no Forwarded, no trace context, as
#                        nginx and HAProxy send none; X-Forwarded-For/-Proto/-Host and the request id stay
#   BASELINE_JAR []      a second Meridian jar (e.g. the commit before a change): adds the target
#                        "baseline", and the report gives meridian / baseline, measured in one run
#   BASELINE_JAVA_OPTS [=MERIDIAN_JAVA_OPTS], BASELINE_JAVA [=MERIDIAN_JAVA], BASELINE_CONF_EXTRA []
#   RESULTS_DIR [bench/results]   KEEP_TMP [0]  1 = keep the temp dir   NO_INSTALL [0]  no apt-get
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TEMPLATES="$SCRIPT_DIR/suite"

QUICK=0
while (( $# )); do
  case "$1" in
    --quick) QUICK=1 ;;
    --scenarios) SCENARIOS="$2"; shift ;;
    --scenarios=*) SCENARIOS="${1#*=}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) printf '[suite] ERROR: unknown argument %s (try --help)\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
if (( QUICK )); then
  REPEAT="${REPEAT:-1}"; DURATION="${DURATION:-2}"; WARMUP="${WARMUP:-2}"; WARMUP_ROUNDS="${WARMUP_ROUNDS:-1}"
  SCENARIO_WARMUP="${SCENARIO_WARMUP:-1}"; IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-200}"; S2_WARMUP="${S2_WARMUP:-1}"
  TLS_WARMUP="${TLS_WARMUP:-2}"; BULK_WARMUP="${BULK_WARMUP:-2}"; W_SECONDS="${W_SECONDS:-3}"
fi
SCENARIOS="${SCENARIOS:-S1 S2 S3 S4 S5 S6 S7 S8 S9 W}"
REPEAT="${REPEAT:-3}"; DURATION="${DURATION:-10}"; WARMUP="${WARMUP:-30}"; WARMUP_ROUNDS="${WARMUP_ROUNDS:-3}"
SCENARIO_WARMUP="${SCENARIO_WARMUP:-3}"; TLS_WARMUP="${TLS_WARMUP:-45}"; BULK_WARMUP="${BULK_WARMUP:-30}"
W_SECONDS="${W_SECONDS:-30}"
CONNECTIONS="${CONNECTIONS:-50}"; BULK_CONNECTIONS="${BULK_CONNECTIONS:-8}"
H2_CLIENTS="${H2_CLIENTS:-10}"; H2_STREAMS="${H2_STREAMS:-10}"; HANDSHAKE_CONNECTIONS="${HANDSHAKE_CONNECTIONS:-16}"
S2_WARMUP="${S2_WARMUP:-6}"
IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-8000}"; S2_LEVELS="${S2_LEVELS:-50 80}"; S2_BASE_RATE="${S2_BASE_RATE:-}"
LOAD_CPU="${LOAD_CPU:-0}"; PROXY_CPU="${PROXY_CPU:-1}"; BACKEND_CPU="${BACKEND_CPU:-$LOAD_CPU}"
BODY_BYTES="${BODY_BYTES:-100}"
MERIDIAN_JAR="${MERIDIAN_JAR:-$ROOT/proxy-core/target/meridian.jar}"
BENCH_JAR="${BENCH_JAR:-$ROOT/bench/target/benchmarks.jar}"
MERIDIAN_JAVA_OPTS="${MERIDIAN_JAVA_OPTS--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1}"
MERIDIAN_CONF_EXTRA="${MERIDIAN_CONF_EXTRA:-}"
BASELINE_JAR="${BASELINE_JAR:-}"
BASELINE_JAVA_OPTS="${BASELINE_JAVA_OPTS-$MERIDIAN_JAVA_OPTS}"
MERIDIAN_JAVA="${MERIDIAN_JAVA:-java}"; BASELINE_JAVA="${BASELINE_JAVA:-$MERIDIAN_JAVA}"
BASELINE_CONF_EXTRA="${BASELINE_CONF_EXTRA:-}"
MATCHED_CONF_EXTRA="${MATCHED_CONF_EXTRA-meridian.headers.via = \"\", meridian.headers.forwarded = false, meridian.tracing.enabled = false}"
if [[ -n "$BASELINE_JAR" ]]; then TARGETS="${TARGETS:-direct nginx haproxy baseline meridian meridian-matched}"; fi
TARGETS="${TARGETS:-direct nginx haproxy meridian meridian-matched}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
KEEP_TMP="${KEEP_TMP:-0}"; NO_INSTALL="${NO_INSTALL:-0}"

log() { printf '[suite] %s\n' "$*" >&2; }
die() { printf '[suite] ERROR: %s\n' "$*" >&2; exit 1; }

for n in REPEAT DURATION WARMUP WARMUP_ROUNDS SCENARIO_WARMUP TLS_WARMUP BULK_WARMUP W_SECONDS CONNECTIONS BULK_CONNECTIONS H2_CLIENTS H2_STREAMS \
    HANDSHAKE_CONNECTIONS IDLE_CONNECTIONS BODY_BYTES; do
  [[ "${!n}" =~ ^[0-9]+$ ]] || die "$n must be a whole number (is '${!n}')"
done
(( REPEAT >= 1 && DURATION >= 1 && WARMUP_ROUNDS >= 1 )) || die "REPEAT, DURATION and WARMUP_ROUNDS must be at least 1"
for s in $SCENARIOS; do [[ "$s" =~ ^(S[1-9]|W)$ ]] || die "unknown scenario '$s' (S1..S9, W)"; done
(( W_SECONDS >= 5 )) || ! [[ " $SCENARIOS " == *" W "* ]] || (( QUICK )) || die "W needs W_SECONDS of at least 5"
for t in $TARGETS; do
  case "$t" in
    direct|nginx|haproxy|meridian|meridian-matched) ;;
    baseline) [[ -f "$BASELINE_JAR" ]] || die "target baseline needs BASELINE_JAR (not found: '$BASELINE_JAR')" ;;
    *) die "unknown target '$t' in TARGETS" ;;
  esac
done
has_scenario() { [[ " $SCENARIOS " == *" $1 "* ]]; }
has_target() { [[ " $TARGETS " == *" $1 "* ]]; }

# ---------------------------------------------------------------- prerequisites
if has_target meridian || has_target meridian-matched; then
  [[ -f "$MERIDIAN_JAR" ]] || die "Meridian jar not found at $MERIDIAN_JAR - build first: mvn -q -DskipTests package"
fi
[[ -f "$BENCH_JAR" ]] || die "bench jar not found at $BENCH_JAR - build first: mvn -q -DskipTests package"
command -v java >/dev/null || die "java not found on PATH"
need_pkgs=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_pkgs+=(nginx-light)
has_target haproxy && ! command -v haproxy >/dev/null && [[ ! -x /usr/sbin/haproxy ]] && need_pkgs+=(haproxy)
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v curl >/dev/null || need_pkgs+=(curl)
command -v h2load >/dev/null || need_pkgs+=(nghttp2-client)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v python3 >/dev/null || need_pkgs+=(python3)
if (( ${#need_pkgs[@]} )); then
  [[ "$NO_INSTALL" != "1" ]] || die "missing tools: ${need_pkgs[*]} (NO_INSTALL=1 set)"
  command -v apt-get >/dev/null || die "missing tools: ${need_pkgs[*]} and no apt-get to install them"
  SUDO=""; [[ $EUID -eq 0 ]] || SUDO="sudo"
  log "installing ${need_pkgs[*]} with apt-get"
  $SUDO apt-get update -qq
  # The packages try to start system services; they are not needed (and policy-rc.d may deny them).
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"
NGINX="$(command -v nginx)"; HAPROXY="$(command -v haproxy || true)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(( IDLE_CONNECTIONS + 500 <= $(ulimit -n) )) || ! has_scenario S7 \
  || die "IDLE_CONNECTIONS=$IDLE_CONNECTIONS needs more open files than ulimit -n allows ($(ulimit -n))"

NCPU="$(nproc)"
if (( NCPU < 2 )); then
  log "WARNING: only $NCPU CPU(s); not pinning anything (results will be even noisier)"
  PIN_LOAD=(); PIN_PROXY=(); PIN_BACKEND=()
else
  (( LOAD_CPU < NCPU && PROXY_CPU < NCPU && BACKEND_CPU < NCPU )) || die "LOAD_CPU/PROXY_CPU/BACKEND_CPU must be < $NCPU"
  command -v taskset >/dev/null || die "taskset not found (package util-linux)"
  # Plain command prefixes, so that "$!" of a background start is the server itself.
  PIN_LOAD=(taskset -c "$LOAD_CPU"); PIN_PROXY=(taskset -c "$PROXY_CPU"); PIN_BACKEND=(taskset -c "$BACKEND_CPU")
fi
CLK_TCK="$(getconf CLK_TCK)"
LOADAVG_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${LOADAVG_START%% *}" 'BEGIN {exit !(l > 0.5)}'; then
  log "WARNING: load average is $LOADAVG_START before the run; other work on this machine will distort the figures"
fi

# ---------------------------------------------------------------- temp dir, run dir, cleanup
TMP="$(mktemp -d /tmp/meridian-suite.XXXXXX)"
chmod 755 "$TMP"   # nginx workers may run as another user and must read www/
RUN_DIR="$RESULTS_DIR/suite-$(date +%Y%m%d-%H%M%S)$( (( QUICK )) && echo -quick || true)"
mkdir -p "$RUN_DIR/raw"
RESULTS="$RUN_DIR/results.jsonl"; : > "$RESULTS"
PIDS=(); LOAD_PID=""

stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  [[ -z "$LOAD_PID" ]] || stop_pid "$LOAD_PID"
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [[ "$KEEP_TMP" == "1" || $rc -ne 0 ]]; then log "configs and logs kept in $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
free_ports() {  # prints N free TCP ports on 127.0.0.1, all different
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

render() {  # render TEMPLATE OUT PORT TLS_PORT
  sed -e "s|@DIR@|$TMP|g" -e "s|@PORT@|$3|g" -e "s|@TLS_PORT@|$4|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" \
    "$TEMPLATES/$1" > "$2"
}

wait_port() {  # wait_port PORT PID SECONDS
  local port="$1" pid="$2" secs="$3"
  for _ in $(seq 1 $(( secs * 10 ))); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

cpu_ticks() {  # cpu_ticks PID [user]: CPU ticks (user+system, or user only) of a process and its direct children
  local total=0 p t fields='$12 + $13'
  [[ "${2:-}" != user ]] || fields='$12'
  for p in "$1" $(pgrep -P "$1" 2>/dev/null || true); do
    [[ -r /proc/$p/stat ]] || continue
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk "{print $fields}") || t=0
    total=$(( total + ${t:-0} ))
  done
  echo "$total"
}

core_busy_ticks() {  # busy (non-idle, non-iowait) ticks of one CPU
  awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}

# Runs a load tool on the load core in the background and waits for it, so that Ctrl-C reaches the
# trap at once: on_load OUTFILE COMMAND... A tool still running well past its time is stopped (h2load
# in duration mode sometimes never returns after "Stopped all clients"); its measurement then fails.
on_load() {
  local out="$1"; shift
  "${PIN_LOAD[@]}" timeout -k 5 "$(( DURATION + SCENARIO_WARMUP + WARMUP + 60 ))" "$@" >"$out" 2>&1 &
  LOAD_PID=$!
  wait "$LOAD_PID" || true
  LOAD_PID=""
}

json_str() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "${s//$'\n'/ }"; }
num_or_null() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }

# ---------------------------------------------------------------- files, certificate, backend
mkdir -p "$TMP/www" "$TMP/tls" "$TMP/backend-tmp" "$TMP/proxy-tmp"
BODY=""
while (( ${#BODY} < BODY_BYTES - 1 )); do BODY+="hello from the meridian bench suite backend "; done
printf '%s\n' "${BODY:0:$(( BODY_BYTES > 1 ? BODY_BYTES - 1 : 1 ))}" > "$TMP/www/hello.txt"
head -c 1048576 /dev/urandom > "$TMP/www/1m.bin"
head -c 1048576 /dev/zero | tr '\0' 'm' > "$TMP/upload.bin"
echo "uploaded" > "$TMP/www/uploaded.txt"
chmod 644 "$TMP/www/"*
mkdir -p "$TMP/www/cached" && cp "$TMP/www/hello.txt" "$TMP/www/cached/hello.txt"   # S9: the proxies cache /cached/
chmod 755 "$TMP/www/cached" && chmod 644 "$TMP/www/cached/hello.txt"
# RSA 2048: the server's signature is the costly half of a TLS handshake, so S6 measures the server,
# not the load generator (with ECDSA the client's verification would cost more than the signing).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TMP/tls/site.key" -out "$TMP/tls/site.crt" 2>/dev/null
cat "$TMP/tls/site.crt" "$TMP/tls/site.key" > "$TMP/tls/site.pem"
cat "$TEMPLATES/post.lua" "$TEMPLATES/latency.lua" > "$TMP/post.lua"

read -r BACKEND_PORT NGINX_PORT NGINX_TLS HAPROXY_PORT HAPROXY_TLS MERIDIAN_PORT MERIDIAN_TLS BASELINE_PORT BASELINE_TLS \
  MATCHED_PORT MATCHED_TLS <<<"$(free_ports 11)"
render backend-nginx.conf "$TMP/backend-nginx.conf" 0 0
"$NGINX" -t -q -p "$TMP" -c "$TMP/backend-nginx.conf" 2>"$TMP/backend-nginx.check" \
  || { cat "$TMP/backend-nginx.check" >&2; die "backend nginx config rejected"; }
"${PIN_BACKEND[@]}" "$NGINX" -p "$TMP" -c "$TMP/backend-nginx.conf" >"$TMP/backend-nginx.out" 2>&1 &
BACKEND_PID=$!; PIDS+=("$BACKEND_PID")
wait_port "$BACKEND_PORT" "$BACKEND_PID" 10 || die "static backend did not start (see $TMP/backend-nginx.error.log)"
log "static backend (nginx, 1 worker) on 127.0.0.1:$BACKEND_PORT, cpu $BACKEND_CPU"

# ---------------------------------------------------------------- targets
# JVM options S7 adds for a Meridian target (see run_idle).
IDLE_JAVA_OPTS=""

start_meridian() {  # start_meridian NAME JAR JAVA_OPTS CONF_EXTRA JAVA
  local name="$1" jar="$2" java_opts="$3 $IDLE_JAVA_OPTS" conf_extra="$4" java="$5"
  render meridian.conf "$TMP/$name.conf" "$TARGET_PORT" "$TARGET_TLS"
  [[ -z "$conf_extra" ]] || printf '%s\n' "$conf_extra" >> "$TMP/$name.conf"
  cp "$jar" "$TMP/$name.jar"   # a private copy: a rebuild during the run cannot pull the jar away
  # shellcheck disable=SC2086
  "${PIN_PROXY[@]}" "$java" -XX:ActiveProcessorCount=1 $java_opts -jar "$TMP/$name.jar" \
    run -c "$TMP/$name.conf" >"$TMP/$name.log" 2>&1 &
  TARGET_PID=$!
}

start_target() {  # start_target NAME: sets TARGET_PID, TARGET_PORT, TARGET_TLS; returns 1 on failure
  local t="$1"
  TARGET_PID=""; TARGET_PORT=""; TARGET_TLS=""
  case "$t" in
    direct) TARGET_PORT="$BACKEND_PORT"; TARGET_PID="$BACKEND_PID"; return 0 ;;
    nginx)
      TARGET_PORT="$NGINX_PORT"; TARGET_TLS="$NGINX_TLS"
      render nginx-proxy.conf "$TMP/nginx-proxy.conf" "$TARGET_PORT" "$TARGET_TLS"
      "$NGINX" -t -q -p "$TMP" -c "$TMP/nginx-proxy.conf" 2>"$TMP/nginx-proxy.check" || { cat "$TMP/nginx-proxy.check" >&2; return 1; }
      "${PIN_PROXY[@]}" "$NGINX" -p "$TMP" -c "$TMP/nginx-proxy.conf" >"$TMP/nginx-proxy.out" 2>&1 &
      TARGET_PID=$! ;;
    haproxy)
      [[ -n "$HAPROXY" ]] || { log "haproxy not installed"; return 1; }
      TARGET_PORT="$HAPROXY_PORT"; TARGET_TLS="$HAPROXY_TLS"
      render haproxy.cfg "$TMP/haproxy.cfg" "$TARGET_PORT" "$TARGET_TLS"
      "$HAPROXY" -c -q -f "$TMP/haproxy.cfg" >"$TMP/haproxy.check" 2>&1 || { cat "$TMP/haproxy.check" >&2; return 1; }
      "${PIN_PROXY[@]}" "$HAPROXY" -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.out" 2>&1 &
      TARGET_PID=$! ;;
    meridian)
      TARGET_PORT="$MERIDIAN_PORT"; TARGET_TLS="$MERIDIAN_TLS"
      start_meridian meridian "$MERIDIAN_JAR" "$MERIDIAN_JAVA_OPTS" "$MERIDIAN_CONF_EXTRA" "$MERIDIAN_JAVA" ;;
    baseline)
      TARGET_PORT="$BASELINE_PORT"; TARGET_TLS="$BASELINE_TLS"
      start_meridian baseline "$BASELINE_JAR" "$BASELINE_JAVA_OPTS" "$BASELINE_CONF_EXTRA" "$BASELINE_JAVA" ;;
    meridian-matched)
      TARGET_PORT="$MATCHED_PORT"; TARGET_TLS="$MATCHED_TLS"
      start_meridian meridian-matched "$MERIDIAN_JAR" "$MERIDIAN_JAVA_OPTS" \
        "${MERIDIAN_CONF_EXTRA:+$MERIDIAN_CONF_EXTRA$'\n'}$MATCHED_CONF_EXTRA" "$MERIDIAN_JAVA" ;;
  esac
  PIDS+=("$TARGET_PID")
  if ! wait_port "$TARGET_PORT" "$TARGET_PID" 30 || { [[ -n "$TARGET_TLS" ]] && ! wait_port "$TARGET_TLS" "$TARGET_PID" 10; }; then
    log "$t did not start listening; its output:"
    tail -n 30 "$TMP/$t"*.out "$TMP/$t"*.log >&2 2>/dev/null || true
    return 1
  fi
}

# Checks that the target answers every path correctly, cleartext and (for proxies) TLS with HTTP/1.1
# and HTTP/2; prints what failed and returns 1.
check_target() {
  local t="$1" plain="http://127.0.0.1:$TARGET_PORT" ok=0 v
  cmp -s <(curl -sf --max-time 10 "$plain/hello.txt") "$TMP/www/hello.txt" || { log "$t: GET /hello.txt: wrong answer"; ok=1; }
  cmp -s <(curl -sf --max-time 10 "$plain/1m.bin") "$TMP/www/1m.bin" || { log "$t: GET /1m.bin: wrong body"; ok=1; }
  for v in 1 2; do   # S9's path: filled, then answered from the proxy's cache
    cmp -s <(curl -sf --max-time 10 "$plain/cached/hello.txt") "$TMP/www/hello.txt" || { log "$t: GET /cached/hello.txt ($v): wrong answer"; ok=1; }
  done
  [[ "$(curl -sf --max-time 10 --data-binary "@$TMP/upload.bin" -H 'Content-Type: application/octet-stream' "$plain/upload")" == uploaded ]] \
    || { log "$t: POST /upload (1 MiB): wrong answer"; ok=1; }
  if [[ -n "$TARGET_TLS" ]]; then
    for v in 1.1 2; do
      local got
      got="$(curl -skf --max-time 10 "--http$v" -o "$TMP/$t.tls.body" -w '%{http_version}' "https://127.0.0.1:$TARGET_TLS/hello.txt" || true)"
      [[ "$got" == "$v" ]] && cmp -s "$TMP/$t.tls.body" "$TMP/www/hello.txt" \
        || { log "$t: TLS GET /hello.txt over HTTP/$v: got HTTP/'$got' or a wrong body"; ok=1; }
    done
  fi
  return "$ok"
}

# ---------------------------------------------------------------- measurements
# Each measure_* runs one measured load and sets VALUE, COUNT, ERRORS, LATENCY (JSON or null), NOTE.
parse_wrk() {  # parse_wrk FILE
  VALUE="$(awk '/^Requests\/sec:/ {printf "%.1f", $2}' "$1")"
  COUNT="$(awk '/requests in/ {print $1}' "$1")"
  local socket_errors non2xx
  socket_errors="$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$1")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$1")"
  ERRORS=$(( ${socket_errors:-0} + ${non2xx:-0} ))
  LATENCY="$(sed -n 's/^LATENCY_JSON //p' "$1" | tail -n 1)"; LATENCY="${LATENCY:-null}"
  NOTE=""; (( ERRORS == 0 )) || NOTE="wrk: ${socket_errors:-0} socket errors, ${non2xx:-0} non-2xx"
}

wrk_run() {  # wrk_run OUT SECONDS CONNECTIONS URL [SCRIPT]
  local out="$1" secs="$2" conns="$3" url="$4" script="${5:-$TEMPLATES/latency.lua}"
  on_load "$out" wrk -t1 -c"$conns" -d"${secs}s" --timeout 10s -s "$script" "$url"
}

measure_wrk() {  # measure_wrk RAW CONNECTIONS URL [SCRIPT]
  local raw="$1" conns="$2" url="$3" script="${4:-$TEMPLATES/latency.lua}"
  (( SCENARIO_WARMUP == 0 )) || wrk_run "$raw.warmup" "$SCENARIO_WARMUP" "$conns" "$url" "$script"
  begin_cpu; wrk_run "$raw" "$DURATION" "$conns" "$url" "$script"; end_cpu
  parse_wrk "$raw"
}

measure_h2load() {  # measure_h2load RAW URL
  local raw="$1" url="$2" h2=(h2load -c"$H2_CLIENTS" -m"$H2_STREAMS")
  (( SCENARIO_WARMUP == 0 )) || on_load "$raw.warmup" "${h2[@]}" -D "$SCENARIO_WARMUP" "$url"
  begin_cpu; on_load "$raw" "${h2[@]}" -D "$DURATION" "$url"; end_cpu
  VALUE="$(awk '/^finished in/ {gsub(/,/, ""); printf "%.1f", $4}' "$raw")"
  COUNT="$(awk '/^requests:/ {print $8}' "$raw")"   # succeeded
  local total succeeded s2xx mean
  total="$(awk '/^requests:/ {print $2}' "$raw")"; succeeded="${COUNT:-0}"
  s2xx="$(awk '/^status codes:/ {print $3}' "$raw")"
  ERRORS=$(( ${total:-0} - ${s2xx:-0} )); (( ERRORS >= 0 )) || ERRORS=0
  (( ${total:-0} > 0 )) || ERRORS=1
  mean="$(awk '/^time for request:/ {print $6}' "$raw")"
  LATENCY=null; NOTE="h2load: ${total:-0} requests, $succeeded succeeded, ${s2xx:-0} 2xx; mean request time ${mean:-?}"
}

measure_java() {  # measure_java RAW CLASS ARGS...: a load tool from the bench jar printing one JSON line
  local raw="$1" class="$2"; shift 2
  begin_cpu; on_load "$raw" java -XX:+UseParallelGC -cp "$BENCH_JAR" "$class" "$@"; end_cpu
  JSON="$( (grep '^{' "$raw" || true) | tail -1)"
  [[ -n "$JSON" ]] || { tail -5 "$raw" >&2; JSON="{}"; }
}

json_field() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("null" if v is None else json.dumps(v) if isinstance(v, (dict, list)) else v)' "$1" "$2"; }

begin_cpu() {
  if [[ "$CURRENT" != direct ]]; then CPU_BEFORE="$(cpu_ticks "$TARGET_PID")"; USER_BEFORE="$(cpu_ticks "$TARGET_PID" user)"; fi
  CORE_BEFORE="$(core_busy_ticks "$PROXY_CPU")"; WALL_BEFORE="$(date +%s%N)"
}

end_cpu() {  # sets CPU_PCT, OTHER_PCT (null for direct), CPU_SECONDS and USER_SECONDS
  local wall_ticks core_d proc_d
  wall_ticks="$(awk -v a="$WALL_BEFORE" -v b="$(date +%s%N)" -v hz="$CLK_TCK" 'BEGIN {printf "%.2f", (b - a) / 1e9 * hz}')"
  CPU_PCT=null; OTHER_PCT=null; CPU_SECONDS=0; USER_SECONDS=0
  [[ "$CURRENT" != direct ]] || return 0
  USER_SECONDS="$(awk -v d="$(( $(cpu_ticks "$TARGET_PID" user) - USER_BEFORE ))" -v hz="$CLK_TCK" 'BEGIN {printf "%.3f", d / hz}')"
  proc_d=$(( $(cpu_ticks "$TARGET_PID") - CPU_BEFORE )); core_d=$(( $(core_busy_ticks "$PROXY_CPU") - CORE_BEFORE ))
  CPU_PCT="$(awk -v d="$proc_d" -v w="$wall_ticks" 'BEGIN {printf "%.1f", 100 * d / w}')"
  CPU_SECONDS="$(awk -v d="$proc_d" -v hz="$CLK_TCK" 'BEGIN {printf "%.3f", d / hz}')"
  if (( ${#PIN_PROXY[@]} )); then
    OTHER_PCT="$(awk -v c="$core_d" -v d="$proc_d" -v w="$wall_ticks" 'BEGIN {o = 100 * (c - d) / w; if (o < 0) o = 0; printf "%.1f", o}')"
  fi
}

record() {  # record SCENARIO TITLE METRIC BETTER: appends the measurement in VALUE, COUNT, ... to results.jsonl
  local status=ok per_cpu=null
  if [[ -z "${VALUE:-}" || "$VALUE" == null ]]; then status=failed; VALUE=null
  elif (( ${ERRORS:-0} > 0 )); then status=errors; fi
  if ! kill -0 "$TARGET_PID" 2>/dev/null; then status=died; fi
  if [[ "$CPU_PCT" != null && "${COUNT:-0}" =~ ^[0-9]+$ ]] && awk -v s="$CPU_SECONDS" 'BEGIN {exit !(s > 0)}'; then
    per_cpu="$(awk -v n="$COUNT" -v s="$CPU_SECONDS" 'BEGIN {printf "%.1f", n / s}')"
  fi
  printf '{"scenario":%s,"title":%s,"target":%s,"rep":%d,"metric":%s,"value":%s,"better":%s,"latency_ms":%s,"errors":%d,"proxy_cpu_pct":%s,"per_cpu_s":%s,"other_load_pct":%s,"status":%s,"note":%s}\n' \
    "$(json_str "$1")" "$(json_str "$2")" "$(json_str "$CURRENT")" "$REP" "$(json_str "$3")" "$(num_or_null "$VALUE")" \
    "$(json_str "$4")" "${LATENCY:-null}" "${ERRORS:-0}" "$CPU_PCT" "$per_cpu" "$OTHER_PCT" "$(json_str "$status")" \
    "$(json_str "${NOTE:-}")" >> "$RESULTS"
  [[ "$status" == ok ]] || { FAILURES+=("rep $REP $CURRENT $1: $status ${NOTE:-}"); log "$CURRENT $1: $status ${NOTE:-}"; }
  VALUE=""; COUNT=""; ERRORS=0; LATENCY=null; NOTE=""
}

record_failed() {  # record_failed SCENARIO TITLE METRIC BETTER NOTE
  VALUE=null; CPU_PCT=null; OTHER_PCT=null; NOTE="$5"; record "$1" "$2" "$3" "$4"
}

# The scenarios a target takes part in: the backend itself has no TLS, and its memory is not a proxy's;
# meridian-matched only where each request's headers are work (not S2's fixed rates, handshakes, idle
# memory or warm-up).
applies() {  # applies TARGET SCENARIO
  if [[ "$1" == meridian-matched ]]; then [[ " S1 S3 S4 S5 S8 S9 " == *" $2 "* ]]; return; fi
  if [[ "$2" == W ]]; then [[ "$1" == meridian || "$1" == baseline ]]; return; fi
  [[ "$1" != direct ]] || [[ " S1 S2 S3 S8 " == *" $2 "* ]]
}

STEP=0; STEPS=0; START_SECONDS=$SECONDS
progress() { STEP=$(( STEP + 1 )); log "[$STEP/$STEPS, $(( SECONDS - START_SECONDS ))s] rep $REP/$REPEAT · $CURRENT · $*"; }

run_scenario() {  # run_scenario S
  local s="$1" raw="$RUN_DIR/raw/rep$REP-$CURRENT-$1" plain="http://127.0.0.1:$TARGET_PORT" tls="https://127.0.0.1:$TARGET_TLS"
  case "$s" in
    S1) progress "S1 small GET, wrk -c$CONNECTIONS"
        measure_wrk "$raw.txt" "$CONNECTIONS" "$plain/hello.txt"
        if [[ "$CPU_PCT" != null && "${COUNT:-0}" =~ ^[1-9][0-9]*$ ]]; then
          # Where the proxy's time per request goes: its own code (user) or the kernel's (system).
          NOTE="${NOTE:+$NOTE; }CPU per request: user $(awk -v u="$USER_SECONDS" -v n="$COUNT" 'BEGIN {printf "%.1f", u / n * 1e6}') us, system $(awk -v u="$USER_SECONDS" -v c="$CPU_SECONDS" -v n="$COUNT" 'BEGIN {printf "%.1f", (c - u) / n * 1e6}') us"
        fi
        record S1 "small GET (${BODY_BYTES} B), keep-alive, wrk -c$CONNECTIONS" req/s higher ;;
    S2) local level rate
        for level in $S2_LEVELS; do
          rate="$(awk -v b="$S2_BASE" -v l="$level" 'BEGIN {printf "%.0f", b * l / 100}')"
          progress "S2 open loop at $level% ($rate req/s)"
          # The generator's own JIT needs a few seconds at the rate before its figures mean anything.
          measure_java "$raw-$level.txt" dev.meridian.bench.load.OpenLoopLoad "$plain/hello.txt" "$rate" "$CONNECTIONS" \
            "$(( SCENARIO_WARMUP > S2_WARMUP ? SCENARIO_WARMUP : S2_WARMUP ))" "$DURATION" "$raw-$level.hgrm"
          VALUE="$(json_field "$JSON" achieved)"; COUNT="$(json_field "$JSON" count)"
          ERRORS="$(json_field "$JSON" errors)"; [[ "$ERRORS" =~ ^[0-9]+$ ]] || ERRORS=1
          LATENCY="$(json_field "$JSON" latency_ms)"
          NOTE="asked $rate req/s over $CONNECTIONS connections; errors $(json_field "$JSON" errors_by_kind)"
          record "S2@$level%" "open loop at $level% of the best peer's S1 ($rate req/s), latency from intended send time" req/s higher
        done ;;
    S3) progress "S3 1 MiB GET, wrk -c$BULK_CONNECTIONS"
        measure_wrk "$raw.txt" "$BULK_CONNECTIONS" "$plain/1m.bin"
        record S3 "1 MiB GET, wrk -c$BULK_CONNECTIONS" req/s higher ;;
    S4) progress "S4 HTTP/2 over TLS, h2load -c$H2_CLIENTS -m$H2_STREAMS"
        measure_h2load "$raw.txt" "$tls/hello.txt"
        record S4 "HTTP/2 over TLS to the HTTP/1.1 backend, h2load -c$H2_CLIENTS -m$H2_STREAMS" req/s higher ;;
    S5) progress "S5 1 MiB GET over TLS, wrk -c$BULK_CONNECTIONS"
        measure_wrk "$raw.txt" "$BULK_CONNECTIONS" "$tls/1m.bin"
        record S5 "1 MiB GET over TLS (HTTP/1.1), wrk -c$BULK_CONNECTIONS" req/s higher ;;
    S6) progress "S6 TLS 1.3 full handshakes, $HANDSHAKE_CONNECTIONS connections"
        measure_java "$raw.txt" dev.meridian.bench.load.HandshakeLoad 127.0.0.1 "$TARGET_TLS" "$HANDSHAKE_CONNECTIONS" \
          "$SCENARIO_WARMUP" "$DURATION"
        VALUE="$(json_field "$JSON" handshakes_per_s)"; COUNT="$(json_field "$JSON" handshakes)"
        ERRORS="$(json_field "$JSON" errors)"; [[ "$ERRORS" =~ ^[0-9]+$ ]] || ERRORS=1; LATENCY=null
        NOTE="$(json_field "$JSON" negotiated); client $(json_field "$JSON" client_tls); errors $(json_field "$JSON" errors_by_kind)"
        [[ "$(json_field "$JSON" negotiated)" == TLSv1.3* ]] || { NOTE="not TLS 1.3: $NOTE"; ERRORS=$(( ERRORS + 1 )); }
        record S6 "full TLS 1.3 handshakes (RSA 2048, X25519), $HANDSHAKE_CONNECTIONS connections" handshakes/s higher ;;
    S9) progress "S9 small GET from the proxy's cache, wrk -c$CONNECTIONS"
        measure_wrk "$raw.txt" "$CONNECTIONS" "$plain/cached/hello.txt"
        record S9 "S1's GET (${BODY_BYTES} B) answered from the proxy's own cache, wrk -c$CONNECTIONS" req/s higher ;;
    S8) progress "S8 1 MiB POST, wrk -c$BULK_CONNECTIONS"
        measure_wrk "$raw.txt" "$BULK_CONNECTIONS" "$plain/upload" "$TMP/post.lua"
        record S8 "1 MiB POST, wrk -c$BULK_CONNECTIONS" req/s higher ;;
  esac
}

# S7 for one protocol, on a target started for it alone: memory a process touched once (by other
# scenarios, or by the other protocol's connections) stays in its RSS and would hide the growth.
# A JVM (meridian, baseline) starts with its heap pre-touched, so its RSS grows only outside the heap
# and not by the pages the connections' garbage touches first; the live heap's growth is added (see
# idle_connections.py).
run_idle() {  # run_idle h1|h2
  local proto="$1" raw="$RUN_DIR/raw/rep$REP-$CURRENT-S7-$1" port pids flags=(--json) what="HTTP/1.1" jvm=0
  case "$CURRENT" in meridian|baseline) jvm=1; IDLE_JAVA_OPTS="-XX:+AlwaysPreTouch"; flags+=(--heap) ;; esac
  if ! start_target "$CURRENT" || ! check_target "$CURRENT"; then
    IDLE_JAVA_OPTS=""
    record_failed "S7-$proto" "S7-$proto" KiB/conn lower "did not start or answered wrongly"
    [[ -z "$TARGET_PID" ]] || stop_pid "$TARGET_PID"
    return 0
  fi
  IDLE_JAVA_OPTS=""
  # A short warm-up, so that memory any traffic touches once (JIT, buffers) is not counted.
  wrk_run "$TMP/idle-warmup.txt" 3 "$CONNECTIONS" "http://127.0.0.1:$TARGET_PORT/hello.txt"
  port="$TARGET_PORT"
  if [[ "$proto" == h2 ]]; then
    on_load "$TMP/idle-warmup-h2.txt" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -D 2 "https://127.0.0.1:$TARGET_TLS/hello.txt"
    port="$TARGET_TLS"; flags+=(--h2); what="HTTP/2 over TLS"
  fi
  progress "S7-$proto $IDLE_CONNECTIONS idle connections (a fresh process)"
  pids="$TARGET_PID $( (pgrep -P "$TARGET_PID" || true) | tr '\n' ' ')"
  CPU_PCT=null; OTHER_PCT=null
  # shellcheck disable=SC2086
  on_load "$raw.txt" python3 "$SCRIPT_DIR/idle_connections.py" "$port" "$IDLE_CONNECTIONS" /hello.txt $pids "${flags[@]}"
  JSON="$( (grep '^{' "$raw.txt" || true) | tail -1)"
  if [[ -n "$JSON" ]]; then
    VALUE="$(json_field "$JSON" kib_per_connection)"; ERRORS=0
    NOTE="RSS $(json_field "$JSON" rss_before_kib) -> $(json_field "$JSON" rss_after_kib) KiB"
    if (( jvm )); then
      local heap; heap="$(json_field "$JSON" live_heap_kib_per_connection)"
      if [[ "$heap" == null ]]; then
        NOTE="$NOTE (heap pre-touched; live heap unknown: jcmd failed)"
      else
        NOTE="$NOTE (heap pre-touched: $VALUE KiB/conn outside the heap) + live heap $heap KiB/conn"
        VALUE="$(python3 -c "print(round($VALUE + $heap, 2))")"
      fi
    fi
  else
    VALUE=null; NOTE="$(tail -1 "$raw.txt")"
  fi
  COUNT=0; LATENCY=null
  record "S7-$proto" "memory per idle keep-alive connection, $what, $IDLE_CONNECTIONS connections (RSS growth; a JVM's: outside its pre-touched heap, plus live heap growth)" KiB/conn lower
  stop_pid "$TARGET_PID"
}

# W for one protocol, on a target started for it alone: the rate of each one-second slice of load
# from the first request on, and the seconds until a slice reaches 90% of the last five's median.
run_warmup() {  # run_warmup h1|h2
  local proto="$1" raw="$RUN_DIR/raw/rep$REP-$CURRENT-W-$1" i rate rates="" what
  if ! start_target "$CURRENT" || ! check_target "$CURRENT"; then
    record_failed "W-$proto" "W-$proto" s lower "did not start or answered wrongly"
    [[ -z "$TARGET_PID" ]] || stop_pid "$TARGET_PID"
    return 0
  fi
  what="S1's load (HTTP/1.1, wrk -c$CONNECTIONS)"
  [[ "$proto" == h1 ]] || what="S4's load (HTTP/2 over TLS, h2load -c$H2_CLIENTS -m$H2_STREAMS)"
  progress "W-$proto warm-up of a fresh process, $W_SECONDS one-second slices of $what"
  ERRORS=0; : > "$raw.txt"
  begin_cpu
  for (( i = 1; i <= W_SECONDS; i++ )); do
    if [[ "$proto" == h1 ]]; then
      on_load "$raw.slice" wrk -t1 -c"$CONNECTIONS" -d1s "http://127.0.0.1:$TARGET_PORT/hello.txt"
      rate="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$raw.slice")"
      grep -q 'Non-2xx\|Socket errors' "$raw.slice" && ERRORS=$(( ERRORS + 1 ))
    else
      on_load "$raw.slice" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" -D 1 "https://127.0.0.1:$TARGET_TLS/hello.txt"
      rate="$(awk '/^finished in/ {gsub(/,/, ""); printf "%.0f", $4}' "$raw.slice")"
      awk '/^requests:/ {exit !($2 != $8)}' "$raw.slice" && ERRORS=$(( ERRORS + 1 ))
    fi
    [[ -n "$rate" ]] || { rate=0; ERRORS=$(( ERRORS + 1 )); }
    cat "$raw.slice" >> "$raw.txt"; rates+="$rate "
  done
  end_cpu
  rm -f "$raw.slice"
  read -r VALUE NOTE < <(python3 - $rates <<'PY'
import statistics, sys
rates = [int(r) for r in sys.argv[1:]]
final = statistics.median(rates[-5:])
reach = next((i + 1 for i, r in enumerate(rates) if final > 0 and r >= 0.9 * final), None)
tenth = f"{100 * rates[9] / final:.0f}%" if len(rates) >= 10 and final > 0 else "n/a"
print("null" if reach is None else reach,
      f"final rate {final:.0f}/s (median of the last 5); the 10th second at {tenth} of it; per second: {' '.join(map(str, rates))}")
PY
)
  COUNT=null; LATENCY=null
  record "W-$proto" "warm-up from a fresh process under $what: seconds until a one-second slice reaches 90% of the final rate" s lower
  stop_pid "$TARGET_PID"
}

# The order scenarios run in on a started target: S2 right after S1, while the JIT state is the one
# S1 measured. S7 runs before them, on processes of its own (run_idle).
ORDERED=""
for s in S1 S2 S3 S8 S4 S5 S6 S9; do has_scenario "$s" && ORDERED+="$s "; done

# ---------------------------------------------------------------- S2 base rate
S2_BASE="$S2_BASE_RATE"
if has_scenario S2 && [[ -z "$S2_BASE" ]]; then
  best=0
  for CURRENT in nginx haproxy; do
    has_target "$CURRENT" || continue
    start_target "$CURRENT" || die "$CURRENT did not start for the S2 calibration"
    cal="$(( (WARMUP + 5) / 6 ))"; (( cal >= 1 )) || cal=1
    log "S2 calibration: $CURRENT S1 rate (${cal}s warm-up, ${cal}s measured)"
    wrk_run "$TMP/cal-$CURRENT.warmup" "$cal" "$CONNECTIONS" "http://127.0.0.1:$TARGET_PORT/hello.txt"
    wrk_run "$TMP/cal-$CURRENT.txt" "$cal" "$CONNECTIONS" "http://127.0.0.1:$TARGET_PORT/hello.txt"
    stop_pid "$TARGET_PID"
    rate="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$TMP/cal-$CURRENT.txt")"
    (( ${rate:-0} > best )) && best="$rate"
  done
  (( best > 0 )) || die "S2 needs a base rate: measure nginx or HAProxy (TARGETS), or set S2_BASE_RATE"
  S2_BASE="$best"
fi
[[ -z "$S2_BASE" ]] || log "S2 base rate: $S2_BASE req/s (levels: $S2_LEVELS %)"

# ---------------------------------------------------------------- the run
read -r -a TARGET_LIST <<<"$TARGETS"
for t in "${TARGET_LIST[@]}"; do
  for s in $ORDERED $(has_scenario S7 && echo S7 || true) $(has_scenario W && echo W || true); do
    applies "$t" "$s" || continue
    case "$s" in S2) n=$(wc -w <<<"$S2_LEVELS") ;; S7|W) n=2 ;; *) n=1 ;; esac
    STEPS=$(( STEPS + n * REPEAT ))
  done
done
FAILURES=()
for (( REP = 1; REP <= REPEAT; REP++ )); do
  for (( k = 0; k < ${#TARGET_LIST[@]}; k++ )); do
    CURRENT="${TARGET_LIST[$(( (k + REP - 1) % ${#TARGET_LIST[@]} ))]}"
    if has_scenario S7 && applies "$CURRENT" S7; then run_idle h1; run_idle h2; fi
    if has_scenario W && applies "$CURRENT" W; then run_warmup h1; run_warmup h2; fi
    [[ -n "$ORDERED" ]] || continue
    if ! start_target "$CURRENT" || ! check_target "$CURRENT"; then
      for s in $ORDERED; do applies "$CURRENT" "$s" && record_failed "$s" "$s" "-" higher "did not start or answered wrongly"; done
      [[ "$CURRENT" == direct || -z "$TARGET_PID" ]] || stop_pid "$TARGET_PID"
      continue
    fi
    if (( WARMUP > 0 )); then
      log "rep $REP/$REPEAT · $CURRENT · warm-up ${WARMUP}s in $WARMUP_ROUNDS round(s)"
      for (( round = 1; round <= WARMUP_ROUNDS; round++ )); do
        wrk_run "$TMP/warmup.txt" "$(( (WARMUP + WARMUP_ROUNDS - 1) / WARMUP_ROUNDS ))" "$CONNECTIONS" "http://127.0.0.1:$TARGET_PORT/hello.txt"
        if (( TLS_WARMUP > 0 )) && [[ -n "$TARGET_TLS" ]] && { has_scenario S4 || has_scenario S5; }; then
          on_load "$TMP/warmup-tls.txt" h2load -c"$H2_CLIENTS" -m"$H2_STREAMS" \
            -D "$(( (TLS_WARMUP + WARMUP_ROUNDS - 1) / WARMUP_ROUNDS ))" "https://127.0.0.1:$TARGET_TLS/hello.txt"
        fi
        if (( BULK_WARMUP > 0 )) && { has_scenario S3 || has_scenario S5 || has_scenario S8; }; then
          bulk=$(( (BULK_WARMUP + 2 * WARMUP_ROUNDS - 1) / (2 * WARMUP_ROUNDS) ))
          wrk_run "$TMP/warmup-bulk.txt" "$bulk" "$BULK_CONNECTIONS" "http://127.0.0.1:$TARGET_PORT/1m.bin"
          wrk_run "$TMP/warmup-bulk.txt" "$bulk" "$BULK_CONNECTIONS" "http://127.0.0.1:$TARGET_PORT/upload" "$TMP/post.lua"
        fi
      done
    fi
    for s in $ORDERED; do
      applies "$CURRENT" "$s" || continue
      run_scenario "$s"
    done
    if [[ "$CURRENT" == meridian* || "$CURRENT" == baseline ]]; then cp "$TMP/$CURRENT.log" "$RUN_DIR/raw/rep$REP-$CURRENT.log"; fi
    [[ "$CURRENT" == direct ]] || stop_pid "$TARGET_PID"
    kill -0 "$BACKEND_PID" 2>/dev/null || die "the static backend exited (see $TMP/backend-nginx.error.log)"
  done
done

# ---------------------------------------------------------------- report
tcnative_version="$(unzip -p "$MERIDIAN_JAR" "META-INF/maven/io.netty/netty-tcnative-boringssl-static/pom.properties" 2>/dev/null | sed -n 's/^version=//p' || true)"
export RUN_JSON_DATE="$(date -Is)" RUN_JSON_HOST="$(uname -srm)" RUN_JSON_CPUS="$NCPU" \
  RUN_JSON_CPU_MODEL="$(awk -F: '/model name/ {sub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)" \
  RUN_JSON_GIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+local changes)')" \
  RUN_JSON_JDK="$("$MERIDIAN_JAVA" -version 2>&1 | head -1)$( [[ -z "$BASELINE_JAR" || "$BASELINE_JAVA" == "$MERIDIAN_JAVA" ]] || echo "; baseline: $("$BASELINE_JAVA" -version 2>&1 | head -1)")" \
  RUN_JSON_MERIDIAN="java -XX:ActiveProcessorCount=1 $MERIDIAN_JAVA_OPTS, one event loop${MERIDIAN_CONF_EXTRA:+; config added: $MERIDIAN_CONF_EXTRA}" \
  RUN_JSON_MERIDIAN_MATCHED="$(has_target meridian-matched && echo "the same jar and options; config added: $MATCHED_CONF_EXTRA")" \
  RUN_JSON_BASELINE="$( [[ -z "$BASELINE_JAR" ]] || echo "$(basename "$BASELINE_JAR"): java -XX:ActiveProcessorCount=1 $BASELINE_JAVA_OPTS${BASELINE_CONF_EXTRA:+; config added: $BASELINE_CONF_EXTRA}")" \
  RUN_JSON_NGINX="$("$NGINX" -V 2>&1 | sed -n 's/^nginx version: //p'), $("$NGINX" -V 2>&1 | sed -n 's/^built with //p' | head -1), 1 worker" \
  RUN_JSON_HAPROXY="$([[ -z "$HAPROXY" ]] || echo "$("$HAPROXY" -v 2>/dev/null | head -1 | awk '{print "HAProxy " $3}'), $("$HAPROXY" -vv 2>/dev/null | sed -n 's/^Running on //p' | head -1), nbthread 1")" \
  RUN_JSON_MERIDIAN_TLS="BoringSSL from netty-tcnative-boringssl-static ${tcnative_version:-?}" \
  RUN_JSON_TOOLS="$(wrk -v 2>&1 | head -1 | awk '{print $1 " " $2}'), $(h2load --version 2>&1 | head -1), $(curl --version | head -1 | awk '{print $1 " " $2}'), python $(python3 -c 'import ssl, platform; print(platform.python_version(), ssl.OPENSSL_VERSION)')" \
  RUN_JSON_PLACEMENT="proxy on cpu $PROXY_CPU alone; load tools on cpu $LOAD_CPU, backend (nginx, 1 worker) on cpu $BACKEND_CPU" \
  RUN_JSON_SETTINGS="repeat $REPEAT, ${DURATION}s measured, ${WARMUP}s warm-up (+${TLS_WARMUP}s HTTP/2 over TLS when S4 or S5 runs, +${BULK_WARMUP}s of 1 MiB GETs and POSTs when S3, S5 or S8 runs) in $WARMUP_ROUNDS round(s) at start, ${SCENARIO_WARMUP}s before each scenario$( (( QUICK )) && echo ', --quick' || true)${S2_BASE:+; S2 base rate $S2_BASE req/s}" \
  RUN_JSON_LOADAVG_START="$LOADAVG_START" RUN_JSON_LOADAVG_END="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RUN_DIR/run.json" <<'PY'
import json, os, sys
run = {k[len("RUN_JSON_"):].lower(): v for k, v in sorted(os.environ.items()) if k.startswith("RUN_JSON_") and v}
json.dump(run, open(sys.argv[1], "w"), indent=2)
PY
java -cp "$BENCH_JAR" dev.meridian.bench.suite.BenchReport "$RUN_DIR" >&2 || log "the report could not be written"
[[ ! -f "$RUN_DIR/report.md" ]] || cat "$RUN_DIR/report.md"
log "results in $RUN_DIR"
if (( ${#FAILURES[@]} )); then
  log "${#FAILURES[@]} measurement(s) failed:"; printf '  %s\n' "${FAILURES[@]}" >&2
  exit 1
fi

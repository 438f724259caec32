#!/usr/bin/env bash
# Peer comparison: Meridian against nginx and HAProxy, all in front of the same static backend.
#
# One run starts a static nginx backend, then measures, one after the other:
#   direct   - wrk straight at the backend (baseline of this machine's load generator + backend)
#   nginx    - nginx reverse proxy, 1 worker, upstream keep-alive
#   haproxy  - HAProxy, nbthread 1, http mode, keep-alive/reuse to the backend
#   meridian - java -XX:ActiveProcessorCount=1 -jar meridian.jar run -c <generated conf>
# Each proxy is pinned to PROXY_CPU (default core 1); wrk and the backend share LOAD_CPU (core 0).
# Every target gets a warm-up (JIT for Meridian) and then a measured wrk --latency run.
# A summary table goes to stdout and to bench/results/peers-<date>.txt. See bench/README.md.
#
# Environment (defaults in brackets):
#   DURATION [10]      measured seconds per target       CONNECTIONS [50]  wrk connections
#   REPEAT [1]         repetitions; each starts every target afresh, the order rotating from one
#                      repetition to the next, and the table shows each figure's median (this
#                      machine's noise is +-20% between runs: compare medians of 3 or more)
#   WARMUP [15]        warm-up seconds per target        THREADS [1]       wrk threads
#   WARMUP_ROUNDS [3]  the warm-up is this many wrk runs, so the JIT also sees connections close and
#                      open before the measurement: after one long run, the first close deoptimizes
#                      Meridian's hot I/O path and C2 recompiles it during the measured run (15% of
#                      the core for ~10 s), which made single-warm-up figures bimodal
#   LOAD_CPU [0]       core for wrk                      PROXY_CPU [1]     core for the proxy under test
#   BACKEND_CPU [LOAD_CPU] core for the static backend   BODY_BYTES [100]  size of the backend's body
#   TARGETS ["direct nginx haproxy meridian"]            SKIP_MERIDIAN [0] 1 = leave Meridian out
#   MERIDIAN_JAR [proxy-core/target/meridian.jar]        MERIDIAN_JAVA_OPTS [] extra JVM flags
#   BASELINE_JAR []    a second Meridian jar (e.g. built from the commit before a change): adds target
#                      "baseline" before "meridian", and the report gives meridian's ratio to it, so a
#                      change on the forwarding path is measured before and after in one run
#   BASELINE_JAVA_OPTS [MERIDIAN_JAVA_OPTS]  JVM flags for the baseline target
#   MERIDIAN_CONF_EXTRA, BASELINE_CONF_EXTRA []  HOCON appended to that target's generated config,
#                      e.g. 'meridian.server.transport = epoll': two settings compared in one run
#                      (BASELINE_JAR may then be the same jar as MERIDIAN_JAR)
#   RESULTS_DIR [bench/results]                          KEEP_TMP [0]      1 = keep configs and logs
#   NO_INSTALL [0]     1 = never apt-get install missing tools
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TEMPLATES="$SCRIPT_DIR/peers"

DURATION="${DURATION:-10}";       DURATION="${DURATION%s}"
WARMUP="${WARMUP:-15}";           WARMUP="${WARMUP%s}"
WARMUP_ROUNDS="${WARMUP_ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-50}"
THREADS="${THREADS:-1}"
REPEAT="${REPEAT:-1}"
LOAD_CPU="${LOAD_CPU:-0}"
PROXY_CPU="${PROXY_CPU:-1}"
BACKEND_CPU="${BACKEND_CPU:-$LOAD_CPU}"
BODY_BYTES="${BODY_BYTES:-100}"
BASELINE_JAR="${BASELINE_JAR:-}"
if [[ -n "$BASELINE_JAR" ]]; then TARGETS="${TARGETS:-direct nginx haproxy baseline meridian}"; fi
TARGETS="${TARGETS:-direct nginx haproxy meridian}"
SKIP_MERIDIAN="${SKIP_MERIDIAN:-0}"
MERIDIAN_JAR="${MERIDIAN_JAR:-$ROOT/proxy-core/target/meridian.jar}"
MERIDIAN_JAVA_OPTS="${MERIDIAN_JAVA_OPTS:-}"
BASELINE_JAVA_OPTS="${BASELINE_JAVA_OPTS:-$MERIDIAN_JAVA_OPTS}"
MERIDIAN_CONF_EXTRA="${MERIDIAN_CONF_EXTRA:-}"
BASELINE_CONF_EXTRA="${BASELINE_CONF_EXTRA:-}"
RESULTS_DIR="${RESULTS_DIR:-$ROOT/bench/results}"
KEEP_TMP="${KEEP_TMP:-0}"
NO_INSTALL="${NO_INSTALL:-0}"

log()  { printf '[peers] %s\n' "$*" >&2; }
die()  { printf '[peers] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ "$SKIP_MERIDIAN" == "1" ]]; then
  TARGETS="$(tr ' ' '\n' <<<"$TARGETS" | grep -vx meridian | tr '\n' ' ')"
fi
for t in $TARGETS; do
  case "$t" in direct|nginx|haproxy|meridian) ;; baseline) [[ -f "$BASELINE_JAR" ]] || die "target baseline needs BASELINE_JAR (not found: '$BASELINE_JAR')";; *) die "unknown target '$t' in TARGETS";; esac
done
[[ "$DURATION" =~ ^[0-9]+$ && "$WARMUP" =~ ^[0-9]+$ && "$WARMUP_ROUNDS" =~ ^[1-9][0-9]*$ && "$CONNECTIONS" =~ ^[0-9]+$ && "$THREADS" =~ ^[0-9]+$ \
  && "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "DURATION, WARMUP, CONNECTIONS, THREADS and REPEAT must be whole numbers (REPEAT >= 1)"

# ---------------------------------------------------------------- prerequisites
if [[ " $TARGETS " == *" meridian "* ]]; then
  [[ -f "$MERIDIAN_JAR" ]] || die "Meridian jar not found at $MERIDIAN_JAR - build first: mvn -q -DskipTests package (or SKIP_MERIDIAN=1)"
  command -v java >/dev/null || die "java not found on PATH (Java 17 needed to run Meridian)"
fi

need_pkgs=()
command -v nginx   >/dev/null || [[ -x /usr/sbin/nginx ]]   || need_pkgs+=(nginx-light)
[[ " $TARGETS " != *" haproxy "* ]] || command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || need_pkgs+=(haproxy)
command -v wrk     >/dev/null || need_pkgs+=(wrk)
command -v curl    >/dev/null || need_pkgs+=(curl)
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
NGINX="$(command -v nginx)"; WRK="$(command -v wrk)"
HAPROXY="$(command -v haproxy || true)"

NCPU="$(nproc)"
if (( NCPU < 2 )); then
  log "WARNING: only $NCPU CPU(s); not pinning anything (results will be even noisier)"
  PIN_LOAD=(); PIN_PROXY=(); PIN_BACKEND=()
else
  (( LOAD_CPU < NCPU && PROXY_CPU < NCPU && BACKEND_CPU < NCPU )) || die "LOAD_CPU/PROXY_CPU/BACKEND_CPU must be < $NCPU"
  command -v taskset >/dev/null || die "taskset not found (package util-linux)"
  # Plain command prefixes (not a function) so that "$!" of a background start is the server itself:
  # taskset execs the program, which then gets the pid that cleanup signals.
  PIN_LOAD=(taskset -c "$LOAD_CPU"); PIN_PROXY=(taskset -c "$PROXY_CPU"); PIN_BACKEND=(taskset -c "$BACKEND_CPU")
fi
CLK_TCK="$(getconf CLK_TCK)"
LOADAVG_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${LOADAVG_START%% *}" 'BEGIN {exit !(l > 0.5)}'; then
  log "WARNING: load average is $LOADAVG_START before the run; other work on this machine will distort the figures"
fi

# ---------------------------------------------------------------- temp dir, cleanup
TMP="$(mktemp -d /tmp/meridian-peers.XXXXXX)"
chmod 755 "$TMP"   # nginx workers may run as another user and must read www/
PIDS=()

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
  local rc=$?
  trap - EXIT INT TERM
  local pid
  [[ -z "${WRK_PID:-}" ]] || stop_pid "$WRK_PID"
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  if [[ "$KEEP_TMP" == "1" || $rc -ne 0 ]]; then
    log "configs and logs kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- helpers
# Prints N free TCP ports on 127.0.0.1, all different.
free_ports() {
  local n="$1"
  if command -v python3 >/dev/null && python3 -c 'import socket' 2>/dev/null; then
    python3 - "$n" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
  else
    local out=() p
    while (( ${#out[@]} < n )); do
      p=$(( 20000 + RANDOM % 40000 ))
      [[ " ${out[*]} " == *" $p "* ]] && continue
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then out+=("$p"); fi
    done
    echo "${out[*]}"
  fi
}

render() {  # render TEMPLATE OUT PORT
  sed -e "s|@DIR@|$TMP|g" -e "s|@PORT@|$3|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" "$TEMPLATES/$1" > "$2"
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

# CPU ticks (user+system) of a process and its direct children.
cpu_ticks() {
  local pid="$1" total=0 p t
  for p in "$pid" $(pgrep -P "$pid" 2>/dev/null || true); do
    [[ -r /proc/$p/stat ]] || continue
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    total=$(( total + ${t:-0} ))
  done
  echo "$total"
}

# Runs wrk on the load core: run_wrk OUTFILE ARGS... It runs in the background and is waited for,
# so that Ctrl-C reaches this script's trap at once (wrk itself catches SIGINT and exits 0, after
# which bash would carry on with the next target).
WRK_PID=""
run_wrk() {
  local wrk_out="$1"; shift
  "${PIN_LOAD[@]}" "$WRK" "$@" >"$wrk_out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || true
  WRK_PID=""
}

# Busy (non-idle, non-iowait) ticks of one CPU, from /proc/stat.
core_busy_ticks() {
  awk -v c="cpu$1" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat
}

# wrk latency value ("447.00us", "1.23ms", "2.00s", "1.00m") -> milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : (u == "h") ? 3600000 : -1;
    if (f < 0 || n == "") print "NA"; else printf "%.3f", n * f }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }

# ---------------------------------------------------------------- static backend
read -r BACKEND_PORT NGINX_PORT HAPROXY_PORT MERIDIAN_PORT BASELINE_PORT <<<"$(free_ports 5)"
mkdir -p "$TMP/www" "$TMP/backend-tmp" "$TMP/proxy-tmp"
BODY_LEN=$(( BODY_BYTES > 1 ? BODY_BYTES - 1 : 1 ))   # plus the trailing newline
BODY=""
while (( ${#BODY} < BODY_LEN )); do BODY+="hello from the meridian peer benchmark backend "; done
BODY="${BODY:0:BODY_LEN}"
printf '%s\n' "$BODY" > "$TMP/www/hello.txt"
chmod 644 "$TMP/www/hello.txt"

render backend-nginx.conf "$TMP/backend-nginx.conf" 0
"$NGINX" -t -q -p "$TMP" -c "$TMP/backend-nginx.conf" 2>"$TMP/backend-nginx.check" \
  || { cat "$TMP/backend-nginx.check" >&2; die "backend nginx config rejected"; }
"${PIN_BACKEND[@]}" "$NGINX" -p "$TMP" -c "$TMP/backend-nginx.conf" >"$TMP/backend-nginx.out" 2>&1 &
BACKEND_PID=$!; PIDS+=("$BACKEND_PID")
wait_port "$BACKEND_PORT" "$BACKEND_PID" 10 || { cat "$TMP/backend-nginx.out" "$TMP/backend-nginx.error.log" >&2 2>/dev/null; die "static backend did not start"; }
log "static backend (nginx, 1 worker, ${BODY_BYTES}-byte body) on 127.0.0.1:$BACKEND_PORT, cpu $BACKEND_CPU"

# ---------------------------------------------------------------- targets
declare -A RPS P50 P99 ERRS NON2XX CPU EFF OTHER STATUS REQS

start_meridian() {  # start_meridian NAME JAR JAVA_OPTS CONF_EXTRA: runs a Meridian jar on TARGET_PORT, sets TARGET_PID
  local name="$1" jar="$2" java_opts="$3" conf_extra="$4"
  render meridian.conf "$TMP/$name.conf" "$TARGET_PORT"
  [[ -z "$conf_extra" ]] || printf '%s\n' "$conf_extra" >> "$TMP/$name.conf"
  # Run a private copy so a rebuild of proxy-core/target during the run cannot pull the jar away.
  cp "$jar" "$TMP/$name.jar"
  # shellcheck disable=SC2086
  "${PIN_PROXY[@]}" java -XX:ActiveProcessorCount=1 $java_opts -jar "$TMP/$name.jar" \
    run -c "$TMP/$name.conf" >"$TMP/$name.log" 2>&1 &
  TARGET_PID=$!
}

start_target() {  # sets TARGET_PID and TARGET_PORT; returns 1 on failure
  local t="$1"
  TARGET_PID=""; TARGET_PORT=""
  case "$t" in
    direct)
      TARGET_PORT="$BACKEND_PORT"; TARGET_PID="$BACKEND_PID"; return 0 ;;
    nginx)
      TARGET_PORT="$NGINX_PORT"
      render nginx-proxy.conf "$TMP/nginx-proxy.conf" "$TARGET_PORT"
      "$NGINX" -t -q -p "$TMP" -c "$TMP/nginx-proxy.conf" 2>"$TMP/nginx-proxy.check" || { cat "$TMP/nginx-proxy.check" >&2; return 1; }
      "${PIN_PROXY[@]}" "$NGINX" -p "$TMP" -c "$TMP/nginx-proxy.conf" >"$TMP/nginx-proxy.out" 2>&1 &
      TARGET_PID=$! ;;
    haproxy)
      [[ -n "$HAPROXY" ]] || { log "haproxy not installed"; return 1; }
      TARGET_PORT="$HAPROXY_PORT"
      render haproxy.cfg "$TMP/haproxy.cfg" "$TARGET_PORT"
      "$HAPROXY" -c -q -f "$TMP/haproxy.cfg" >"$TMP/haproxy.check" 2>&1 || { cat "$TMP/haproxy.check" >&2; return 1; }
      "${PIN_PROXY[@]}" "$HAPROXY" -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.out" 2>&1 &
      TARGET_PID=$! ;;
    meridian)
      TARGET_PORT="$MERIDIAN_PORT"; start_meridian meridian "$MERIDIAN_JAR" "$MERIDIAN_JAVA_OPTS" "$MERIDIAN_CONF_EXTRA" ;;
    baseline)
      TARGET_PORT="$BASELINE_PORT"; start_meridian baseline "$BASELINE_JAR" "$BASELINE_JAVA_OPTS" "$BASELINE_CONF_EXTRA" ;;
  esac
  PIDS+=("$TARGET_PID")
  if ! wait_port "$TARGET_PORT" "$TARGET_PID" 30; then
    log "$t did not start listening on $TARGET_PORT; its output:"
    tail -n 30 "$TMP/$t"*.out "$TMP/$t"*.log >&2 2>/dev/null || true
    return 1
  fi
}

run_target() {
  local t="$1" url code out p50 p99 e n before after core_before core_after
  STATUS[$t]="FAILED"
  if ! start_target "$t"; then return 0; fi
  url="http://127.0.0.1:$TARGET_PORT/"
  # Correctness check before any load: one request must come back 200 with the backend's body.
  code="$(curl -s -o "$TMP/$t.body" -D "$TMP/$t.headers" -w '%{http_code}' --max-time 10 "$url" || true)"
  if [[ "$code" != "200" ]] || ! cmp -s "$TMP/$t.body" "$TMP/www/hello.txt"; then
    log "$t: sanity request to $url gave HTTP '$code' or a wrong body; skipping"
    cat "$TMP/$t.headers" >&2 2>/dev/null || true
    return 0
  fi
  if (( WARMUP > 0 )); then
    log "$t: warm-up ${WARMUP}s in $WARMUP_ROUNDS round(s) on $url"
    for ((round = 1; round <= WARMUP_ROUNDS; round++)); do
      run_wrk "$TMP/$t.warmup.txt" -t"$THREADS" -c"$CONNECTIONS" -d"$(( (WARMUP + WARMUP_ROUNDS - 1) / WARMUP_ROUNDS ))s" "$url"
    done
    sleep 1
  fi
  log "$t: measuring ${DURATION}s, ${THREADS} thread(s), ${CONNECTIONS} connections"
  before="$(cpu_ticks "$TARGET_PID")"; core_before="$(core_busy_ticks "$PROXY_CPU")"
  run_wrk "$TMP/$t.wrk.txt" --latency -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" "$url"
  after="$(cpu_ticks "$TARGET_PID")"; core_after="$(core_busy_ticks "$PROXY_CPU")"
  # Where Meridian's log stood when the load ended: what follows comes from the shutdown.
  if [[ "$t" == "meridian" ]]; then MERIDIAN_LOG_LINES="$(wc -l < "$TMP/meridian.log")"; fi
  out="$TMP/$t.wrk.txt"
  RAW+=$'\n'"===== $t ($url) ====="$'\n'"$(cat "$out")"$'\n'

  RPS[$t]="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")"
  REQS[$t]="$(awk '/requests in/ {print $1}' "$out")"
  p50="$(awk '/Latency Distribution/ {d=1} d && $1=="50%" {print $2; exit}' "$out")"
  p99="$(awk '/Latency Distribution/ {d=1} d && $1=="99%" {print $2; exit}' "$out")"
  P50[$t]="$(to_ms "${p50:-x}")"; P99[$t]="$(to_ms "${p99:-x}")"
  e="$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$out")"
  n="$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")"
  ERRS[$t]="${e:-0}"; NON2XX[$t]="${n:-0}"
  if [[ "$t" == "direct" ]]; then
    CPU[$t]="-"; EFF[$t]="-"; OTHER[$t]="-"   # the backend shares the load core with wrk; its CPU share says little
  else
    CPU[$t]="$(awk -v d=$(( after - before )) -v hz="$CLK_TCK" -v s="$DURATION" 'BEGIN {printf "%.0f%%", 100 * d / hz / s}')"
    # Requests served per second of proxy CPU: comparable even when the load core, not the proxy, is the limit.
    EFF[$t]="$(awk -v d=$(( after - before )) -v hz="$CLK_TCK" -v r="${REQS[$t]:-0}" 'BEGIN {if (d > 0 && r > 0) printf "%.0f", r / (d / hz); else print "NA"}')"
    # CPU time on the proxy's core not used by the proxy: other processes stealing its core (noise).
    if (( ${#PIN_PROXY[@]} )); then
      OTHER[$t]="$(awk -v c=$(( core_after - core_before )) -v d=$(( after - before )) -v hz="$CLK_TCK" -v s="$DURATION" \
        'BEGIN {o = 100 * (c - d) / hz / s; if (o < 0) o = 0; printf "%.0f%%", o}')"
    else
      OTHER[$t]="NA"
    fi
  fi
  if [[ -n "${RPS[$t]}" ]]; then STATUS[$t]="ok"; fi
  if [[ "${ERRS[$t]}" != "0" || "${NON2XX[$t]}" != "0" ]]; then
    STATUS[$t]="errors"
    log "$t: wrk saw ${ERRS[$t]} socket errors and ${NON2XX[$t]} non-2xx/3xx responses"
  fi
  if ! kill -0 "$TARGET_PID" 2>/dev/null; then
    STATUS[$t]="died"; log "$t: the process exited during the run"
  fi
}

median() {  # median FORMAT NUMBERS...: the median in the printf FORMAT (NA when none); ignores NA and dashes
  local format="$1"; shift
  tr ' ' '\n' <<<"$*" | grep -E '^[0-9.]+$' | sort -g | awk -v f="$format" '{v[NR] = $1} END {
    if (NR == 0) print "NA"; else if (NR % 2) printf f "\n", v[(NR + 1) / 2]; else printf f "\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

declare -A ALL_RPS ALL_P50 ALL_P99 ALL_EFF ALL_CPU ALL_OTHER WORST
read -r -a TARGET_LIST <<<"$TARGETS"
RAW=""
for (( rep = 0; rep < REPEAT; rep++ )); do
  (( REPEAT == 1 )) || log "repetition $(( rep + 1 )) of $REPEAT"
  for (( k = 0; k < ${#TARGET_LIST[@]}; k++ )); do
    t="${TARGET_LIST[$(( (k + rep) % ${#TARGET_LIST[@]} ))]}"
    run_target "$t"
    if [[ "$t" != "direct" && -n "${TARGET_PID:-}" ]]; then stop_pid "$TARGET_PID"; fi
    kill -0 "$BACKEND_PID" 2>/dev/null || die "the static backend exited (see $TMP/backend-nginx.error.log)"
    ALL_RPS[$t]+="${RPS[$t]:-NA} "; ALL_P50[$t]+="${P50[$t]:-NA} "; ALL_P99[$t]+="${P99[$t]:-NA} "
    ALL_EFF[$t]+="${EFF[$t]:-NA} "; ALL_CPU[$t]+="${CPU[$t]%\%} "; ALL_OTHER[$t]+="${OTHER[$t]%\%} "
    # A target keeps the worst status any repetition gave it.
    if [[ "${STATUS[$t]}" != "ok" || -z "${WORST[$t]:-}" ]]; then WORST[$t]="${STATUS[$t]}"; fi
    sleep 1
  done
done
if (( REPEAT > 1 )); then
  for t in $TARGETS; do
    RPS[$t]="$(median %.0f ${ALL_RPS[$t]})"; P50[$t]="$(median %.3f ${ALL_P50[$t]})"; P99[$t]="$(median %.3f ${ALL_P99[$t]})"
    if [[ "$t" != "direct" ]]; then
      EFF[$t]="$(median %.0f ${ALL_EFF[$t]})"; CPU[$t]="$(median %.0f ${ALL_CPU[$t]})%"; OTHER[$t]="$(median %.0f ${ALL_OTHER[$t]})%"
    fi
    STATUS[$t]="${WORST[$t]}"
  done
fi

# ---------------------------------------------------------------- report
mkdir -p "$RESULTS_DIR"
STAMP="$(date +%Y%m%d-%H%M%S)"
RESULT_FILE="$RESULTS_DIR/peers-$STAMP.txt"
{
  echo "Meridian peer benchmark  $(date -Is)"
  echo "host: $(uname -sr), $NCPU cpu(s), $(awk -F: '/model name/ {sub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo 2>/dev/null)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (+local changes)')"
  echo "versions: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $([[ -n "$HAPROXY" ]] && "$HAPROXY" -v 2>/dev/null | head -1 | awk '{print "haproxy/" $3}'), $("$WRK" -v 2>&1 | head -1 | awk '{print $1 "/" $2}'), $(java -version 2>&1 | head -1 | tr -d '"' | awk '{print "java/" $3}')"
  echo "loadavg at start: $LOADAVG_START (anything well above 0 means other work shared the cores)"
  echo "load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency after ${WARMUP}s warm-up in $WARMUP_ROUNDS round(s); wrk on cpu $LOAD_CPU, backend on cpu $BACKEND_CPU, proxies on cpu $PROXY_CPU"
  if (( REPEAT > 1 )); then
    echo "repetitions: $REPEAT, target order rotated each time; figures are medians (errors: last repetition)"
    for t in $TARGETS; do echo "  $t req/s per repetition: ${ALL_RPS[$t]}"; done
  fi
  echo "backend: nginx 1 worker, ${BODY_BYTES}-byte static body$([[ " $TARGETS " != *" meridian "* ]] || echo "; Meridian JVM flags: -XX:ActiveProcessorCount=1 $MERIDIAN_JAVA_OPTS")"
  [[ -z "$MERIDIAN_CONF_EXTRA" ]] || echo "meridian config added: $MERIDIAN_CONF_EXTRA"
  [[ " $TARGETS " != *" baseline "* ]] || echo "baseline: $(basename "$BASELINE_JAR"), JVM flags: -XX:ActiveProcessorCount=1 $BASELINE_JAVA_OPTS${BASELINE_CONF_EXTRA:+; config added: $BASELINE_CONF_EXTRA}"
  echo
  printf '%-9s %10s %9s %9s %7s %8s %9s %10s %7s  %s\n' target "req/s" "p50 ms" "p99 ms" "errors" "non-2xx" "proxy cpu" "req/cpu-s" "other" status
  printf '%-9s %10s %9s %9s %7s %8s %9s %10s %7s  %s\n' --------- ---------- --------- --------- ------- -------- --------- ---------- ------- ------
  for t in $TARGETS; do
    printf '%-9s %10s %9s %9s %7s %8s %9s %10s %7s  %s\n' "$t" "${RPS[$t]:-NA}" "${P50[$t]:-NA}" "${P99[$t]:-NA}" \
      "${ERRS[$t]:-NA}" "${NON2XX[$t]:-NA}" "${CPU[$t]:-NA}" "${EFF[$t]:-NA}" "${OTHER[$t]:-NA}" "${STATUS[$t]:-FAILED}"
  done
  if [[ " $TARGETS " == *" meridian "* ]]; then
    echo
    echo "Meridian relative to its peers (throughput and req/cpu-s: higher is better, 1.00 = parity; p99: lower is better):"
    for peer in nginx haproxy; do
      [[ " $TARGETS " == *" $peer "* ]] || continue
      printf '  vs %-8s throughput x%s   p99 x%s   req/cpu-s x%s\n' "$peer" \
        "$(ratio "${RPS[meridian]:-NA}" "${RPS[$peer]:-NA}")" "$(ratio "${P99[meridian]:-NA}" "${P99[$peer]:-NA}")" \
        "$(ratio "${EFF[meridian]:-NA}" "${EFF[$peer]:-NA}")"
    done
    if [[ " $TARGETS " == *" baseline "* ]]; then
      for peer in nginx haproxy; do
        [[ " $TARGETS " == *" $peer "* ]] || continue
        printf '  baseline vs %-8s throughput x%s   p99 x%s   req/cpu-s x%s\n' "$peer" \
          "$(ratio "${RPS[baseline]:-NA}" "${RPS[$peer]:-NA}")" "$(ratio "${P99[baseline]:-NA}" "${P99[$peer]:-NA}")" \
          "$(ratio "${EFF[baseline]:-NA}" "${EFF[$peer]:-NA}")"
      done
      printf '  meridian vs baseline (%s): throughput x%s   p99 x%s   req/cpu-s x%s\n' "$(basename "$BASELINE_JAR")" \
        "$(ratio "${RPS[meridian]:-NA}" "${RPS[baseline]:-NA}")" "$(ratio "${P99[meridian]:-NA}" "${P99[baseline]:-NA}")" \
        "$(ratio "${EFF[meridian]:-NA}" "${EFF[baseline]:-NA}")"
    fi
    if [[ -f "$TMP/meridian.log" ]]; then
      n_load="${MERIDIAN_LOG_LINES:-$(wc -l < "$TMP/meridian.log")}"
      for part in "startup and load" shutdown; do
        if [[ "$part" == shutdown ]]; then lines="$(tail -n +"$(( n_load + 1 ))" "$TMP/meridian.log")"
        else lines="$(head -n "$n_load" "$TMP/meridian.log")"; fi
        w="$(grep -c -E 'WARN|ERROR|Exception' <<<"$lines" || true)"
        echo "  Meridian log, $part: $(grep -c . <<<"$lines" || true) lines, $w with WARN/ERROR/Exception"
        if [[ "$w" != "0" ]]; then grep -E 'WARN|ERROR|Exception' <<<"$lines" | sort | uniq -c | sort -rn | head -5 | sed 's/^/    /'; fi
      done
    fi
  fi
} > "$TMP/summary.txt"

cat "$TMP/summary.txt"
{
  cat "$TMP/summary.txt"; echo; echo "Raw wrk output:"; echo "$RAW"
  if [[ -f "$TMP/meridian.log" ]]; then echo "===== Meridian log (first 300 lines) ====="; head -n 300 "$TMP/meridian.log"; fi
} > "$RESULT_FILE"
log "written to $RESULT_FILE"

rc=0
for t in $TARGETS; do [[ "${STATUS[$t]:-FAILED}" == "ok" ]] || rc=1; done
exit "$rc"

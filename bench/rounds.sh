#!/usr/bin/env bash
# S1 (or S4) against nginx and HAProxy in short interleaved rounds, for a ratio that a noisy host
# cannot tilt: every proxy runs side by side on the proxy core (each idle while another is measured),
# is warmed up, and then each round measures every proxy once for a few seconds, the order rotated
# from round to round. The ratios are taken within each round and their medians reported.
#
# Why: on the shared development host the whole machine slows down for minutes at a time (the
# proxy's CPU per request rising by half for every process at once, with nothing else running in the
# machine). bench/suite.sh measures one target after another, a minute or more each, so such a period
# can fall on one target alone and move its ratio by a third; here it falls on every target of the
# rounds it covers, and the per-round ratios stay put.
#
# usage: bench/rounds.sh [--h2] [MERIDIAN_JAR]
#   default   S1's load: wrk -t1 -c50, small GET over HTTP/1.1 (with p99 and p99.9 from wrk)
#   --h2      S4's load: h2load -c10 -m10, HTTP/2 over TLS
#   MERIDIAN_JAR [proxy-core/target/meridian.jar]
#
# Prints one line per measurement (req/s, proxy CPU per request in microseconds, failures, p99 and
# p99.9 in ms), then per target the medians, and for Meridian the medians of its per-round ratios to
# nginx, to HAProxy, to the better of the two (the higher median rate over all rounds; for the tail,
# the lower median p99), and to the baseline jar. The order is rotated each round and reversed every
# other round. Everything is also written under bench/results/rounds-<time>/.
#
# Environment (defaults in brackets):
#   ROUNDS [12]  ROUND_SECONDS [5]  WARMUP [30; 45 with --h2] seconds of load per target before the
#                rounds, in 10 s slices alternating between the targets
#   BASELINE_JAR [none]  a second Meridian jar measured as "baseline" (the build before a change)
#   JAVA [java]  JAVA_OPTS [the options README recommends]  CONF [meridian.conf] (a template in bench/suite)
#   LOAD_CPU [0] (load tool and the nginx backend)  PROXY_CPU [1] (every proxy)
#   KEEP_TMP [0]  1 = keep the configs and logs
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TEMPLATES="$SCRIPT_DIR/suite"
# shellcheck source=site.sh
source "$SCRIPT_DIR/site.sh"
H2=0
if [[ "${1:-}" == "--h2" ]]; then H2=1; shift; fi
(( $# <= 1 )) || { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }
MERIDIAN_JAR="$(realpath "${1:-$ROOT/proxy-core/target/meridian.jar}")"
BASELINE_JAR="${BASELINE_JAR:+$(realpath "$BASELINE_JAR")}"
ROUNDS="${ROUNDS:-12}"; ROUND_SECONDS="${ROUND_SECONDS:-5}"; WARMUP="${WARMUP:-$(( H2 ? 45 : 30 ))}"
JAVA="${JAVA:-java}"
JAVA_OPTS="${JAVA_OPTS--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1}"
CONF="${CONF:-meridian.conf}"; LOAD_CPU="${LOAD_CPU:-0}"; PROXY_CPU="${PROXY_CPU:-1}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"; HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"

die() { echo "[rounds] $*" >&2; exit 1; }
for f in "$MERIDIAN_JAR" ${BASELINE_JAR:+"$BASELINE_JAR"}; do [[ -f "$f" ]] || die "no such jar: $f"; done
for tool in taskset python3 openssl curl "$NGINX" "$HAPROXY" "$JAVA"; do command -v "$tool" >/dev/null || die "$tool not found"; done
if (( H2 )); then command -v h2load >/dev/null || die "h2load not found (package nghttp2-client)"
else command -v wrk >/dev/null || die "wrk not found (package wrk)"; fi
(( ROUNDS >= 1 && ROUND_SECONDS >= 1 )) || die "ROUNDS and ROUND_SECONDS must be at least 1"

TARGETS=(nginx haproxy meridian); [[ -z "$BASELINE_JAR" ]] || TARGETS+=(baseline)
TMP="$(mktemp -d /tmp/meridian-rounds.XXXXXX)"
OUT="$SCRIPT_DIR/results/rounds-$(date +%Y%m%d-%H%M%S)"; mkdir -p "$OUT"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then echo "[rounds] files kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

read -r BACKEND_PORT PORT_nginx TLS_nginx PORT_haproxy TLS_haproxy PORT_meridian TLS_meridian \
  PORT_baseline TLS_baseline <<<"$(free_ports 9)"
make_site "$TMP"
mkdir -p "$TMP/proxy-tmp"
cat "$TMP/tls/site.crt" "$TMP/tls/site.key" > "$TMP/tls/site.pem"
render backend-nginx.conf "$TMP/backend.conf" 0 0
taskset -c "$LOAD_CPU" "$NGINX" -p "$TMP" -c "$TMP/backend.conf" >"$TMP/backend.out" 2>&1 &
PIDS+=($!)

start() {  # start TARGET: starts it on the proxy core and sets PID_<TARGET>
  local t="$1" port_var="PORT_$1" tls_var="TLS_$1" pid
  case "$t" in
    nginx)
      render nginx-proxy.conf "$TMP/nginx.conf" "${!port_var}" "${!tls_var}"
      taskset -c "$PROXY_CPU" "$NGINX" -p "$TMP" -c "$TMP/nginx.conf" >"$TMP/nginx.log" 2>&1 & ;;
    haproxy)
      render haproxy.cfg "$TMP/haproxy.cfg" "${!port_var}" "${!tls_var}"
      taskset -c "$PROXY_CPU" "$HAPROXY" -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 & ;;
    meridian|baseline)
      local jar="$MERIDIAN_JAR"; [[ "$t" == meridian ]] || jar="$BASELINE_JAR"
      render "$CONF" "$TMP/$t.conf" "${!port_var}" "${!tls_var}"
      # shellcheck disable=SC2086 # the options are words
      taskset -c "$PROXY_CPU" "$JAVA" -XX:ActiveProcessorCount=1 $JAVA_OPTS -jar "$jar" \
        run -c "$TMP/$t.conf" >"$TMP/$t.log" 2>&1 & ;;
  esac
  pid=$!; PIDS+=("$pid"); printf -v "PID_$t" '%s' "$pid"
  wait_up "${!port_var}" "$pid" || { cat "$TMP/$t.log" >&2; die "$t did not start"; }
}
load() {  # load TARGET SECONDS: runs the scenario's load tool against TARGET, prints its output
  local port_var="PORT_$1" tls_var="TLS_$1"
  if (( H2 )); then
    taskset -c "$LOAD_CPU" h2load -c10 -m10 -D "$2" "https://127.0.0.1:${!tls_var}/hello.txt" 2>&1
  else
    taskset -c "$LOAD_CPU" wrk -t1 -c50 -d"$2"s -s "$TEMPLATES/latency.lua" "http://127.0.0.1:${!port_var}/hello.txt" 2>&1
  fi
}
measure() {  # measure TARGET: one round's measurement, "rps cpu_us failures p99 p99.9"
  local pid_var="PID_$1" before after
  before="$(cpu_ticks "${!pid_var}")"
  load "$1" "$ROUND_SECONDS" > "$TMP/round.txt"
  after="$(cpu_ticks "${!pid_var}")"
  round_stats "$H2" "$before" "$after" "$TMP/round.txt"
}

for t in "${TARGETS[@]}"; do start "$t"; done
{
  echo "date: $(date -Is); host: $(uname -srm), $(nproc) cpus; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "load: $( (( H2 )) && echo "h2load -c10 -m10, HTTP/2 over TLS" || echo "wrk -t1 -c50, HTTP/1.1, small GET")," \
    "warm-up ${WARMUP}s per target, $ROUNDS rounds of ${ROUND_SECONDS}s per target, order rotated each round"
  echo "placement: every proxy on cpu $PROXY_CPU (one measured at a time); load tool and nginx backend on cpu $LOAD_CPU"
  echo "nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), 1 worker; $("$HAPROXY" -v 2>/dev/null | head -1 | awk '{print "HAProxy " $3}'), nbthread 1"
  echo "meridian: $MERIDIAN_JAR ($("$JAVA" -version 2>&1 | head -1); $JAVA_OPTS; $CONF)"
  [[ -z "$BASELINE_JAR" ]] || echo "baseline: $BASELINE_JAR"
} | tee "$OUT/header.txt" >&2
for (( s = 0; s < WARMUP; s += 10 )); do
  slice=$(( WARMUP - s < 10 ? WARMUP - s : 10 ))
  for t in "${TARGETS[@]}"; do load "$t" "$slice" >/dev/null; done
done

: > "$OUT/rounds.txt"
n=${#TARGETS[@]}
for (( r = 1; r <= ROUNDS; r++ )); do
  for (( k = 0; k < n; k++ )); do
    # Rotated each round, and backwards every other round, so that no target always follows the same one.
    if (( r % 2 )); then i=$(( (k + r - 1) % n )); else i=$(( (n - 1 - k + r - 1) % n )); fi
    t="${TARGETS[$i]}"
    m="$(measure "$t")" || die "$t: the round's measurement failed (see the load tool's output in $TMP/round.txt)"
    [[ "$(wc -w <<<"$m")" == 5 && "${m%% *}" != 0 ]] || die "$t answered nothing in round $r: '$m'"
    echo "round $r $t $m" | tee -a "$OUT/rounds.txt"
  done
done

python3 - "$OUT/rounds.txt" <<'PY' | tee "$OUT/summary.txt"
import collections, statistics as st, sys
# round R TARGET rps cpu failed p99 p99.9
by_round = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    _, r, t, rps, cpu, failed, p99, p999 = line.split()
    tail = p99 != "-"
    by_round[int(r)][t] = (float(rps), float(cpu), int(failed),
                           float(p99) if tail else None, float(p999) if tail else None)
rounds = list(by_round.values())
targets = list(rounds[0])
for t in targets:
    rows = [r[t] for r in rounds]
    text = f"{t:9} median {st.median(x[0] for x in rows):8.0f} req/s, {st.median(x[1] for x in rows):6.2f} us CPU/request, {sum(x[2] for x in rows)} failed"
    if rows[0][3] is not None:
        text += f", p99 {st.median(x[3] for x in rows):.2f} ms, p99.9 {st.median(x[4] for x in rows):.2f} ms"
    print(text)
def ratio(pick, value):
    got = []
    for r in rounds:
        other = pick(r)
        if other is None or value(r["meridian"]) is None: return None
        got.append(value(r["meridian"]) / value(other))
    return st.median(got)
# The better peer is chosen once, by its median rate over all rounds (a per-round maximum of two noisy
# peers would pick each round's luckier one and bias the ratio against Meridian); likewise the peer
# with the lower median p99 for the tail.
median_of = lambda t, i: st.median(r[t][i] for r in rounds)
best = max(("nginx", "haproxy"), key=lambda t: median_of(t, 0))
better = lambda r: r[best]
tail_peer = min(("nginx", "haproxy"), key=lambda t: median_of(t, 3)) if rounds[0]["nginx"][3] is not None else best
lower_tail = lambda r: r[tail_peer]
print(f"meridian / peer, medians of the per-round ratios (better peer: {best}"
      + (f", lower tail: {tail_peer})" if rounds[0]["nginx"][3] is not None else ")") + ":")
for name, pick in (("nginx", lambda r: r["nginx"]), ("haproxy", lambda r: r["haproxy"]),
                   ("better peer", better), ("baseline", lambda r: r.get("baseline"))):
    req = ratio(pick, lambda x: x[0])
    if req is None: continue
    cpu = ratio(pick, lambda x: x[1])
    text = f"  vs {name:11} req/s x{req:.3f}, CPU per request x{cpu:.3f}"
    if rounds[0]["meridian"][3] is not None:
        p99 = ratio(lower_tail if name == "better peer" else pick, lambda x: x[3])
        p999 = ratio(lower_tail if name == "better peer" else pick, lambda x: x[4])
        text += f", p99 x{p99:.2f}, p99.9 x{p999:.2f}" + (" (against the lower tail's peer)" if name == "better peer" else "")
    print(text)
PY
echo "[rounds] results in $OUT" >&2

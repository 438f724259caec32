#!/usr/bin/env bash
# Paired A/B of two Meridian jars (or two sets of JVM options) on one scenario, for changes too small
# for bench/suite.sh to resolve on a noisy host: both proxies run side by side on the proxy core (each
# idle while the other is measured), are warmed up, then measured in short alternating rounds (A B,
# B A, A B, ...). Each round pair sees nearly the same host noise, so the median of the per-pair
# ratios is far steadier than a ratio of two medians taken minutes apart.
#
# usage: bench/ab.sh [--h2] JAR_A JAR_B
#   default   S1's load: wrk -t1 -c50, small GET over HTTP/1.1
#   --h2      S4's load: h2load -c10 -m10, HTTP/2 over TLS
#
# Prints, per round, requests/s and microseconds of proxy CPU (user + system) per request (and, on
# S1's load, the round's p99 and p99.9 latency in ms, from wrk's histogram), then the medians and the
# median of the B/A ratios of the pairs. CPU per request is the steadiest of them; a tail ratio needs
# all 16 rounds (a 5 s round's p99.9 rests on about a hundred requests).
#
# Both orders (the default): the whole comparison runs twice, the second time with the jars (and
# their JAVA_* settings) swapped, and the last line gives B/A with the position cancelled, the
# geometric mean of the first pass's B/A and the inverse of the second's. On the development host a
# jar measured in the B position came out about 2% slower than in the A position, as large as the
# changes this script is for; the last line gives that position effect too. ORDERS=1 runs one pass.
#
# Environment (defaults in brackets):
#   ROUNDS [16]  measured rounds per jar      ROUND_SECONDS [5]  seconds per round
#   KEEP_TMP [0]  1 = keep the configs and logs
#   WARMUP [30; 40 with --h2]  seconds of load per jar before the rounds (in 10 s runs, alternating)
#   JAVA_A, JAVA_B [java]   JAVA_OPTS_A, JAVA_OPTS_B [the options README recommends:
#                                  "-Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1"]
#   LOAD_CPU [0] (load tool and the nginx backend)   PROXY_CPU [1] (both proxies)
#   ORDERS [2]  2 = both orders (twice the time), 1 = the jars in the order given only
#   CONF_A, CONF_B [meridian.conf]  each proxy's configuration template in bench/suite; give the same
#                jar twice with two templates to measure a feature's cost (meridian-sticky.conf: the
#                route has a sticky-session cookie, signed by a keys file made here;
#                meridian-cache.conf: the route has an edge cache, so every request after the first is a hit;
#                meridian-access-log.conf: the access log on, to a file in the run's temporary directory;
#                meridian-no-tracing.conf: W3C trace context propagation off;
#                meridian-no-metrics.conf: admin.metrics = false, no meter recorded;
#                meridian-limits.conf: per-address connection and request-rate limits on, never reached;
#                meridian-backend-limits.conf: the group's per-backend limit on, never reached;
#                meridian-io-uring.conf: the io_uring transport instead of auto's epoll)
#   COOKIE_FROM [none]  A or B: fetch the Set-Cookie of that proxy's first answer and send it with
#                every request of both (a sticky client whose pin is honoured on every request)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="$SCRIPT_DIR/suite"
# shellcheck source=site.sh
source "$SCRIPT_DIR/site.sh"
H2=0
if [[ "${1:-}" == "--h2" ]]; then H2=1; shift; fi
(( $# == 2 )) || { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }
JAR_A="$(realpath "$1")"; JAR_B="$(realpath "$2")"
ROUNDS="${ROUNDS:-16}"; ROUND_SECONDS="${ROUND_SECONDS:-5}"; WARMUP="${WARMUP:-$(( H2 ? 40 : 30 ))}"
JAVA_A="${JAVA_A:-java}"; JAVA_B="${JAVA_B:-java}"
JAVA_OPTS_A="${JAVA_OPTS_A--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1}"
JAVA_OPTS_B="${JAVA_OPTS_B--Xms512m -Xmx512m -XX:+UseParallelGC -XX:+AlwaysPreTouch -XX:InitialTenuringThreshold=1}"
LOAD_CPU="${LOAD_CPU:-0}"; PROXY_CPU="${PROXY_CPU:-1}"
CONF_A="${CONF_A:-meridian.conf}"; CONF_B="${CONF_B:-meridian.conf}"; COOKIE_FROM="${COOKIE_FROM:-}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

die() { echo "[ab] $*" >&2; exit 1; }

if [[ "${ORDERS:-2}" == 2 ]]; then
  # One pass as given, one with A and B swapped; each pass is this script with ORDERS=1.
  h2_flag=(); (( H2 )) && h2_flag=(--h2)
  first="$(ORDERS=1 "$0" "${h2_flag[@]}" "$JAR_A" "$JAR_B")" || exit 1
  echo "$first"
  echo "[ab] second pass, the jars swapped (A is now $JAR_B)" >&2
  swapped_cookie=""; [[ "${COOKIE_FROM:-}" == A ]] && swapped_cookie=B; [[ "${COOKIE_FROM:-}" == B ]] && swapped_cookie=A
  # Read before the swap: bash assigns a command's prefix left to right, so JAVA_OPTS_B="$JAVA_OPTS_A"
  # after JAVA_OPTS_A="$JAVA_OPTS_B" would give B's value to both (until 2026-12-07 it did).
  java_a="$JAVA_A"; java_b="$JAVA_B"; opts_a="$JAVA_OPTS_A"; opts_b="$JAVA_OPTS_B"
  conf_a="${CONF_A:-meridian.conf}"; conf_b="${CONF_B:-meridian.conf}"
  second="$(ORDERS=1 JAVA_A="$java_b" JAVA_B="$java_a" JAVA_OPTS_A="$opts_b" JAVA_OPTS_B="$opts_a" \
    CONF_A="$conf_b" CONF_B="$conf_a" COOKIE_FROM="$swapped_cookie" \
    "$0" "${h2_flag[@]}" "$JAR_B" "$JAR_A")" || exit 1
  echo "$second"
  python3 - "$first" "$second" <<'PY'
import math, re, sys
def ratios(text):
    m = re.search(r"B/A  req/s x([\d.]+), CPU per request x([\d.]+)", text)
    return float(m.group(1)), float(m.group(2))
(r1, c1), (r2, c2) = ratios(sys.argv[1]), ratios(sys.argv[2])
print(f"B/A both orders  req/s x{math.sqrt(r1 / r2):.3f}, CPU per request x{math.sqrt(c1 / c2):.3f}"
      f" (position effect of B: req/s x{math.sqrt(r1 * r2):.3f}, CPU x{math.sqrt(c1 * c2):.3f})")
tails = [re.search(r"B/A  p99 x([\d.]+), p99.9 x([\d.]+)", t) for t in sys.argv[1:3]]
if all(tails):
    (p1, q1), (p2, q2) = [(float(t.group(1)), float(t.group(2))) for t in tails]
    print(f"B/A both orders  p99 x{math.sqrt(p1 / p2):.3f}, p99.9 x{math.sqrt(q1 / q2):.3f}")
PY
  exit 0
fi
for f in "$JAR_A" "$JAR_B"; do [[ -f "$f" ]] || die "no such jar: $f"; done
for tool in taskset python3 openssl curl "$NGINX"; do command -v "$tool" >/dev/null || die "$tool not found"; done
if (( H2 )); then command -v h2load >/dev/null || die "h2load not found (package nghttp2-client)"
else command -v wrk >/dev/null || die "wrk not found (package wrk)"; fi

TMP="$(mktemp -d /tmp/meridian-ab.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP_TMP:-0}" == 1 ]]; then echo "[ab] files kept in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

read -r BACKEND_PORT PORT_A TLS_A PORT_B TLS_B <<<"$(free_ports 5)"

make_site "$TMP"
python3 -c 'import base64, os; print("[{\"id\": \"bench\", \"secret\": \"" + base64.b64encode(os.urandom(32)).decode() + "\"}]")' \
  > "$TMP/sticky-keys.json"
render backend-nginx.conf "$TMP/backend.conf" 0 0
taskset -c "$LOAD_CPU" "$NGINX" -p "$TMP" -c "$TMP/backend.conf" >"$TMP/backend.out" 2>&1 &
PIDS+=($!)
for name in A B; do
  jar_var="JAR_$name"; java_var="JAVA_$name"; opts_var="JAVA_OPTS_$name"; port_var="PORT_$name"; tls_var="TLS_$name"
  conf_var="CONF_$name"
  render "${!conf_var}" "$TMP/$name.conf" "${!port_var}" "${!tls_var}"
  # shellcheck disable=SC2086 # the options are words
  taskset -c "$PROXY_CPU" "${!java_var}" -XX:ActiveProcessorCount=1 ${!opts_var} -jar "${!jar_var}" \
    run -c "$TMP/$name.conf" >"$TMP/$name.log" 2>&1 &
  pid=$!; PIDS+=("$pid"); printf -v "PID_$name" '%s' "$pid"
  wait_up "${!port_var}" "$pid" || { cat "$TMP/$name.log" >&2; die "Meridian $name did not start"; }
done

HEADER=()
if [[ -n "$COOKIE_FROM" ]]; then
  port_var="PORT_$COOKIE_FROM"
  cookie="$(curl -s -D - -o /dev/null "http://127.0.0.1:${!port_var}/hello.txt" | tr -d '\r' \
    | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)"
  [[ -n "$cookie" ]] || die "proxy $COOKIE_FROM set no cookie (CONF_$COOKIE_FROM: a sticky route?)"
  echo "[ab] every request sends Cookie: $cookie" >&2
  HEADER=(-H "Cookie: $cookie")
fi
load() {  # load PORT TLS_PORT SECONDS: runs the scenario's load tool, prints its output
  if (( H2 )); then
    taskset -c "$LOAD_CPU" h2load -c10 -m10 -D "$3" "${HEADER[@]}" "https://127.0.0.1:$2/hello.txt" 2>&1
  else
    taskset -c "$LOAD_CPU" wrk -t1 -c50 -d"$3"s -s "$TEMPLATES/latency.lua" "${HEADER[@]}" \
      "http://127.0.0.1:$1/hello.txt" 2>&1
  fi
}
round() {  # round NAME: prints "rps cpu_us_per_request failures p99_ms p99.9_ms" (latency "-" on HTTP/2)
  local pid_var="PID_$1" port_var="PORT_$1" tls_var="TLS_$1" before after
  before="$(cpu_ticks "${!pid_var}")"
  load "${!port_var}" "${!tls_var}" "$ROUND_SECONDS" > "$TMP/round.txt"
  after="$(cpu_ticks "${!pid_var}")"
  round_stats "$H2" "$before" "$after" "$TMP/round.txt"
}

echo "[ab] A: $JAR_A (${JAVA_A} ${JAVA_OPTS_A}, $CONF_A)" >&2
echo "[ab] B: $JAR_B (${JAVA_B} ${JAVA_OPTS_B}, $CONF_B)" >&2
echo "[ab] load: $( (( H2 )) && echo "h2load -c10 -m10, HTTP/2 over TLS" || echo "wrk -t1 -c50, HTTP/1.1")," \
  "warm-up ${WARMUP}s each, $ROUNDS rounds of ${ROUND_SECONDS}s each" >&2
for (( s = 0; s < WARMUP; s += 10 )); do
  load "$PORT_A" "$TLS_A" 10 >/dev/null; load "$PORT_B" "$TLS_B" 10 >/dev/null
done

: > "$TMP/rounds.txt"
for (( r = 1; r <= ROUNDS; r++ )); do
  if (( r % 2 )); then a="$(round A)"; b="$(round B)"; else b="$(round B)"; a="$(round A)"; fi
  echo "round $r  A $a  B $b" | tee -a "$TMP/rounds.txt"
done

python3 - "$TMP/rounds.txt" <<'PY'
import statistics as st, sys
# round N  A rps cpu failed p99 p99.9  B rps cpu failed p99 p99.9
rows = [line.split() for line in open(sys.argv[1])]
ra, ca, fa = [float(r[3]) for r in rows], [float(r[4]) for r in rows], sum(int(r[5]) for r in rows)
rb, cb, fb = [float(r[9]) for r in rows], [float(r[10]) for r in rows], sum(int(r[11]) for r in rows)
tails = rows[0][6] != "-"
def tail_text(r, at):
    return f", p99 {st.median(float(x[at]) for x in r):.2f} ms, p99.9 {st.median(float(x[at + 1]) for x in r):.2f} ms"
print(f"A  median {st.median(ra):.0f} req/s, {st.median(ca):.2f} us CPU/request, {fa} failed"
      + (tail_text(rows, 6) if tails else ""))
print(f"B  median {st.median(rb):.0f} req/s, {st.median(cb):.2f} us CPU/request, {fb} failed"
      + (tail_text(rows, 12) if tails else ""))
print(f"B/A  req/s x{st.median(b / a for a, b in zip(ra, rb)):.3f}, "
      f"CPU per request x{st.median(b / a for a, b in zip(ca, cb)):.3f} (medians of the round pairs)")
if tails:
    def ratio(at):
        return st.median(float(r[at + 6]) / float(r[at]) for r in rows)
    print(f"B/A  p99 x{ratio(6):.3f}, p99.9 x{ratio(7):.3f} (medians of the round pairs)")
PY

#!/usr/bin/env bash
# The JVM matrix: Meridian's S1 (small GET, keep-alive, wrk -c50) under each garbage collector on
# Java 17 and Java 25, each candidate measured in its own bench/suite.sh run beside the reference
# options (interleaved repetitions, so the host's drift hits both alike). Writes a Markdown table of
# req/s, p99 and p99.9 with each candidate's ratio to the reference under
# bench/results/jvm-matrix-<time>.md. See bench/README.md ("Choosing the JVM options").
#
# usage: bench/jvm-matrix.sh [LABEL ...]   (default: every candidate below)
#
# Environment: JAVA17 [java], JAVA25 [/usr/lib/jvm/temurin-25-jdk-amd64/bin/java],
#   HEAP ["-Xms512m -Xmx512m"], REFERENCE_OPTS ["$HEAP -XX:+UseParallelGC"] on JAVA17,
#   SCENARIOS ["S1"]; REPEAT, DURATION, WARMUP and the rest pass through to bench/suite.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAVA17="${JAVA17:-java}"
JAVA25="${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}"
HEAP="${HEAP:--Xms512m -Xmx512m}"
REFERENCE_OPTS="${REFERENCE_OPTS:-$HEAP -XX:+UseParallelGC}"
SCENARIO="${SCENARIOS:-S1}"
RESULTS_DIR="${RESULTS_DIR:-$SCRIPT_DIR/results}"

# label | launcher | options
CANDIDATES=(
  "17-serial|$JAVA17|$HEAP -XX:+UseSerialGC"
  "17-g1|$JAVA17|$HEAP -XX:+UseG1GC"
  "17-zgc|$JAVA17|$HEAP -XX:+UseZGC"
  "25-parallel|$JAVA25|$HEAP -XX:+UseParallelGC"
  "25-serial|$JAVA25|$HEAP -XX:+UseSerialGC"
  "25-g1|$JAVA25|$HEAP -XX:+UseG1GC"
  "25-zgc|$JAVA25|$HEAP -XX:+UseZGC"
)

wanted() {  # wanted LABEL: whether the command line names it (or names none)
  (( ${#SELECTED[@]} == 0 )) && return 0
  local s; for s in "${SELECTED[@]}"; do [[ "$s" == "$1" ]] && return 0; done; return 1
}
SELECTED=("$@")

mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/jvm-matrix-$(date +%Y%m%d-%H%M%S).md"
{
  echo "# Meridian JVM matrix ($SCENARIO)"
  echo
  echo "Each row is one bench/suite.sh run: the candidate (target \`baseline\`) beside the reference"
  echo "\`$REFERENCE_OPTS\` on \`$("$JAVA17" -version 2>&1 | head -1)\` (target \`meridian\`), repetitions"
  echo "interleaved; medians. Ratios: candidate / reference (req/s: higher is better; p99: lower)."
  echo
  echo "| candidate | options | req/s | p99 ms | p99.9 ms | reference req/s | reference p99 ms | req/s ratio | p99 ratio | report |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$OUT"

for entry in "${CANDIDATES[@]}"; do
  IFS='|' read -r label launcher opts <<< "$entry"
  wanted "$label" || continue
  [[ -x "$(command -v "$launcher" || true)" ]] || { echo "[matrix] $label: no launcher $launcher, skipped" >&2; continue; }
  echo "[matrix] $label: $launcher $opts" >&2
  TARGETS="meridian baseline" MERIDIAN_JAVA="$JAVA17" MERIDIAN_JAVA_OPTS="$REFERENCE_OPTS" \
    BASELINE_JAR="${MERIDIAN_JAR:-$SCRIPT_DIR/../proxy-core/target/meridian.jar}" \
    BASELINE_JAVA="$launcher" BASELINE_JAVA_OPTS="$opts" RESULTS_DIR="$RESULTS_DIR" \
    "$SCRIPT_DIR/suite.sh" --scenarios "$SCENARIO" >&2
  run_dir="$(ls -td "$RESULTS_DIR"/suite-* | head -1)"
  python3 - "$run_dir/report.json" "$label" "$opts" "$SCENARIO" "$(basename "$run_dir")" >> "$OUT" <<'PY'
import json, sys
report, label, opts, scenario, run = sys.argv[1:]
data = json.load(open(report))
rows = [s for s in data["scenarios"] if s["scenario"] == scenario]
if not rows:
    print(f"| {label} | `{opts}` | no result | | | | | | | {run} |")
    sys.exit()
targets = rows[0]["targets"]
cand, ref = targets.get("baseline", {}), targets.get("meridian", {})
def fig(t, key):
    return t.get("median") if key == "rps" else (t.get("latency_ms") or {}).get(key)
def ratio(a, b):
    return f"x{a / b:.2f}" if a and b else "n/a"
def num(v, fmt):
    return format(v, fmt) if v is not None else "n/a"
print(f"| {label} | `{opts}` | {num(fig(cand, 'rps'), ',.0f')} | {num(fig(cand, '99'), '.2f')} | "
      f"{num(fig(cand, '99.9'), '.2f')} | {num(fig(ref, 'rps'), ',.0f')} | {num(fig(ref, '99'), '.2f')} | "
      f"{ratio(fig(cand, 'rps'), fig(ref, 'rps'))} | {ratio(fig(cand, '99'), fig(ref, '99'))} | {run} |")
PY
done
echo "[matrix] table in $OUT" >&2
cat "$OUT"

#!/usr/bin/env bash
# S1 alone (small GET, keep-alive, wrk -c50): the quick before/after of a change on the forwarding
# path, against nginx and HAProxy and, with BASELINE_JAR, the build before the change, in one run.
# It is bench/suite.sh with SCENARIOS=S1 (the same environment variables); see bench/README.md.
exec "$(dirname "${BASH_SOURCE[0]}")/suite.sh" --scenarios "${SCENARIOS:-S1}" "$@"

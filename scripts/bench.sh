#!/usr/bin/env bash
# Issue 6 benchmark: the agent vs a bare kafka-clients → JDK HttpClient loop, in-process broker, fake Port, local sink.
# Usage: scripts/bench.sh [-Dbench.runs=2000 -Dbench.slowRuns=100 ...]   (extra arguments go to Maven; add -o offline)
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -B -q -Pbench test-compile exec:exec "$@"

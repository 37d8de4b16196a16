#!/usr/bin/env bash
# Issue 6, tracking at scale: 10,000 tracked CircleCI runs polled every 10 s by the packaged agent as its own process
# (java -Xmx512m -jar target/port-camel-agent.jar, target/lib beside it), a fast CircleCI fake and the fake Port.
# ≈ 4 min with the build. Store: a throw-away PostgreSQL database on 127.0.0.1:5432 (user postgres, dropped at the
# end) when it answers, else an H2 file. The report is also written to target/bench-tracking/report.txt.
#
# Usage: scripts/bench-tracking.sh [-o] [-Dbench.tracking.runs=2000] [-Dbench.tracking.agentEnv=TRACKING_POOL_SIZE=8,...]
#   -Dbench.* arguments go to the benchmark (see TrackingScaleBenchmark), the others to Maven (-o: offline).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn_args=()
bench_args=()
for a in "$@"; do
  case "$a" in
    -Dbench.*) bench_args+=("$a") ;;
    *) mvn_args+=("$a") ;;
  esac
done
cp_file=target/bench-tracking/classpath.txt
mkdir -p target/bench-tracking
# the jar and target/lib (what the agent process runs), the test classes (the benchmark and its fakes), their classpath
mvn -B -q -DskipTests ${mvn_args[@]+"${mvn_args[@]}"} package \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
exec "$java_bin" ${bench_args[@]+"${bench_args[@]}"} -cp "target/test-classes:target/classes:$(cat "$cp_file")" \
  io.portcamel.agent.bench.TrackingScaleBenchmark

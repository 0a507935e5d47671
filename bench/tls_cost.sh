#!/bin/sh
# What TLS costs the migration transport (issue 13): the same stream over loopback TCP in clear and over TLS
# (TLS 1.3, AES-GCM via JSSE), medians. usage: bench/tls_cost.sh [BYTES [RUNS]]   (defaults 1 GiB, 3)
set -e
cd "$(dirname "$0")/.."
mvn -B -o verify -pl bundles/migration -am -DskipITs -Dbaseline.skip=true -Dtest=TlsCostBench \
    -Dsurefire.failIfNoSpecifiedTests=false -Dsavevm.bench.tls=true \
    -Dsavevm.bench.bytes="${1:-1073741824}" -Dsavevm.bench.runs="${2:-3}" | grep -E "tls-cost:|Tests run:|FAIL"

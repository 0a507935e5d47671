#!/bin/sh
# The long soak (issue 13): migrations back and forth between two orchestrators, in clear and over TLS, checking
# that heap after GC, threads and file descriptors do not grow. CI runs 100 + 20 (SoakTest's defaults).
# usage: bench/soak.sh [MIGRATIONS [TLS_MIGRATIONS]]   (defaults 2000 and 200)
set -e
cd "$(dirname "$0")/.."
mvn -B -o verify -pl bundles/migration -am -DskipITs -Dbaseline.skip=true -Dtest=SoakTest \
    -Dsurefire.failIfNoSpecifiedTests=false \
    -Dsavevm.soak.migrations="${1:-2000}" -Dsavevm.soak.tls-migrations="${2:-200}" | grep -E "soak \(|Tests run:|FAIL"

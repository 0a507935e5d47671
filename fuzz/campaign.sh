#!/usr/bin/env bash
# A fuzz campaign over the project's Jazzer targets (issue 13; fuzz/README.md).
#
#   fuzz/campaign.sh TARGET|all SECONDS      e.g. fuzz/campaign.sh LoaderFuzzTest 600, fuzz/campaign.sh all 60
#
# Builds what the targets need (offline), then runs each target class in a JVM of its own with JAZZER_FUZZ=1 for
# SECONDS (the Maven profile "fuzz" of bundles/pom.xml). Prints one line per target: inputs tried, seconds,
# inputs/s and the outcomes per class (accepted, or the refusal's exception class), then the findings: new
# crash-* files Jazzer left in a target's src/test/resources/...Inputs/<method>/ (each one is a regression
# input of the normal build from then on) or a failed run. A finding in one target does not stop the others. The generated corpus stays in each module's
# .cifuzz-corpus/ (git-ignored), so the next campaign continues from it. Exit status: 0 without findings.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: fuzz/campaign.sh TARGET|all SECONDS   (targets: $(find bundles -path '*/src/test/java/*' -name '*FuzzTest.java' -printf '%f ' | sed 's/\.java//g'))" >&2
  exit 2
fi
target=$1
seconds=$2

modules=()
pattern='**/*FuzzTest.java'
for f in $(find bundles -path '*/src/test/java/*' -name '*FuzzTest.java' | sort); do
  name=$(basename "$f" .java)
  if [ "$target" = all ] || [ "$target" = "$name" ]; then
    m=$(echo "$f" | cut -d/ -f1-2)
    [[ " ${modules[*]:-} " == *" $m "* ]] || modules+=("$m")
  fi
done
if [ ${#modules[@]} -eq 0 ]; then
  echo "campaign: no fuzz target $target" >&2
  exit 2
fi
[ "$target" = all ] || pattern="**/$target.java"

for m in "${modules[@]}"; do rm -f "$m/target/fuzz-stats.txt"; done
before=$(git status --porcelain --untracked-files=all -- bundles | grep -c 'Inputs/.*/crash-' || true)
log=$(mktemp /tmp/fuzz-campaign.XXXXXX.log)
start=$(date +%s)
echo "campaign: $target for ${seconds}s per target on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'); log $log"
mvn -B -o verify -pl "$(IFS=,; echo "${modules[*]}")" -am -Dfuzz -Dfuzz.seconds="$seconds" -Dfuzz.test="$pattern" \
    -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false -Dmaven.test.failure.ignore=true >"$log" 2>&1 </dev/null
status=$?
echo "campaign: maven exit $status after $(( $(date +%s) - start ))s"
total=0
for m in "${modules[@]}"; do
  [ -f "$m/target/fuzz-stats.txt" ] || continue
  while IFS= read -r line; do
    case "$line" in *mode=fuzzing*) echo "$line"; n=${line#*inputs=}; total=$(( total + ${n%% *} ));; esac
  done < "$m/target/fuzz-stats.txt"
done
echo "campaign: $total inputs in all"
after=$(git status --porcelain --untracked-files=all -- bundles | grep -c 'Inputs/.*/crash-' || true)
failed=$(grep -cE "<<< (ERROR|FAILURE)!" "$log" || true)
if [ "$after" -gt "$before" ] || [ $status -ne 0 ] || [ "$failed" -gt 0 ]; then
  echo "campaign: FINDINGS (new crash inputs: $(( after - before ))):"
  git status --porcelain --untracked-files=all -- bundles | grep 'Inputs/.*/crash-'
  grep -E "FuzzTestFinding|<<< (ERROR|FAILURE)!|BUILD FAILURE" "$log" | head -20
  exit 1
fi
echo "campaign: no findings"

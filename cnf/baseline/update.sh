#!/usr/bin/env bash
# Makes the current build the API baseline that bnd-baseline-maven-plugin compares every bundle with.
#
#   cnf/baseline/update.sh [extra mvn arguments, e.g. -o]
#
# Builds the bundles (tests and baselining skipped), copies each bundle's jar into cnf/baseline-repo as
# org.savevm:<artifactId>:<new version>, removes the previous baseline and writes the new version into the root
# pom.xml (savevm.baseline.version). Each refresh gets a new version (a UTC time stamp), because Maven keeps a
# copy of every release artifact it resolved in ~/.m2 and would never notice that a reused version changed.
# Run it when a release is cut (or after merging branches that changed exported APIs on purpose), then commit
# cnf/baseline-repo and pom.xml.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
repo=cnf/baseline-repo
project_version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -1)"
[ -n "$project_version" ] || { echo "update.sh: no project version in pom.xml" >&2; exit 1; }
new="${project_version%-SNAPSHOT}-baseline-$(date -u +%Y%m%d%H%M%S)"

mvn -B -f bundles/pom.xml -DskipTests -Dbnd.baseline.skip=true "$@" clean package

rm -rf "$repo/org"
count=0
for dir in bundles/*/; do
  a="$(basename "$dir")"
  [ -f "$dir/bnd.bnd" ] || continue # test-support and other plain jars are no bundles
  jar="$dir/target/$a-$project_version.jar"
  [ -f "$jar" ] || { echo "update.sh: $jar was not built" >&2; exit 1; }
  out="$repo/org/savevm/$a/$new"
  mkdir -p "$out"
  cp "$jar" "$out/$a-$new.jar"
  cat > "$out/$a-$new.pom" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.savevm</groupId>
  <artifactId>$a</artifactId>
  <version>$new</version>
  <description>API baseline of $a, made by cnf/baseline/update.sh from $project_version</description>
</project>
POM
  count=$((count + 1))
done
sed -i "s:<savevm.baseline.version>.*</savevm.baseline.version>:<savevm.baseline.version>$new</savevm.baseline.version>:" pom.xml
echo "update.sh: $count bundles baselined as $new in $repo; commit $repo and pom.xml"

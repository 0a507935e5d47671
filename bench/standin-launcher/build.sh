#!/bin/sh
# Builds bench/standin-launcher/target/savevm.jar from the local Maven repository (run `mvn install` first):
# Felix, SCR, ConfigAdmin, Jackson and the savevm bundles, linked into target/bundles/.
set -e
cd "$(dirname "$0")"
M=${M2_REPO:-$HOME/.m2/repository}
FW=$M/org/apache/felix/org.apache.felix.framework/7.0.5/org.apache.felix.framework-7.0.5.jar
rm -rf target && mkdir -p target/classes target/bundles
javac -d target/classes -cp "$FW" Launch.java
printf 'Main-Class: Launch\nClass-Path: %s\n' "$FW" > target/manifest
jar cfm target/savevm.jar target/manifest -C target/classes .
for b in api stream vmstate registry timer savevm machine ram migration device.serial device.rtc; do
  ln -s "$M/org/savevm/$b/0.1.0-SNAPSHOT/$b-0.1.0-SNAPSHOT.jar" "target/bundles/$b.jar"
done
ln -s "$M/org/apache/felix/org.apache.felix.scr/2.2.18/org.apache.felix.scr-2.2.18.jar" target/bundles/scr.jar
ln -s "$M/org/apache/felix/org.apache.felix.configadmin/1.9.26/org.apache.felix.configadmin-1.9.26.jar" target/bundles/configadmin.jar
ln -s "$M/org/osgi/org.osgi.service.component/1.5.0/org.osgi.service.component-1.5.0.jar" target/bundles/ds-api.jar
ln -s "$M/org/osgi/org.osgi.util.function/1.2.0/org.osgi.util.function-1.2.0.jar" target/bundles/function.jar
ln -s "$M/org/osgi/org.osgi.util.promise/1.3.0/org.osgi.util.promise-1.3.0.jar" target/bundles/promise.jar
for j in core databind annotations; do
  ln -s "$M/com/fasterxml/jackson/core/jackson-$j/2.17.2/jackson-$j-2.17.2.jar" "target/bundles/jackson-$j.jar"
done
echo "built $(pwd)/target/savevm.jar"

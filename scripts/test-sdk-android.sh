#!/usr/bin/env bash
# Builds and tests the Android SDK (clients/android) offline, from Debian's Java packages:
# installs what is missing, builds the pairlink binary the tests start (or takes
# $PAIRLINK_BIN), runs checkstyle on the library, then Maven compiles it with
# javac -Xlint:all -Werror (Java 8 for the library) and runs the JUnit tests.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  maven checkstyle
  libokhttp-java libokio-java libgoogle-gson-java libjetbrains-annotations-java junit5
  libmaven-compiler-plugin-java libmaven-resources-plugin-java libmaven-jar-plugin-java
  libsurefire-java
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
command -v javac >/dev/null || missing+=(default-jdk-headless)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

if [[ -z "${PAIRLINK_BIN:-}" ]]; then
  cargo build --locked --bin pairlink
  export PAIRLINK_BIN="$PWD/target/debug/pairlink"
fi

cd clients/android
checkstyle -c checkstyle.xml src/main/java
# debian-settings.xml points every repository at /usr/share/maven-repo: no network.
mvn -B -ntp -s debian-settings.xml -Dmaven.repo.local="$PWD/target/m2" verify

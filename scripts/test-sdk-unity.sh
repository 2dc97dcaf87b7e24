#!/usr/bin/env bash
# Builds and tests the Unity SDK (clients/unity) with Mono, on a fresh machine too:
# installs Mono, NUnit 2.6 and Newtonsoft.Json from Debian if missing, builds the
# pairlink binary the tests start, compiles the runtime (warnings are errors; no C#
# linter is packaged for Debian) and checks that it uses only .NET Standard 2.1 types,
# then runs the tests with nunit-console (arguments go to it, e.g. -run=Pairlink.Tests.WireTests).
# The samples need UnityEngine and are not built.
set -euo pipefail
cd "$(dirname "$0")/.."

newtonsoft=/usr/lib/cli/Newtonsoft.Json-5.0/Newtonsoft.Json.dll
nunit=/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
facades=/usr/lib/mono/4.5/Facades
missing=()
command -v mcs >/dev/null && command -v monodis >/dev/null || missing+=(mono-complete)
command -v nunit-console >/dev/null || missing+=(nunit-console)
[[ -f "$newtonsoft" ]] || missing+=(libnewtonsoft-json-cil-dev)
[[ -f "$nunit" ]] || missing+=(libnunit-cil-dev)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ -z "${PAIRLINK_BIN:-}" ]]; then
  cargo build --locked --bin pairlink --quiet
  PAIRLINK_BIN="$PWD/target/debug/pairlink"
fi
export PAIRLINK_BIN

scripts/unity-meta.sh --check
for json in clients/unity/package.json clients/unity/Runtime/*.asmdef clients/unity/Tests/Editor/*.asmdef; do
  python3 -m json.tool "$json" >/dev/null || { echo "$json is not valid JSON" >&2; exit 1; }
done

out=target/unity-sdk
rm -rf "$out" && mkdir -p "$out"
# C# 7.2 is what Mono's mcs compiles; Unity 2021.3 compiles it too.
csc=(mcs -langversion:7.2 -warn:4 -warnaserror+ -debug -nologo)
"${csc[@]}" -target:library -out:"$out/Pairlink.Client.dll" \
  -r:"$facades/netstandard.dll" -r:System.Net.Http.dll -r:"$newtonsoft" \
  clients/unity/Runtime/*.cs

# Every type the runtime uses must be in .NET Standard 2.1 (what Unity's API level
# ".NET Standard 2.1" offers): compare its type references with netstandard.dll's.
monodis --exported "$facades/netstandard.dll" | sed -n 's/^[0-9]*: \(.*\) is in .*/\1/p' | sort -u >"$out/netstandard.txt"
monodis --typeref "$out/Pairlink.Client.dll" | sed -n 's/^[0-9]*: \[\([^]]*\)\]\([^/]*\).*/\1 \2/p' \
  | awk '$1 != "Newtonsoft.Json" {print $2}' | sort -u >"$out/used.txt"
outside=$(comm -23 "$out/used.txt" "$out/netstandard.txt")
[[ -z "$outside" ]] || { echo "the runtime uses types outside .NET Standard 2.1:" >&2; echo "$outside" >&2; exit 1; }
if monodis --assemblyref "$out/Pairlink.Client.dll" | grep -q 'Name=UnityEngine'; then
  echo "the runtime references UnityEngine" >&2; exit 1
fi

"${csc[@]}" -target:library -out:"$out/Pairlink.Client.Tests.dll" \
  -r:"$out/Pairlink.Client.dll" -r:"$nunit" -r:"$newtonsoft" -r:System.Net.Http.dll \
  -recurse:'clients/unity/Tests/Editor/*.cs'
cp "$newtonsoft" "$nunit" "$out/"

start=$SECONDS
status=0
(cd "$out" && nunit-console -nologo -labels -xml=TestResult.xml Pairlink.Client.Tests.dll "$@") >"$out/nunit.log" 2>&1 || status=$?
grep -v '^\*\*\*\*\* ' "$out/nunit.log" | grep -v '^$' | tail -40 || true

read -r total failed ignored < <(python3 - "$out/TestResult.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
n = lambda k: int(r.get(k, 0))
print(n("total"), n("failures") + n("errors") + n("invalid"), n("ignored") + n("skipped") + n("not-run") + n("inconclusive"))
PY
) || { echo "no test results" >&2; exit 1; }
echo "Unity SDK tests took $((SECONDS - start)) s"
if ((ignored > 0)); then echo "$ignored tests were ignored or not run: every test must run here" >&2; status=1; fi
echo "unity: $((total - failed)) passed, $failed failed"
exit $status

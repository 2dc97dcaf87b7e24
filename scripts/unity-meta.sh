#!/usr/bin/env bash
# Unity needs a .meta file beside every file and folder of a package installed from git
# (an immutable package: Unity ignores assets without one). This writes the missing
# ones under clients/unity with GUIDs derived from the path, so they are stable and
# unique, and with --check fails when one is missing, orphaned or a GUID is repeated.
# Samples~ is skipped: Unity never imports folders ending in ~ from a package.
set -euo pipefail
cd "$(dirname "$0")/../clients/unity"

check=false
[[ "${1:-}" == "--check" ]] && check=true

# The importer section Unity writes for each kind of asset.
importer() {
  case "$1" in
    */) printf 'folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n' ;;
    *.cs) printf 'MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n' ;;
    *.asmdef) printf 'AssemblyDefinitionImporter:\n  externalObjects: {}\n' ;;
    package.json) printf 'PackageManifestImporter:\n  externalObjects: {}\n' ;;
    *) printf 'TextScriptImporter:\n  externalObjects: {}\n' ;;
  esac
  printf '  userData: \n  assetBundleName: \n  assetBundleVariant: \n'
}

status=0
while IFS= read -r path; do
  [[ -d "$path" ]] && key="$path/" || key="$path"
  meta="$path.meta"
  if [[ -f "$meta" ]]; then continue; fi
  if $check; then echo "missing $meta" >&2; status=1; continue; fi
  guid=$(printf 'com.pairlink.client/%s' "$key" | md5sum | cut -c1-32)
  { printf 'fileFormatVersion: 2\nguid: %s\n' "$guid"; importer "$key"; } > "$meta"
  echo "wrote $meta"
done < <(find . -mindepth 1 \( -name '*~' -o -name '.*' \) -prune -o ! -name '*.meta' -print | sed 's|^\./||' | sort)

# Every .meta belongs to a file or folder, and no two share a GUID.
while IFS= read -r meta; do
  [[ -e "${meta%.meta}" ]] || { echo "orphaned $meta" >&2; status=1; }
done < <(find . -mindepth 1 \( -name '*~' -o -name '.*' \) -prune -o -name '*.meta' -print)
dupes=$(find . -mindepth 1 \( -name '*~' -o -name '.*' \) -prune -o -name '*.meta' -print0 | xargs -0 grep -h '^guid:' | sort | uniq -d)
[[ -z "$dupes" ]] || { echo "repeated GUIDs: $dupes" >&2; status=1; }
exit $status

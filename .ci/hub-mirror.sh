#!/usr/bin/env bash
# Serves ../shared/hub (the stand-in Hub mirror) on loopback with Python's static file server.
# Its entries are stored as small files holding a relative path (how git writes symlinks where they are off),
# so a static server would send the paths, not the files: this script first builds a tree of real links.
#
#   .ci/hub-mirror.sh [PORT]        # default 8765; then: export HF_ENDPOINT=http://127.0.0.1:PORT
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
src=$(readlink -f "${BERTSHARP_SHARED:-$here/../shared}/hub")
port=${1:-8765}
[ -d "$src" ] || { echo "hub-mirror: $src does not exist" >&2; exit 2; }
tree=$(mktemp -d "${TMPDIR:-/tmp}/bertsharp-hub-mirror.XXXXXX")
(cd "$src" && find . -type f -o -type l) | while read -r rel; do
  entry="$src/$rel"
  mkdir -p "$tree/$(dirname "$rel")"
  if [ -L "$entry" ] || [ "$(stat -c %s "$entry")" -gt 1024 ] || ! target=$(cat "$entry") || [ ! -e "$(dirname "$entry")/$target" ]; then
    ln -s "$(readlink -f "$entry")" "$tree/$rel"
  else
    ln -s "$(readlink -f "$(dirname "$entry")/$target")" "$tree/$rel"
  fi
done
echo "hub-mirror: serving $src (via $tree) at http://127.0.0.1:$port" >&2
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tree"

#!/usr/bin/env bash
# TorchSharp 0.107's native bridge (libLibTorchSharp.so) was built with GCC 13 and asks libstdc++ for one symbol that
# GCC 12's libstdc++ (Debian 12, Ubuntu 22.04) lacks: std::ios_base_library_init()@GLIBCXX_3.4.32, a no-op marker
# that GCC 13's <iostream> references. Without it every TorchSharp call fails with "GLIBCXX_3.4.32 not found".
#
# On such systems this script builds a tiny stand-in library that defines that version and symbol, and prints the
# LD_PRELOAD line that puts it in front of the real libstdc++; on newer systems it prints nothing.
#
#   eval "$(.ci/libstdcxx-compat.sh)"     # then dotnet test / dotnet run as usual
set -euo pipefail

real=$(readlink -f "$(g++ -print-file-name=libstdc++.so.6 2>/dev/null || true)")
if [ ! -f "$real" ]; then
  real=$(readlink -f "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')")
fi
[ -f "$real" ] || { echo "libstdcxx-compat: cannot find libstdc++.so.6" >&2; exit 1; }
if objdump -p "$real" | grep -q 'GLIBCXX_3\.4\.32'; then exit 0; fi

out=${BERTSHARP_COMPAT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bertsharp/libstdcxx-compat}
mkdir -p "$out"
if [ ! -f "$out/libstdc++.so.6" ] || [ "$0" -nt "$out/libstdc++.so.6" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # The stand-in is matched by its soname, so it must also define every version the real library defines
  # (empty nodes); symbol look-ups for those versions then fall through to the real libstdc++ preloaded after it.
  objdump -p "$real" | awk '/^Version definitions:/ {f=1; next} /^Version References:/ {f=0} f && NF == 4 && $4 !~ /\.so/ {print $4 " { };"}' \
    | grep -v '^GLIBCXX_3\.4\.32 ' > "$work/versions.map"
  echo 'GLIBCXX_3.4.32 { global: _ZSt21ios_base_library_initv; local: *; };' >> "$work/versions.map"
  echo 'void _ZSt21ios_base_library_initv(void) {}' > "$work/compat.c"
  gcc -shared -fPIC -nostdlib -Wl,-soname,libstdc++.so.6 -Wl,--version-script="$work/versions.map" \
    -o "$out/libstdc++.so.6.tmp" "$work/compat.c"
  mv "$out/libstdc++.so.6.tmp" "$out/libstdc++.so.6"
fi
echo "export LD_PRELOAD=\"$out/libstdc++.so.6 $real${LD_PRELOAD:+ $LD_PRELOAD}\""

#!/usr/bin/env bash
# Builds native/kvprobe with nvcc for sm_80, sm_90 and sm_100 (the ones this nvcc knows), plus PTX
# of the newest for later GPUs. Usage:
#   native/build-kvprobe.sh [--out DIR] [--nvcc PATH] [--hash]
# --hash prints the source hash and exits (no nvcc needed). The binary lands in DIR/kvprobe
# (default native/build/<hash>/kvprobe) with DIR/build.json saying which archs it holds.
# Exit codes: 0 built, 2 usage, 3 no nvcc, 4 nvcc knows none of the archs, 5 compile failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/kvprobe/kvprobe.cu"
out=""
nvcc="${NVCC:-}"
only_hash=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --nvcc) nvcc="${2:?--nvcc needs a path}"; shift 2 ;;
    --hash) only_hash=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "build-kvprobe: unknown argument $1" >&2; exit 2 ;;
  esac
done

# The source hash names the build and is embedded as producerVersion; the agent computes the same
# (sha256 of kvprobe.cu, first 16 hex digits) to find its cached build.
hash="$(sha256sum "$src" | cut -c1-16)"
if [ "$only_hash" = 1 ]; then echo "$hash"; exit 0; fi
out="${out:-$here/build/$hash}"

if [ -z "$nvcc" ]; then
  if command -v nvcc >/dev/null 2>&1; then nvcc="$(command -v nvcc)"
  elif [ -x /usr/local/cuda/bin/nvcc ]; then nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [ -z "$nvcc" ] || ! [ -x "$nvcc" ]; then
  echo "build-kvprobe: nvcc not found (looked on PATH and in /usr/local/cuda/bin). Install the CUDA toolkit, set NVCC=/path/to/nvcc, or use the PyTorch fallback: python3 native/kvprobe_torch.py --help" >&2
  exit 3
fi

known="$("$nvcc" --list-gpu-arch 2>/dev/null || true)"
gencode=()
built=()
dropped=()
last=""
for sm in 80 90 100; do
  if [ -z "$known" ] || grep -qx "compute_$sm" <<<"$known"; then
    gencode+=("-gencode" "arch=compute_$sm,code=sm_$sm")
    built+=("sm_$sm")
    last="$sm"
  else
    dropped+=("sm_$sm")
  fi
done
if [ -z "$last" ]; then
  echo "build-kvprobe: $nvcc supports none of sm_80, sm_90, sm_100; use CUDA 11.8 or newer" >&2
  exit 4
fi
gencode+=("-gencode" "arch=compute_$last,code=compute_$last")
if [ ${#dropped[@]} -gt 0 ]; then
  echo "build-kvprobe: this nvcc does not support ${dropped[*]}; building ${built[*]} (+ PTX compute_$last)" >&2
fi

mkdir -p "$out"
tmp="$out/kvprobe.tmp.$$"
if ! "$nvcc" -O3 -std=c++17 -DKVPROBE_SOURCE_HASH="\"kvprobe-$hash\"" "${gencode[@]}" -o "$tmp" "$src"; then
  rm -f "$tmp"
  echo "build-kvprobe: nvcc failed to compile $src" >&2
  exit 5
fi
mv -f "$tmp" "$out/kvprobe"
version="$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -n1)"
printf '{"sourceHash":"%s","nvcc":"%s","cudaRelease":"%s","archs":"%s","ptx":"compute_%s"}\n' "$hash" "$nvcc" "$version" "${built[*]}" "$last" > "$out/build.json"
echo "$out/kvprobe"

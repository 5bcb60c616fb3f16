#!/usr/bin/env python3
"""Asks the installed vLLM whether it accepts `vllm serve` command lines, without starting anything.

Usage: check-serve-args.py CASES.json   (prints a JSON report on stdout)

CASES.json: {"cases": {name: {"argv": ["serve", MODEL, "--flag", ...], "env": {NAME: VALUE}}}}

For each case, the argv goes through the same parser `vllm serve` builds (vLLM's serve subcommand
on a FlexibleArgumentParser), then through `validate_parsed_serve_args` and
`AsyncEngineArgs.from_cli_args`, which is where typed options such as `--kv-transfer-config` become
vLLM's config objects. Every `VLLM_*` variable in env must be one vLLM reads (vllm.envs). Loading the
model and building the engine config are out of scope: they need the model's files.

Report: {"vllm_version": ..., "nixl_supported_devices": {platform: [kv_buffer_device, ...]}, "results": {name: {"ok": bool, "error": str|null,
"kv_transfer_config": {...}|null}}}.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def main() -> int:
    cases = json.load(open(sys.argv[1]))["cases"]

    import vllm
    import vllm.envs as envs
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.cli.serve import ServeSubcommand
    from vllm.entrypoints.launchers.cli_args import validate_parsed_serve_args
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    known_env = set(envs.environment_variables)
    results = {}
    for name, case in cases.items():
        parser = FlexibleArgumentParser(prog="vllm")
        ServeSubcommand().subparser_init(parser.add_subparsers(dest="subparser"))
        err = io.StringIO()
        result = {"ok": False, "error": None, "kv_transfer_config": None}
        try:
            with contextlib.redirect_stderr(err):
                args = parser.parse_args(case["argv"])
            if getattr(args, "model_tag", None) is not None:
                args.model = args.model_tag
            validate_parsed_serve_args(args)
            engine_args = AsyncEngineArgs.from_cli_args(args)
            kv = engine_args.kv_transfer_config
            if kv is not None:
                result["kv_transfer_config"] = {
                    "kv_connector": kv.kv_connector,
                    "kv_role": kv.kv_role,
                    "kv_buffer_device": kv.kv_buffer_device,
                    "kv_load_failure_policy": kv.kv_load_failure_policy,
                }
            unknown = sorted(k for k in case.get("env", {}) if k.startswith("VLLM_") and k not in known_env)
            if unknown:
                raise ValueError(f"environment variables unknown to vLLM {vllm.__version__}: {', '.join(unknown)}")
            result["ok"] = True
        except SystemExit as e:
            # argparse reports bad arguments on stderr ("vllm serve: error: ...") and exits 2.
            text = err.getvalue()
            at = text.find("error:")
            result["error"] = " ".join(text[at:].split()) if at >= 0 else f"exit {e.code}"
        except Exception as e:  # noqa: BLE001 - every rejection is reported, whatever its type
            result["error"] = f"{type(e).__name__}: {e}"
        results[name] = result
    # Which kv_buffer_device values NIXL accepts per platform is only checked when a worker starts.
    from vllm.distributed.kv_transfer.kv_connector.v1.nixl.utils import _NIXL_SUPPORTED_DEVICE

    supported = {k: list(v) for k, v in _NIXL_SUPPORTED_DEVICE.items()}
    json.dump({"vllm_version": vllm.__version__, "nixl_supported_devices": supported, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

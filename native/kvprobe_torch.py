#!/usr/bin/env python3
"""kvprobe's PyTorch fallback: the same KV-block-shaped copies as native/kvprobe, run with the
host's own torch (the vLLM environment has it) when no kvprobe binary fits the host's driver.

It prints one JSON object matching common/kv/kvprobe-result.ts (implementation "torch"; "cpu" with
--device cpu, which runs the same arithmetic on CPU tensors so CI can check it without a GPU).
Progress goes to stderr as "progress <fraction> <message>".

Differences from the native probe (docs/kvprobe.md): one process holds both caches (crossProcess
false), and transfers are timed on the host clock around a synchronize of both devices, so each
figure includes launch overhead.
"""
import argparse
import datetime
import json
import math
import random
import sys
import time

MODES = ("per-piece", "gather", "contiguous", "host-staged")


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default), as every Handoff percentile."""
    v = sorted(values)
    if not v:
        return 0.0
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def int_list(text):
    try:
        values = [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def mode_list(text):
    modes = [m for m in text.split(",") if m]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise argparse.ArgumentTypeError(f"unknown mode(s) {bad}; use {', '.join(MODES)}")
    return modes


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--src", type=int, default=0)
    p.add_argument("--dst", type=int, default=1)
    p.add_argument("--layers", type=positive_int, required=True)
    p.add_argument("--kv-heads", type=positive_int, required=True)
    p.add_argument("--head-dim", type=positive_int, required=True)
    p.add_argument("--dtype-bytes", type=int, choices=(1, 2, 4), required=True)
    p.add_argument("--block-size", type=positive_int, required=True)
    p.add_argument("--blocks", type=int_list, default=None)
    p.add_argument("--modes", type=mode_list, default=list(MODES))
    p.add_argument("--iterations", type=positive_int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--raw", action="store_true", help="also print every transfer's time (samplesUs)")
    return p.parse_args(argv)


def progress(fraction, message):
    print(f"progress {fraction:.4f} {message}", file=sys.stderr, flush=True)


def fail(message, code=1):
    print(f"kvprobe_torch: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def main(argv):
    args = parse_args(argv)
    started = time.perf_counter()
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        import torch
    except ImportError as e:
        fail(f"cannot import torch ({e}); run this with the Python of a vLLM environment")

    dtype = {1: torch.uint8, 2: torch.bfloat16, 4: torch.float32}[args.dtype_bytes]
    block_counts = sorted(set(args.blocks or [1, 16, math.ceil(3000 / args.block_size)]))
    piece_elems = args.block_size * args.kv_heads * args.head_dim
    piece_bytes = piece_elems * args.dtype_bytes
    pieces = 2 * args.layers
    bytes_per_block = pieces * piece_bytes
    max_blocks = block_counts[-1]
    cache_blocks = max(2 * max_blocks, 32)

    cpu = args.device == "cpu"
    if cpu:
        src_dev = dst_dev = torch.device("cpu")
        peer = True
        devices = [{"index": 0, "name": "cpu", "pciBusId": None}] * 2
    else:
        if not torch.cuda.is_available():
            fail("torch sees no CUDA device (torch.cuda.is_available() is False)")
        count = torch.cuda.device_count()
        if max(args.src, args.dst) >= count:
            fail(f"GPU {max(args.src, args.dst)} does not exist; torch sees {count} GPU(s)")
        src_dev, dst_dev = torch.device("cuda", args.src), torch.device("cuda", args.dst)
        peer = args.src == args.dst or torch.cuda.can_device_access_peer(args.dst, args.src)
        devices = []
        for i in (args.src, args.dst):
            props = torch.cuda.get_device_properties(i)
            bus = getattr(props, "pci_bus_id", None)
            devices.append({"index": i, "name": props.name, "pciBusId": None if bus is None else f"{getattr(props, 'pci_domain_id', 0):08X}:{bus:02X}:{getattr(props, 'pci_device_id', 0):02X}.0"})

    # vLLM's layout: per layer a K region and a V region of cache_blocks pieces ([layers, 2, blocks, piece]).
    src = torch.randint(0, 255, (args.layers, 2, cache_blocks, piece_elems * args.dtype_bytes), dtype=torch.uint8, device=src_dev).view(dtype)
    dst = torch.zeros((args.layers, 2, cache_blocks, piece_elems), dtype=dtype, device=dst_dev)
    rng = random.Random(12345)
    ids = list(range(cache_blocks))
    rng.shuffle(ids)
    src_ids_all = ids[:max_blocks]
    rng.shuffle(ids)
    dst_ids_all = ids[:max_blocks]
    src_flat = src.view(-1)
    dst_flat = dst.view(-1)
    staging = torch.empty((args.layers, 2, max_blocks, piece_elems), dtype=dtype, device=dst_dev)
    host = torch.empty((args.layers, 2, max_blocks, piece_elems), dtype=dtype, pin_memory=not cpu)

    def sync():
        if not cpu:
            torch.cuda.synchronize(src_dev)
            torch.cuda.synchronize(dst_dev)

    def issue(mode, n):
        src_ids, dst_ids = src_ids_all[:n], dst_ids_all[:n]
        if mode == "per-piece":
            for b in range(n):
                for layer in range(args.layers):
                    for kv in (0, 1):
                        dst[layer, kv, dst_ids[b]].copy_(src[layer, kv, src_ids[b]], non_blocking=True)
        elif mode == "contiguous":
            count = n * bytes_per_block // args.dtype_bytes
            dst_flat[:count].copy_(src_flat[:count], non_blocking=True)
        else:
            si = torch.tensor(src_ids, device=src_dev)
            di = torch.tensor(dst_ids, device=dst_dev)
            packed = torch.index_select(src, 2, si)
            if mode == "gather":
                staging[:, :, :n].copy_(packed, non_blocking=True)
            else:
                host[:, :, :n].copy_(packed, non_blocking=True)
                if not cpu:
                    # The host → device copy runs on the destination's stream: the pinned buffer must be full first.
                    torch.cuda.current_stream(src_dev).synchronize()
                staging[:, :, :n].copy_(host[:, :, :n], non_blocking=True)
            dst.index_copy_(2, di, staging[:, :, :n])

    def verify(mode, n):
        for b in sorted({0, n // 2, n - 1}):
            for layer, kv in ((0, 0), (args.layers - 1, 1)):
                if mode == "contiguous":
                    off = (b * pieces + layer * 2 + kv) * piece_elems
                    a, c = src_flat[off:off + piece_elems], dst_flat[off:off + piece_elems]
                else:
                    a, c = src[layer, kv, src_ids_all[b]], dst[layer, kv, dst_ids_all[b]]
                if not torch.equal(a.cpu().view(torch.uint8), c.cpu().view(torch.uint8)):
                    fail(f"mode {mode}: destination block {b} differs from the source after the copy")

    modes, skipped = [], []
    for m in args.modes:
        if m == "gather" and not peer:
            skipped.append({"mode": "gather", "reason": f"GPU {args.dst} cannot access GPU {args.src}'s memory (no peer access)"})
        else:
            modes.append(m)

    measurements = []
    total, done = len(modes) * len(block_counts), 0
    for mode in modes:
        for n in block_counts:
            progress(done / total, f"{mode}, {n} block{'s' if n != 1 else ''}")
            dst.zero_()
            issue(mode, n)
            sync()
            verify(mode, n)
            for _ in range(args.warmup):
                issue(mode, n)
            sync()
            samples = []
            for _ in range(args.iterations):
                t0 = time.perf_counter()
                issue(mode, n)
                sync()
                samples.append((time.perf_counter() - t0) * 1e6)
            per_block = [s / n for s in samples]
            median_us = percentile(samples, 0.5)
            m = {
                "mode": mode,
                "blocks": n,
                "iterations": args.iterations,
                "perBlockUs": {"p50": percentile(per_block, 0.5), "p99": percentile(per_block, 0.99), "mean": sum(per_block) / len(per_block)},
                "gbPerS": (n * bytes_per_block) / (median_us * 1e3) if median_us > 0 else 0.0,
            }
            if args.raw:
                m["samplesUs"] = samples
            measurements.append(m)
            done += 1
    progress(1, "done")

    result = {
        "schema": 1,
        "implementation": "cpu" if cpu else "torch",
        "producerVersion": f"torch-{torch.__version__}",
        "src": devices[0],
        "dst": devices[1],
        "peerAccess": bool(peer),
        "crossProcess": False,
        "shape": {
            "layers": args.layers,
            "kvHeadsPerRank": args.kv_heads,
            "headDim": args.head_dim,
            "dtypeBytes": args.dtype_bytes,
            "blockSize": args.block_size,
            "bytesPerBlock": bytes_per_block,
            "piecesPerBlock": pieces,
        },
        "blockCounts": block_counts,
        "measurements": measurements,
        "skipped": skipped,
        "startedAt": started_at,
        "durationMs": (time.perf_counter() - started) * 1e3,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

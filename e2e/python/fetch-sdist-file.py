"""Extracts one file from a package's source distribution on the Python package index.

Used because `pip download --no-binary :all:` builds the sdist's metadata first, which vLLM's
sdist cannot do without CUDA. This asks the same index pip uses (PIP_INDEX_URL, default PyPI) for
its PEP 691 JSON listing, downloads the sdist, checks its sha256 and writes just the named member.
Standard library only.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.parse
import urllib.request


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--member", required=True, help="path inside the sdist, without the top folder")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    listing_url = f"{index}/{args.package}/"
    req = urllib.request.Request(listing_url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        listing = json.load(resp)
    name = f"{args.package}-{args.version}.tar.gz"
    files = [f for f in listing.get("files", []) if f.get("filename") == name]
    if not files:
        print(f"{name} is not on {listing_url}", file=sys.stderr)
        return 1
    entry = files[0]
    url = urllib.parse.urljoin(listing_url, entry["url"])
    with urllib.request.urlopen(url, timeout=300) as resp:
        data = resp.read()
    want = entry.get("hashes", {}).get("sha256")
    got = hashlib.sha256(data).hexdigest()
    if want and want != got:
        print(f"sha256 mismatch for {name}: index says {want}, got {got}", file=sys.stderr)
        return 1
    member = f"{args.package}-{args.version}/{args.member}"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        try:
            info = tar.getmember(member)
        except KeyError:
            print(f"{member} is not in {name}", file=sys.stderr)
            return 1
        extracted = tar.extractfile(info)
        if extracted is None:
            print(f"{member} is not a regular file", file=sys.stderr)
            return 1
        content = extracted.read()
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(content)
    os.replace(tmp, args.out)
    print(f"wrote {args.out} ({len(content)} bytes) from {name} sha256 {got}")
    return 0


if __name__ == "__main__":

    sys.exit(main())

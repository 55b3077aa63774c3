#!/usr/bin/env python3
"""Zips debug function binaries as Lambda packages for the local stack.

    scripts/package-local.py BIN_DIR OUT_DIR NAME...

writes OUT_DIR/NAME/bootstrap.zip holding BIN_DIR/NAME as the executable
`bootstrap`, the layout `cargo lambda build --output-format zip` uses. The
emulator only stores these (crates/local runs the binaries), so they need
not be release builds. A zip is rewritten only when its binary changed, so
Terraform sees the same hash and plans no change.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile


def package(bin_dir, out_dir, name):
    binary = os.path.join(bin_dir, name)
    if not os.path.isfile(binary):
        sys.exit(f"package-local: {binary} not found; build it first (make build)")
    target = os.path.join(out_dir, name, "bootstrap.zip")
    if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(binary):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16  # a regular, executable file
    info.compress_type = zipfile.ZIP_DEFLATED
    tmp = target + ".tmp"
    with tempfile.TemporaryDirectory() as scratch:
        source = binary
        if shutil.which("strip"):  # a third smaller: faster to upload to the emulator
            source = os.path.join(scratch, "bootstrap")
            subprocess.run(["strip", "-o", source, binary], check=True)
        with open(source, "rb") as src, zipfile.ZipFile(tmp, "w") as z:
            z.writestr(info, src.read(), compresslevel=1)
    os.replace(tmp, target)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    for name in sys.argv[3:]:
        package(sys.argv[1], sys.argv[2], name)

#!/usr/bin/env python3
"""Zips the OpenTelemetry collector configurations as a Lambda layer.

    scripts/package-collector-config.py OUT_ZIP

writes OUT_ZIP holding observability/collector/*.yaml under faaskeeper/:
Lambda unpacks a layer under /opt, so the functions' collector layer finds
/opt/faaskeeper/collector-<exporter>.yaml, the file
terraform/modules/faaskeeper names in OPENTELEMETRY_COLLECTOR_CONFIG_URI.
Fixed timestamps: the same files give the same zip, and Terraform plans no
change.
"""
import glob
import os
import sys
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main(out_zip):
    configs = sorted(glob.glob(os.path.join(ROOT, "observability", "collector", "*.yaml")))
    if not configs:
        sys.exit("package-collector-config: no observability/collector/*.yaml")
    os.makedirs(os.path.dirname(os.path.abspath(out_zip)), exist_ok=True)
    tmp = out_zip + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path in configs:
            info = zipfile.ZipInfo("faaskeeper/" + os.path.basename(path), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
    os.replace(tmp, out_zip)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])

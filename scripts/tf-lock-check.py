#!/usr/bin/env python3
"""Checks the committed provider lock files of the stacks that deploy to AWS.

    scripts/tf-lock-check.py [--schemas DIR]

Each of terraform/stacks/{production,hybrid,redis} must have a
.terraform.lock.hcl whose hashicorp/aws entry
- records a version whose published schema scripts/provider-schema-check.py
  checked the modules against (a file aws-VERSION.json in DIR), so what
  `terraform init -lockfile=readonly` installs is a version the checks cover;
- states the constraints Terraform would write for the stack's versions.tf
  (otherwise `init -lockfile=readonly` refuses to run: the lock "would need
  updating");
- carries h1: and zh: hashes (zh: the SHA-256 of each platform's release zip,
  which init checks the download against).

The hashes themselves can only be verified against the registry (see
terraform/README.md, "Provider versions", for where these came from). Stdlib
only; exit 1 with one line per problem.
"""
import argparse
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STACKS = ["production", "hybrid", "redis"]
PROVIDER = "registry.terraform.io/hashicorp/aws"


def normalized(constraint):
    """Terraform's spelling of a constraint string: each version with three
    parts, in the given order ('>= 5.0, < 7.0' -> '>= 5.0.0, < 7.0.0')."""
    parts = []
    for part in constraint.split(","):
        op, version = re.match(r"\s*([<>=!~]*)\s*([0-9.]+)\s*$", part).groups()
        numbers = version.split(".") + ["0"] * (3 - len(version.split(".")))
        parts.append(f"{op or '='} {'.'.join(numbers[:3])}")
    return ", ".join(parts)


def stack_constraint(stack_dir):
    text = open(os.path.join(stack_dir, "versions.tf")).read()
    block = re.search(r"aws\s*=\s*\{(.*?)\}", text, re.S)
    return re.search(r'version\s*=\s*"([^"]+)"', block.group(1)).group(1)


def lock_entry(path):
    text = open(path).read()
    block = re.search(r'provider\s+"' + re.escape(PROVIDER) + r'"\s*\{(.*?)\n\}', text, re.S)
    if not block:
        return None
    body = block.group(1)
    return {
        "version": re.search(r'version\s*=\s*"([^"]+)"', body).group(1),
        "constraints": (re.search(r'constraints\s*=\s*"([^"]+)"', body) or [None, None])[1],
        "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", default=os.path.join(ROOT, ".tools", "provider-schemas"))
    args = parser.parse_args()
    checked = sorted(
        re.match(r"aws-(.+)\.json$", os.path.basename(p)).group(1)
        for p in glob.glob(os.path.join(args.schemas, "aws-*.json"))
    )
    problems, seen = [], []
    for stack in STACKS:
        stack_dir = os.path.join(ROOT, "terraform", "stacks", stack)
        lock = os.path.join(stack_dir, ".terraform.lock.hcl")
        rel = os.path.relpath(lock, ROOT)
        if not os.path.exists(lock):
            problems.append(f"{rel}: missing (deploys would pick a provider at init time)")
            continue
        entry = lock_entry(lock)
        if entry is None:
            problems.append(f"{rel}: no {PROVIDER} entry")
            continue
        if entry["version"] not in checked:
            problems.append(
                f"{rel}: locks aws {entry['version']}, but the schema check covers {', '.join(checked) or 'nothing'}"
            )
        want = normalized(stack_constraint(stack_dir))
        if entry["constraints"] != want:
            problems.append(f"{rel}: constraints {entry['constraints']!r}, versions.tf says {want!r}")
        h1 = [h for h in entry["hashes"] if h.startswith("h1:")]
        zh = [h for h in entry["hashes"] if h.startswith("zh:")]
        if not h1 or not zh or len(set(zh)) != len(zh):
            problems.append(f"{rel}: {len(h1)} h1: and {len(zh)} zh: hashes (need both, zh: distinct)")
        seen.append(f"{stack} aws {entry['version']} ({len(h1)} h1, {len(zh)} zh)")
    for problem in problems:
        print(f"tf-lock-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"tf-lock-check: {'; '.join(seen)}; each a schema-checked version")
    return 0


if __name__ == "__main__":
    sys.exit(main())

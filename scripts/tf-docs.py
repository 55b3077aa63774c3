#!/usr/bin/env python3
"""Writes (or checks) the input and output tables of each Terraform README.

    scripts/tf-docs.py [--check] DIR...

For each DIR (a module or a root configuration), reads variables.tf and
outputs.tf and puts an "Inputs" and an "Outputs" table into DIR/README.md,
between the lines `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` (the
rest of the README is written by hand). With --check, changes nothing and
exits 1 if a README's tables differ from what the .tf files say.

Runs with the checkov venv's Python (scripts/setup.sh), whose python-hcl2
parses HCL: `.tools/checkov/bin/python scripts/tf-docs.py ...`.
"""
import json
import os
import re
import sys

import hcl2

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def unwrap(value):
    """python-hcl2 gives expressions as "${...}" strings."""
    if isinstance(value, str):
        m = re.fullmatch(r"\$\{(.*)\}", value, re.S)
        if m:
            return m.group(1)
    return value


def attr(body, key, default=None):
    """An attribute of a block (this python-hcl2 wraps each value in a list)."""
    value = body.get(key, default)
    if isinstance(value, list) and len(value) == 1 and key in body:
        return value[0]
    return value


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def hcl_value(value):
    if value is None:
        return "null"
    if isinstance(value, str):
        inner = unwrap(value)
        return inner if inner != value else json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def load(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return hcl2.load(f)


def tables(directory):
    variables = load(os.path.join(directory, "variables.tf")).get("variable", [])
    outputs = load(os.path.join(directory, "outputs.tf")).get("output", [])
    lines = ["## Inputs", ""]
    if variables:
        lines += [
            "| Name | Description | Type | Default | Required |",
            "|------|-------------|------|---------|:--------:|",
        ]
        for block in variables:
            for name, body in block.items():
                required = "default" not in body
                default = "n/a" if required else f"`{cell(hcl_value(attr(body, 'default')))}`"
                lines.append(
                    f"| `{name}` | {cell(attr(body, 'description', ''))} "
                    f"| `{cell(unwrap(attr(body, 'type', 'string')))}` | {default} "
                    f"| {'yes' if required else 'no'} |"
                )
    else:
        lines.append("None.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        for block in outputs:
            for name, body in block.items():
                lines.append(f"| `{name}` | {cell(attr(body, 'description', ''))} |")
    else:
        lines.append("None.")
    return "\n".join(lines)


def main(argv):
    check = "--check" in argv
    dirs = [a for a in argv if a != "--check"]
    if not dirs:
        sys.exit(__doc__)
    stale = []
    for directory in dirs:
        readme = os.path.join(directory, "README.md")
        if not os.path.exists(readme):
            stale.append(f"{readme}: missing")
            continue
        with open(readme) as f:
            text = f.read()
        if BEGIN not in text or END not in text:
            stale.append(f"{readme}: no {BEGIN} … {END} section")
            continue
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = f"{head}{BEGIN}\n{tables(directory)}\n{END}{tail}"
        if new != text:
            if check:
                stale.append(f"{readme}: tables differ from the .tf files")
            else:
                with open(readme, "w") as f:
                    f.write(new)
                print(f"tf-docs: wrote {readme}")
    if stale:
        print("\n".join(stale), file=sys.stderr)
        if check:
            print("tf-docs: run `make tf-docs` to rewrite the tables", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])

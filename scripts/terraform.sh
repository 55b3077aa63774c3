#!/usr/bin/env bash
# Terraform, offline: the pinned Terraform 1.0.3 and AWS provider 3.39 that
# scripts/setup.sh installs into .tools/ (no registry is reachable).
#
#   scripts/terraform.sh tf DIR ARGS...     run terraform in DIR (init first if needed)
#   scripts/terraform.sh check              fmt -check, validate every root, provider 5.x/6.x schemas,
#                                           README tables, checkov
#   scripts/terraform.sh local-apply STATE  apply terraform/stacks/local into $FK_AWS_ENDPOINT;
#                                           STATE/terraform.tfstate, STATE/outputs.json
#   scripts/terraform.sh local-destroy STATE
#   scripts/terraform.sh around STATE -- CMD...
#                                           local-apply, run CMD with FK_TF_LOCAL_OUTPUTS and
#                                           FK_REQUIRE_TERRAFORM=1 set (tests/tests/terraform.rs),
#                                           then a plan that must show no changes, and destroy
#
# local-* and around need the backends' variables (scripts/backends.sh run … --)
# and the packages of `make package-local`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TF=$ROOT/.tools/bin/terraform
MIRROR=$ROOT/.tools/tf-mirror
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
STACKS=(production hybrid local)

[[ -x $TF ]] || { echo "terraform: $TF not found; run scripts/setup.sh" >&2; exit 1; }

# Terraform runs on a copy of terraform/ in .tools/tf-work: its lock files
# (provider 3.39, from the mirror) and .terraform directories stay apart
# from the ones `make deploy` makes online with a newer provider, and
# override files (backend_override.tf) there play no part here.
WORK=$ROOT/.tools/tf-work
stage() {
    mkdir -p "$WORK/terraform"
    find "$WORK/terraform" -type f ! -name .terraform.lock.hcl -delete
    tar -C "$ROOT" --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' \
        --exclude=terraform.tfvars --exclude='*_override.tf' --exclude=deploy.tfplan -cf - terraform |
        tar -C "$WORK" -xf -
    emulator_copy "$WORK/terraform"
}

# The modules are written for provider 5.x/6.x and Terraform 1.2+. The
# binaries reachable here are provider 3.39 and Terraform 1.0.3, so the
# staged copy they run on leaves out what those cannot read, and nothing
# else: files named *.aws5.tf (resources newer than 3.39, preconditions),
# lines ending "# aws>=5", and the floors of the version constraints. The
# full text is what checkov and the 5.x/6.x schema check read (check, below).
emulator_copy() {
    find "$1" -name '*.aws5.tf' -delete
    find "$1" -name '*.tf' -exec sed -i -E \
        -e '/#[[:space:]]*aws>=5[[:space:]]*$/d' \
        -e 's/^([[:space:]]*version[[:space:]]*=[[:space:]]*)">= 5\.0(, < 7\.0)?"/\1">= 3.39"/' \
        -e 's/^([[:space:]]*required_version[[:space:]]*=[[:space:]]*)">= 1\.2"/\1">= 1.0"/' {} +
}

# tf DIR ARGS...: terraform in (the copy of) DIR, initialised from the
# mirror (no backend: the offline checks never touch a remote state), its
# .terraform in .tools/tf-data.
tf() {
    local dir=$1
    shift
    export TF_DATA_DIR=$ROOT/.tools/tf-data/${dir//\//_}
    # Again whenever a .tf file changed since: a new module call needs it.
    if [[ ! -f $TF_DATA_DIR/modules/modules.json || ! -f $WORK/$dir/.terraform.lock.hcl ||
        -n $(find terraform -name '*.tf' -newer "$TF_DATA_DIR/modules/modules.json" -print -quit) ]]; then
        "$TF" -chdir="$WORK/$dir" init -input=false -backend=false -plugin-dir="$MIRROR" >/dev/null
        touch "$TF_DATA_DIR/modules/modules.json"
    fi
    "$TF" -chdir="$WORK/$dir" "$@"
}

now() { date +%s%N; }
took() { # took START: seconds since START (from now), one decimal
    local ds=$((($(now) - $1) / 100000000))
    echo "$((ds / 10)).$((ds % 10)) s"
}

check() {
    local t0 t
    t0=$(now)
    t=$(now)
    "$TF" fmt -check -recursive -diff terraform/
    echo "terraform: fmt ok ($(took "$t"))"
    # The four validations at once: each mostly waits on the provider's
    # start-up, and together they take little longer than one.
    t=$(now)
    local pids=() logs=() failed=0 i
    for stack in "${STACKS[@]}"; do
        logs+=("$(mktemp)")
        tf "terraform/stacks/$stack" validate -no-color >"${logs[-1]}" 2>&1 &
        pids+=($!)
    done
    for i in "${!STACKS[@]}"; do
        if wait "${pids[$i]}"; then
            echo "terraform: validate stacks/${STACKS[$i]} ok"
        else
            cat "${logs[$i]}" >&2
            echo "terraform: validate stacks/${STACKS[$i]} FAILED" >&2
            failed=1
        fi
        rm -f "${logs[$i]}"
    done
    ((failed == 0)) || return 1
    echo "terraform: validate ok ($(took "$t"))"
    # Validate can only run 3.39 here; users run 5.x or 6.x: every resource,
    # argument and block against the schemas of the newest of each (setup.sh
    # extracts them), after the checker's own self-test (quiet unless it fails).
    t=$(now)
    local selftest
    selftest=$(.tools/checkov/bin/python scripts/provider-schema-check.py --self-test) ||
        { echo "$selftest" >&2; return 1; }
    .tools/checkov/bin/python scripts/provider-schema-check.py
    .tools/checkov/bin/python scripts/tf-lock-check.py
    echo "terraform: provider 5.x/6.x schemas ok ($(took "$t"))"
    t=$(now)
    .tools/checkov/bin/python scripts/tf-docs.py --check terraform/modules/* terraform/stacks/*
    echo "terraform: module READMEs' tables match the variables and outputs ($(took "$t"))"
    t=$(now)
    .tools/checkov/bin/checkov --quiet --compact --framework terraform -d terraform/ \
        --skip-download --output cli
    echo "terraform: checkov ok ($(took "$t"))"
    echo "terraform: check ok ($(took "$t0"))"
}

local_vars() {
    : "${FK_AWS_ENDPOINT:?run under scripts/backends.sh (FK_AWS_ENDPOINT is not set)}"
    VARS=(-var "endpoint=$FK_AWS_ENDPOINT" -var "store=${STORE:-s3}" -var "package_dir=$ROOT/target/lambda-local")
    if [[ -n ${FK_REDIS_URL:-} ]]; then VARS+=(-var "redis_url=$FK_REDIS_URL"); fi
    if [[ -n ${FK_REDIS_READ_URL:-} ]]; then VARS+=(-var "redis_read_url=$FK_REDIS_READ_URL"); fi
    if [[ -n ${TF_LOCAL_NAME:-} ]]; then VARS+=(-var "name=$TF_LOCAL_NAME"); fi
}

local_apply() {
    local state=$1 t
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    local_vars
    t=$(now)
    tf terraform/stacks/local apply -auto-approve -no-color -state="$state/terraform.tfstate" "${VARS[@]}" \
        >"$state/apply.log" || { cat "$state/apply.log" >&2; return 1; }
    tf terraform/stacks/local output -json -state="$state/terraform.tfstate" >"$state/outputs.json"
    echo "terraform: applied stacks/local ($(grep -o '[0-9]* added' "$state/apply.log" | tail -n 1)) in $(took "$t"); outputs in $state/outputs.json"
}

local_plan_is_empty() {
    local state=$1 t rc=0
    state=$(cd "$state" && pwd)
    local_vars
    t=$(now)
    tf terraform/stacks/local plan -detailed-exitcode -no-color -state="$state/terraform.tfstate" "${VARS[@]}" \
        >"$state/plan.log" || rc=$?
    if ((rc != 0)); then
        cat "$state/plan.log" >&2
        echo "terraform: a second plan of stacks/local is not empty (exit $rc)" >&2
        return 1
    fi
    echo "terraform: second plan shows no changes ($(took "$t"))"
}

local_destroy() {
    local state=$1 t
    state=$(cd "$state" && pwd)
    local_vars
    t=$(now)
    tf terraform/stacks/local destroy -auto-approve -no-color -state="$state/terraform.tfstate" "${VARS[@]}" \
        >"$state/destroy.log" || { cat "$state/destroy.log" >&2; return 1; }
    echo "terraform: destroyed stacks/local ($(grep -o '[0-9]* destroyed' "$state/destroy.log" | tail -n 1)) in $(took "$t")"
}

# around STATE -- CMD...: apply, run CMD with FK_TF_LOCAL_OUTPUTS and
# FK_REQUIRE_TERRAFORM=1 (tests/tests/terraform.rs tests the applied stack),
# then a second plan that must be empty, and destroy.
around() {
    local state=$1 rc=0
    shift
    [[ ${1:-} == -- ]] && shift
    local_apply "$state"
    FK_TF_LOCAL_OUTPUTS=$(cd "$state" && pwd)/outputs.json FK_REQUIRE_TERRAFORM=1 "$@" || rc=$?
    if ((rc != 0)); then return "$rc"; fi
    local_plan_is_empty "$state"
    local_destroy "$state"
}

verb=${1:-}
shift || true
stage
case $verb in
tf) tf "$@" ;;
check) check ;;
local-apply) local_apply "$@" ;;
local-destroy) local_destroy "$@" ;;
around) around "$@" ;;
*) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

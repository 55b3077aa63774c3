#!/usr/bin/env bash
# `make deploy`: deploys FaaSKeeper to AWS with the credentials of whoever
# runs it (AWS_PROFILE, environment variables or SSO, as the AWS CLI).
#
#   scripts/deploy.sh [production|hybrid|redis]
#
# 1. builds the release zips (`make package`, ~7 min the first time);
# 2. `terraform init` and `plan` in terraform/stacks/STACK, with the variables
#    of terraform/stacks/STACK/terraform.tfvars (copy example.tfvars there), or
#    the file VARS names;
# 3. shows the plan and applies exactly it only after you type the stack's
#    name (or with CONFIRM=STACK, e.g. in a pipeline that approved it already);
# 4. writes the clients' deployment document to .fk/STACK-deployment.json.
#
# Terraform: $TERRAFORM, else `terraform` on PATH, else the pinned one in
# .tools/bin. init downloads the newest AWS provider (< 6.0) allowed, which
# needs the registry; provided.al2023 needs provider 5.27 or newer.
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:-production}
case $stack in
production | hybrid | redis) ;;
*) echo "deploy: no stack $stack (production, hybrid or redis)" >&2; exit 2 ;;
esac
dir=terraform/stacks/$stack
vars=${VARS:-$dir/terraform.tfvars}
if [[ ! -f $vars ]]; then
    echo "deploy: no variables file $vars: copy $dir/example.tfvars to it and edit it, or set VARS=FILE" >&2
    exit 1
fi
tf=${TERRAFORM:-$(command -v terraform || echo .tools/bin/terraform)}
export CHECKPOINT_DISABLE=1
if [[ -z ${AWS_PROFILE:-}${AWS_ACCESS_KEY_ID:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-} ]]; then
    echo "deploy: no AWS credentials in the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID, …); using the default profile" >&2
fi

make --no-print-directory package
vars=$(realpath "$vars")
"$tf" -chdir="$dir" init -input=false -upgrade
"$tf" -chdir="$dir" plan -input=false -var-file="$vars" -out=deploy.tfplan

if [[ ${CONFIRM:-} != "$stack" ]]; then
    if [[ ! -t 0 ]]; then
        echo "deploy: not applied: no terminal to confirm on; set CONFIRM=$stack to apply this plan" >&2
        exit 1
    fi
    read -r -p "Apply this plan to AWS? Type '$stack' to apply: " answer
    if [[ $answer != "$stack" ]]; then
        echo "deploy: not applied" >&2
        exit 1
    fi
fi
"$tf" -chdir="$dir" apply -input=false deploy.tfplan
rm -f "$dir/deploy.tfplan"
mkdir -p .fk
"$tf" -chdir="$dir" output -raw client_config >".fk/$stack-deployment.json"
echo "deploy: done; clients: FK_DEPLOYMENT=$PWD/.fk/$stack-deployment.json" \
    "(and attach \`terraform -chdir=$dir output -raw client_policy_json\` to their role)"

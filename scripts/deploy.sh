#!/usr/bin/env bash
# `make deploy`: deploys FaaSKeeper to AWS with the credentials of whoever
# runs it (AWS_PROFILE, environment variables, SSO or an OIDC-assumed role,
# as the AWS CLI finds them).
#
#   scripts/deploy.sh STACK [apply|plan|destroy]     STACK: production | hybrid | redis
#
#   apply    (default) build the release zips (`make package`, ~14 min the
#            first time), `terraform init` and `plan`, show the plan, and
#            apply exactly that plan once you type the stack's name (or with
#            CONFIRM=STACK, in a pipeline that approved it already); then
#            write the clients' deployment document to .fk/STACK-deployment.json
#   plan     the same up to the plan, which it also writes to
#            terraform/stacks/STACK/deploy.plan.txt; changes nothing
#   destroy  plan and (after the same confirmation) apply a destroy
#
# Variables:
#   VARS=FILE          variables file (default terraform/stacks/STACK/terraform.tfvars;
#                      copy example.tfvars there)
#   TF_STATE_BUCKET    keep the state in this S3 bucket (writes backend_override.tf,
#                      git-ignored); TF_STATE_KEY (default faaskeeper/STACK.tfstate),
#                      TF_STATE_REGION (default the bucket's: AWS_REGION),
#                      TF_STATE_LOCK_TABLE (a DynamoDB table with key LockID)
#   SKIP_PACKAGE=1     use the zips already in target/lambda (a pipeline built them)
#   TERRAFORM=PATH     Terraform to run (default `terraform` on PATH, else .tools/bin/terraform)
#
# `terraform init -lockfile=readonly` installs exactly the AWS provider the
# stack's committed .terraform.lock.hcl records (5.100.0; terraform/README.md,
# "Provider versions"), checked against its hashes, and fails rather than
# pick another: a plan and its apply, a laptop and the pipeline, run the
# same provider. Moving to another version is a reviewed change of that
# file (`terraform providers lock` with every platform, README). It needs
# the registry (or a mirror in your CLI configuration).
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:-production}
action=${2:-apply}
case $stack in
production | hybrid | redis) ;;
*) echo "deploy: no stack $stack (production, hybrid or redis)" >&2; exit 2 ;;
esac
case $action in
apply | plan | destroy) ;;
*) echo "deploy: unknown action $action (apply, plan or destroy)" >&2; exit 2 ;;
esac
dir=terraform/stacks/$stack
vars=${VARS:-$dir/terraform.tfvars}
if [[ ! -f $vars ]]; then
    echo "deploy: no variables file $vars: copy $dir/example.tfvars to it and edit it, or set VARS=FILE" >&2
    exit 1
fi
vars=$(realpath "$vars")
tf=${TERRAFORM:-$(command -v terraform || echo "$PWD/.tools/bin/terraform")}
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
if [[ -z ${AWS_PROFILE:-}${AWS_ACCESS_KEY_ID:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}${AWS_SESSION_TOKEN:-} ]]; then
    echo "deploy: no AWS credentials in the environment (AWS_PROFILE, AWS_ACCESS_KEY_ID, …); using the default profile" >&2
fi

if [[ -n ${TF_STATE_BUCKET:-} ]]; then
    {
        echo "# Written by scripts/deploy.sh from TF_STATE_*; git-ignored."
        echo 'terraform {'
        echo '  backend "s3" {'
        echo "    bucket  = \"$TF_STATE_BUCKET\""
        echo "    key     = \"${TF_STATE_KEY:-faaskeeper/$stack.tfstate}\""
        echo "    region  = \"${TF_STATE_REGION:-${AWS_REGION:-us-east-1}}\""
        echo '    encrypt = true'
        if [[ -n ${TF_STATE_LOCK_TABLE:-} ]]; then echo "    dynamodb_table = \"$TF_STATE_LOCK_TABLE\""; fi
        echo '  }'
        echo '}'
    } >"$dir/backend_override.tf"
fi

if [[ -z ${SKIP_PACKAGE:-} && $action != destroy ]]; then
    make --no-print-directory package
fi
"$tf" -chdir="$dir" init -input=false -lockfile=readonly
plan_args=(-input=false -var-file="$vars" -out=deploy.tfplan)
if [[ $action == destroy ]]; then plan_args+=(-destroy); fi
"$tf" -chdir="$dir" plan "${plan_args[@]}"
"$tf" -chdir="$dir" show -no-color deploy.tfplan >"$dir/deploy.plan.txt"
if [[ $action == plan ]]; then
    echo "deploy: planned only; the plan is in $dir/deploy.plan.txt"
    exit 0
fi

if [[ ${CONFIRM:-} != "$stack" ]]; then
    if [[ ! -t 0 ]]; then
        echo "deploy: not applied: no terminal to confirm on; set CONFIRM=$stack to apply this plan" >&2
        exit 1
    fi
    read -r -p "$([[ $action == destroy ]] && echo Destroy || echo Apply) this plan in AWS? Type '$stack' to go on: " answer
    if [[ $answer != "$stack" ]]; then
        echo "deploy: not applied" >&2
        exit 1
    fi
fi
"$tf" -chdir="$dir" apply -input=false deploy.tfplan
rm -f "$dir/deploy.tfplan"
if [[ $action == destroy ]]; then
    echo "deploy: destroyed stack $stack"
    exit 0
fi
mkdir -p .fk
"$tf" -chdir="$dir" output -raw client_config >".fk/$stack-deployment.json"
"$tf" -chdir="$dir" output -raw client_policy_json >".fk/$stack-client-policy.json"
echo "deploy: done. Clients: FK_DEPLOYMENT=$PWD/.fk/$stack-deployment.json;" \
    "attach the policy in .fk/$stack-client-policy.json to their role or user"

#!/usr/bin/env bash
# `make lint-workflows`: audits the GitHub Actions workflows and actions in
# .github/ with the tools scripts/setup.sh installs into .tools/lint (offline,
# a few seconds):
#
#   zizmor --offline .github/   security audit (pinning, permissions,
#                               credentials, template injection, triggers…).
#                               Every finding is printed; a medium or high one
#                               fails.
#   actionlint                  syntax, expressions, job graph, action inputs,
#                               and shellcheck on every `run:` script. Any
#                               finding fails.
#
# Exits non-zero if either fails; runs both either way.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=.tools/lint/bin
for tool in zizmor actionlint shellcheck; do
    if [[ ! -x $bin/$tool ]]; then
        echo "lint-workflows: $bin/$tool is missing: run make setup" >&2
        exit 1
    fi
done
workflows=(.github/workflows/*.yml)
rc=0

echo "lint-workflows: $("$bin/zizmor" --version) on .github/"
# Exit codes: 0 no finding, 11 informational, 12 low, 13 medium, 14 high,
# anything else an error.
zrc=0
"$bin/zizmor" --offline --strict-collection --no-progress --quiet .github/ || zrc=$?
case $zrc in
0 | 11 | 12) ;;
13 | 14) echo "lint-workflows: zizmor: medium or high findings (above)" >&2; rc=1 ;;
*) echo "lint-workflows: zizmor failed (exit $zrc)" >&2; rc=1 ;;
esac

echo "lint-workflows: actionlint $("$bin/actionlint" --version | head -n 1) on ${workflows[*]}"
if "$bin/actionlint" -shellcheck "$bin/shellcheck" -pyflakes= "${workflows[@]}"; then
    echo "lint-workflows: actionlint: no findings"
else
    rc=1
fi
exit "$rc"

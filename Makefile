# The project's interface: every verb a newcomer or CI needs is one target.
# Backends (moto, redis-server) run on free loopback ports; see scripts/.

STORE ?= s3#                      user store of `make run`: s3 | dynamodb | redis
WRITERS ?= 2#                     writer instances of `make run`
CARGO ?= cargo
STACK ?= production#              root configuration of `make deploy`: production | hybrid | redis
FUNCTIONS := fk-writer fk-distributor fk-watch fk-heartbeat

.DEFAULT_GOAL := help
.PHONY: help setup build run test lint ci tf-check tf-docs package package-local deploy bench bench-model jepsen clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "  variables: STORE=$(STORE) (s3|dynamodb|redis), WRITERS=$(WRITERS), STACK=$(STACK)"

setup: ## install the tools into .tools/ (moto, Terraform 1.0.3 + AWS provider 3.39 mirror, checkov) and apt packages (redis, ZooKeeper)
	@scripts/setup.sh

# With the tests in the same invocation, the binaries and the tests share one
# feature set (the tests' dev-dependencies add features to shared crates), so
# `cargo test` afterwards reuses every artefact instead of compiling the
# dependency tree a second time: half the disk and the build time.
build: ## build every binary (functions, fk-local, the fk CLI) and the tests
	$(CARGO) build --workspace --bins --tests

run: setup build package-local ## run the whole stack locally, created by Terraform (STORE=s3|dynamodb|redis); Ctrl-C stops it all
	@rm -rf .fk/terraform; scripts/backends.sh run .fk -- sh -c 'STORE=$(STORE) scripts/terraform.sh local-apply .fk/terraform && \
	  exec target/debug/fk-local up --terraform-outputs .fk/terraform/outputs.json \
	  --endpoint "$$FK_AWS_ENDPOINT" --writers $(WRITERS) --state-dir .fk --bin-dir target/debug'

test: setup build tf-check package-local ## every test, against moto and redis started for the run and the Terraform-applied local stack
	@scripts/lint-workflows.sh
	@dir=.fk/test-$$$$; scripts/backends.sh run $$dir -- \
	  scripts/terraform.sh around $$dir/terraform -- $(CARGO) test --workspace && rm -rf $$dir

tf-check: setup ## Terraform offline: fmt -check, validate every root configuration, README tables, checkov
	@scripts/terraform.sh check

tf-docs: setup ## rewrite the input/output tables of terraform/*/*/README.md from the .tf files
	@.tools/checkov/bin/python scripts/tf-docs.py terraform/modules/* terraform/stacks/*

package-local: build ## zip the debug function binaries for the local stack (target/lambda-local)
	@scripts/package-local.py target/debug target/lambda-local $(FUNCTIONS)

# glibc 2.26 (Amazon Linux 2's): the same zips run on provided.al2 and provided.al2023.
package: ## release zips of the functions for AWS (target/lambda/<fn>/bootstrap.zip; 14 min on 2 cores from cold, whole-program optimised) and the collector configuration layer
	@scripts/setup.sh --package
	PATH="$(CURDIR)/.tools/cargo-lambda/bin:$$PATH" $(CARGO) lambda build --release \
	  --target x86_64-unknown-linux-gnu.2.26 --output-format zip $(addprefix --bin ,$(FUNCTIONS))
	@scripts/package-collector-config.py target/lambda/collector-config.zip

deploy: ## deploy to AWS with your credentials: package, plan, and (once you confirm) apply terraform/stacks/$(STACK)
	@scripts/deploy.sh $(STACK) apply

lint: lint-workflows ## check formatting, clippy warnings and the GitHub workflows (make lint-workflows)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	# A client with one user store builds without the others' SDKs.
	$(CARGO) clippy -p fk-client --no-default-features --features s3 -- -D warnings

.PHONY: lint-workflows
lint-workflows: setup ## audit .github/ offline: zizmor (no medium or high finding) and actionlint with shellcheck (no finding)
	@scripts/lint-workflows.sh

ci: lint test ## what CI runs: lint, then every test and the Terraform checks

bench: setup ## measure calls, CPU, latency, throughput, cold start vs ZooKeeper; rewrite docs/BENCHMARKS.md and docs/COST.md (2 cores: about 45 min from a fresh clone, 24 of them measuring)
	@scripts/bench.sh

bench-model: ## only the in-process model of the design (AWS delays, group commit before/after, 1-256 sessions, one and 8 writes in flight each): rewrites its part of docs/BENCHMARKS.md, no emulator (about 7 min of runs)
	@FK_BENCH_MODEL_ONLY=1 scripts/bench.sh

JEPSEN_SECONDS ?= 180
jepsen: setup build ## Jepsen-style runs: every fault mode on every store, JEPSEN_SECONDS each (default 180: about an hour), histories checked
	@scripts/backends.sh run .fk/jepsen -- $(CARGO) run -q -p fk-e2e --example jepsen -- \
	  --seconds $(JEPSEN_SECONDS) --history-dir .fk/jepsen/histories

clean: ## remove build output and local state (.fk); keeps .tools
	$(CARGO) clean
	rm -rf .fk

# The project's interface: every verb a newcomer or CI needs is one target.
# Backends (moto, redis-server) run on free loopback ports; see scripts/.

STORE ?= s3#                      user store of `make run`: s3 | dynamodb | redis
WRITERS ?= 2#                     writer instances of `make run`
CARGO ?= cargo

.DEFAULT_GOAL := help
.PHONY: help setup build run test lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'
	@echo "  variables: STORE=$(STORE) (s3|dynamodb|redis), WRITERS=$(WRITERS)"

setup: ## install the tools the project needs into .tools/ (moto; redis-server via apt)
	@scripts/setup.sh

build: ## build every binary (functions, fk-local, the fk CLI)
	$(CARGO) build --workspace --bins

run: setup build ## run the whole stack locally (STORE=s3|dynamodb|redis); Ctrl-C stops it all
	@scripts/backends.sh run .fk -- sh -c 'exec target/debug/fk-local up \
	  --endpoint "$$FK_AWS_ENDPOINT" --redis-url "$$FK_REDIS_URL" \
	  --store $(STORE) --writers $(WRITERS) --state-dir .fk --bin-dir target/debug'

test: setup build ## run every test against moto and redis started for the run
	@dir=.fk/test-$$$$; scripts/backends.sh run $$dir -- $(CARGO) test --workspace && rm -rf $$dir

lint: ## check formatting and clippy warnings
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench: ## (not built yet) the throughput/latency benchmark
	@echo "make bench: no benchmark exists yet; nothing was measured" >&2; exit 1

clean: ## remove build output and local state (.fk); keeps .tools
	$(CARGO) clean
	rm -rf .fk

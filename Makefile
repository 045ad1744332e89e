# devctl: build, test and try the demo. `make demo` and `make test` work on a fresh Debian
# machine: both prepare the Docker engine first (scripts/prepare-engine.sh, idempotent).

CARGO      ?= cargo
DEVCTL     ?= target/release/devctl
DEMO       ?= examples/demo
PROFILE    ?=
PREFIX     ?= $(HOME)/.cargo
INSTALLED  ?= $(PREFIX)/bin/devctl

DEMO_FLAGS = --project-dir $(DEMO) $(if $(PROFILE),--profile $(PROFILE))

.PHONY: all build install engine demo test lint bench up down nuke fidelity-up fidelity-down doctor status backup restore clean

all: build

## build: compile devctl (release)
build:
	$(CARGO) build --release --locked

## install: install devctl into $(PREFIX)/bin, its manual pages into $(PREFIX)/share/man/man1
## and its completions for bash, zsh and fish under $(PREFIX)/share
install:
	$(CARGO) install --path . --locked --root $(PREFIX)
	$(INSTALLED) man --directory $(PREFIX)/share/man/man1
	mkdir -p $(PREFIX)/share/bash-completion/completions $(PREFIX)/share/zsh/site-functions $(PREFIX)/share/fish/vendor_completions.d
	$(INSTALLED) completions bash > $(PREFIX)/share/bash-completion/completions/devctl
	$(INSTALLED) completions zsh > $(PREFIX)/share/zsh/site-functions/_devctl
	$(INSTALLED) completions fish > $(PREFIX)/share/fish/vendor_completions.d/devctl.fish

## engine: make sure docker, the daemon, compose v2+ and the test images are there
engine:
	scripts/prepare-engine.sh

## demo: prepare the engine, build devctl, bring the demo stack up healthy, show its status
demo: engine build
	$(DEVCTL) $(DEMO_FLAGS) up
	$(DEVCTL) $(DEMO_FLAGS) status

## test: prepare what the tests need and run them all
test: engine
	$(CARGO) test --locked --lib --bins --tests

## lint: formatting, clippy and the source tree's layering, as CI checks them
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) test --locked --test layering

## bench: devctl against raw docker compose on the demo stack, side by side
bench: engine build
	$(CARGO) bench --locked --bench compare -- --demo $(DEMO)

## up / down / status: the demo project's everyday verbs (PROFILE=full for the admin UI)
up: build
	$(DEVCTL) $(DEMO_FLAGS) up
down: build
	$(DEVCTL) $(DEMO_FLAGS) down
status: build
	$(DEVCTL) $(DEMO_FLAGS) status

## backup / restore: back up the demo's volumes; restore ID=… (default: the newest),
## which asks for the project name on a terminal (CONFIRM=devctl-demo without one)
ID      ?=
CONFIRM ?=
backup: build
	$(DEVCTL) $(DEMO_FLAGS) backup
restore: build
	$(DEVCTL) $(DEMO_FLAGS) restore $(if $(ID),$(ID),--latest) $(if $(CONFIRM),--confirm $(CONFIRM))

## fidelity-up / fidelity-down: the demo's fidelity stack (its images built, no source
## mounts, a project of its own) beside the live one; fidelity-down leaves the live stack
fidelity-up: build
	$(DEVCTL) $(DEMO_FLAGS) up --fidelity
fidelity-down: build
	$(DEVCTL) $(DEMO_FLAGS) down --fidelity

## doctor: check the environment and the demo project (compose files, Dockerfiles, env
## files); FORMAT=json|sarif for machines, STRICT=1 to fail on warnings too
FORMAT ?= human
STRICT ?=
doctor: build
	$(DEVCTL) $(DEMO_FLAGS) doctor --format $(FORMAT) $(if $(STRICT),--strict)

## nuke: the guarded `devctl down --volumes`: lists the demo's volumes, asks for the project
## name (CONFIRM=devctl-demo without a terminal), backs them up, then deletes them
nuke: build
	$(DEVCTL) $(DEMO_FLAGS) down --volumes $(if $(CONFIRM),--confirm $(CONFIRM))

clean:
	$(CARGO) clean

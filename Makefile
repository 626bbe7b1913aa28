# hako: build, demo, tests. Everything a target needs is installed by the
# target itself (scripts/deps.sh for Debian packages, the Go module proxy for
# Go tools), so a fresh Debian machine needs only Go and root.
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
STATICCHECK_VERSION := v0.8.2
TOOLS := $(CURDIR)/.cache/tools
BUNDLE := $(CURDIR)/.cache/busybox-bundle

.PHONY: all build deps demo test lint unit e2e fuzz fuzz-long conformance clean

all: build

# hako-init. musl when there is musl-gcc (scripts/deps.sh installs it):
# glibc's static start-up alone costs 0.2 ms per container. The kernel's
# uapi headers come from the system (musl ships none).
INIT_DIR := internal/nsenter/c
INIT_BIN := $(INIT_DIR)/hako-init
INIT_CC ?= $(shell command -v musl-gcc || echo $${CC:-cc})
KHDR := $(CURDIR)/.cache/kernel-headers
# hako-mon: the monitor of a detached hk container (internal/monitor/c),
# built and embedded as hako-init is.
MON_DIR := internal/monitor/c
MON_BIN := $(MON_DIR)/hako-mon

# One static binary, pure Go, with hako-init embedded: the small C program
# that is a container's init (internal/nsenter/c, ~70 KB static with musl).
build: $(INIT_BIN) $(MON_BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o internal/hkexec/payload/hk ./cmd/hk
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/hako ./cmd/hako
	ln -sfn hako bin/hk

$(INIT_BIN): $(INIT_DIR)/main.c $(INIT_DIR)/plan.c $(INIT_DIR)/plan.h
	@mkdir -p $(KHDR)
	@for d in linux asm-generic; do ln -sfn /usr/include/$$d $(KHDR)/$$d; done
	@ln -sfn /usr/include/$$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/asm $(KHDR)/asm
	$(INIT_CC) -O2 -ffunction-sections -fdata-sections -Wl,--gc-sections -static -s -Wall -Wextra -Werror -isystem $(KHDR) -o $@ $(INIT_DIR)/main.c $(INIT_DIR)/plan.c

$(MON_BIN): $(MON_DIR)/hako-mon.c $(INIT_BIN)
	$(INIT_CC) -O2 -ffunction-sections -fdata-sections -Wl,--gc-sections -static -s -Wall -Wextra -Werror -isystem $(KHDR) -o $@ $(MON_DIR)/hako-mon.c

deps:
	scripts/deps.sh

# The first command of the README: the front end, hk, on an image made
# here from Debian's busybox-static (no network), run with a hostname and
# limits, every step traced.
demo: deps build
	scripts/hk-demo.sh

# The runtime alone: a shell command in an isolated busybox bundle, traced.
.PHONY: demo-runtime
demo-runtime: deps build
	HAKO=bin/hako scripts/mkbundle.sh $(BUNDLE)
	scripts/demo.sh $(BUNDLE)

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(TOOLS)/staticcheck build
	@test -z "$$(gofmt -l cmd internal tests)" || { gofmt -l cmd internal tests; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...

unit: build
	$(GO) test -count=1 ./internal/...

# End-to-end: real containers from the built binary, as root.
e2e: build
	$(GO) test -count=1 -timeout 15m ./tests/ -hako.bin=$(CURDIR)/bin/hako

# The front end, hk (internal/hkcli), end to end: tests/hk.
.PHONY: hk-e2e
hk-e2e: build
	$(GO) test -count=1 -timeout 15m ./tests/hk/ -hako.bin=$(CURDIR)/bin/hako

# A few seconds per fuzz target in `make test`; fuzz-long runs minutes.
FUZZTIME ?= 3s
fuzz:
	@for t in FuzzDecode FuzzDecodeFast FuzzValidateID FuzzParseMountOptions FuzzParseSignal; do \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./internal/spec/ || exit 1; done

fuzz-long:
	$(MAKE) fuzz FUZZTIME=2m

# hako against runc, crun and a C floor (docs/benchmarks.md; ~4 min,
# BENCH_N=20 for a quick look); then hk's: pull against podman pull
# (docs/images.md) and run --rm against podman and Docker, the monitor's
# memory against conmon (docs/frontend.md).
.PHONY: bench bench-pull bench-hk
bench: build
	scripts/bench/run.sh
	scripts/bench/pull.sh
	scripts/bench/hk.sh

# hk pull vs podman pull from a local registry, and the shared-layers check
# (docs/images.md; ~30 s).
bench-pull: build
	scripts/bench/pull.sh

# hk run --rm vs podman and Docker, hako-mon vs conmon (docs/frontend.md;
# ~1 min, BENCH_N=10 for a quick look).
bench-hk: build
	scripts/bench/hk.sh

# A pure cgroup v2 kernel in a small VM (qemu, software emulation; ~30 s):
# hako's cgroup tests and limited containers where v1 can't be used at all.
.PHONY: vm-test
vm-test: build
	scripts/vm/run.sh

# containerd (ctr and CRI), Docker and podman from Debian's packages, each
# started by the tests with private state, driving bin/hako (~10 s; the
# first run installs the engines and builds crictl).
.PHONY: engines
engines: build
	scripts/engines/setup.sh
	$(GO) test -count=1 -timeout 15m ./tests/engines/ -hako.bin=$(CURDIR)/bin/hako

# A Debian 12 guest with systemd as PID 1, D-Bus, pure cgroup v2, AppArmor,
# and Docker, containerd and podman at their Debian defaults (qemu, software
# emulation): tests/systemd runs in it as root (docs/systemd-vm.md). The
# first run on a machine builds the image (about 5 minutes); after that,
# boot and tests take a few minutes.
.PHONY: systemd-test
systemd-test: build
	scripts/sysvm/test.sh

# A Kubernetes node in that VM runs its static pods on hako, then on runc
# for contrast: a standalone kubelet (built once per machine from the Go
# module proxy, scripts/k8s/kubelet.sh) on containerd's CRI with the systemd
# cgroup driver (tests/k8s; docs/engines.md, "Kubernetes"). Opt-in: not
# part of `make test`.
.PHONY: k8s-test
k8s-test: build
	scripts/k8s/test.sh

test: deps lint unit e2e hk-e2e engines fuzz vm-test systemd-test

conformance: deps build
	scripts/conformance/run.sh $(CURDIR)/bin/hako

# The CPU-limit experiment: run time vs CFS quota, plotted against 1/quota
# into docs/cpu-sweep.png and docs/cgroups.md (about a minute).
.PHONY: cpu-sweep
cpu-sweep: build
	scripts/cpu-sweep/run.sh $(CURDIR)/bin/hako

clean:
	rm -rf bin .cache $(INIT_BIN) $(MON_BIN)

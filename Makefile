# Lanyard: the two commands a new user needs are `make demo` and `make check`.
# Debian's python (not a pyenv one): python3-openvswitch and scapy live there.
# Everything is built by Meson/Ninja; this Makefile only sequences the steps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTHON     ?= /usr/bin/python3
PYTEST     ?= $(PYTHON) -m pytest
PREFIX     ?= /usr/local
# `make install OVS_NAMES=1` also installs ovs-vsctl/ovs-appctl names.
OVS_NAMES  ?= 0

.PHONY: all deps build build-asan check check-unit check-asan check-fuzz \
        check-interop demo bench install clean fuzz

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dbuildtype=debug

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

check-unit: build
	meson test -C $(BUILD) --print-errorlogs --no-rebuild

check-asan: build-asan
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ASAN_OPTIONS=detect_leaks=1 \
	    meson test -C $(ASAN_BUILD) --print-errorlogs --no-rebuild

# Python suites: OVSDB interop with real OVS peers, vsctl differential tests,
# namespace scenarios.  Run from Debian's python (see PYTHON above).
PY_SUITES = $(wildcard tests/dbd tests/interop tests/vsctl tests/scenarios tests/integration)

check-interop: build
	LANYARD_BUILD=$(abspath $(BUILD)) $(PYTEST) -q -p no:cacheprovider \
	    $(PY_SUITES)

# The whole suite: unit tests and fuzz-corpus replays (GCC build and the
# Clang ASan+UBSan build), then the interop and namespace scenarios.
check: check-unit check-asan check-interop

demo: build
	sh scripts/demo.sh $(abspath $(BUILD))

bench: build
	sh bench/run.sh $(abspath $(BUILD))

# Real fuzzing (not part of check): libFuzzer builds with clang.
fuzz: deps
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
	    -Db_lundef=false 2>/dev/null || true
	ninja -C build-fuzz
	sh tests/fuzz/run.sh build-fuzz

install: build
	meson install -C $(BUILD)
	if [ "$(OVS_NAMES)" = 1 ]; then sh scripts/install-ovs-names.sh $(PREFIX); fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz

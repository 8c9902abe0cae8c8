# Two commands for a fresh Debian 12 machine: `make demo` and `make test`.
# Each installs missing packages (apt), configures CMake (Release, ccache when
# present) into build/, builds, and runs.

BUILD_DIR ?= build
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure
JOBS ?= $(shell nproc)
# ccache hits across clones in other directories (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)

.PHONY: all deps deps-test configure build build-cli demo sweep test test-fast sanitize fuzz bench clean

all: build

deps:
	@deploy/install-deps.sh

# The tests also need Chromium (report), docker-compose (compose file) and iproute2.
deps-test:
	@deploy/install-deps.sh test

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The biofed executable alone (what demo and sweep run): no test binaries.
build-cli: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target biofed

# The main job on the default dataset (Fashion-MNIST from the Debian package):
# a baseline and a biomod (FL+WR+WS) federation over gRPC on loopback, each
# attacked by Inverting Gradients while it trains; a comparison table on
# stdout, results/demo/{study.db,summary.json,report.html,images/}.
demo: build-cli
	$(BUILD_DIR)/bin/biofed simulate --out results/demo

# The paper's gradient-inversion grid, quick preset (about 15 minutes on 2
# cores); rerun to resume. results/sweep-quick/{study.db,report.html}.
sweep: build-cli
	$(BUILD_DIR)/bin/biofed sweep --preset quick --out results/sweep-quick

# The whole suite, long checks included; fails when any test fails.
test: deps-test build
	cd $(BUILD_DIR) && ctest -j $(JOBS) $(CTEST_FLAGS)

# Unit tests only (skips the CTest label `long`, which the soak test also has).
test-fast: deps-test build
	cd $(BUILD_DIR) && ctest -j $(JOBS) -LE long $(CTEST_FLAGS)

# The parts without LibTorch (server core and service, codec, report) and
# their tests under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps-test
	cmake --preset sanitize
	cmake --build build-sanitize -j $(JOBS)
	ctest --preset sanitize

# libFuzzer on every parser of outside bytes (clang, ASan+UBSan), each for
# FUZZ_SECONDS; crashes land in build-fuzz/fuzz/artifacts/.
FUZZ_SECONDS ?= 60
fuzz: deps-test
	cmake --preset fuzz
	cmake --build build-fuzz -j $(JOBS) --target fuzzers
	tests/fuzz/run_fuzzers.sh build-fuzz $(FUZZ_SECONDS)

bench: build
	bench/run_cpu.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) build-sanitize build-fuzz

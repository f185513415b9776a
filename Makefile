# The two commands of the README:
#   make demo   installs what is missing, builds, and trains the MLP on Fashion-MNIST
#   make test   installs what is missing, builds, and runs the whole test suite
# plus `make test-sanitize` (AddressSanitizer + UndefinedBehaviorSanitizer) and `make bench`;
# `make fuzz` (libFuzzer harnesses, FUZZ_SECONDS each; `make fuzz-smoke` for CI) and
# `make test-tsan` (the tests under ThreadSanitizer), both with clang.
BUILD ?= build
SAN_BUILD ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
# harnesses to run (empty: all); e.g. make fuzz FUZZ_HARNESSES="graphdef idx"
FUZZ_HARNESSES ?=

.PHONY: all deps build demo test test-sanitize bench clean fuzz-deps fuzz-build fuzz fuzz-smoke test-tsan test-arm64 test-arm64-inference

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/examples/mlp $(ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTFC_SANITIZE=ON -DTFC_BUILD_BENCH=OFF
	cmake --build $(SAN_BUILD) -j$(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j$(JOBS)

# libFuzzer needs clang; the library is built instrumented (ASan + UBSan) with
# the harnesses (fuzz/CMakeLists.txt, docs/FUZZING.md).
fuzz-deps:
	@bash fuzz/install-deps.sh

fuzz-build: deps fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER_LAUNCHER=$(CURDIR)/fuzz/cc-no-werror.sh -DTFC_FUZZ=ON \
		-DTFC_BUILD_TESTS=OFF -DTFC_BUILD_EXAMPLES=OFF -DTFC_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) --target fuzz_all -j$(JOBS)

fuzz: fuzz-build
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-smoke: fuzz-build
	bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SMOKE_SECONDS) $(FUZZ_HARNESSES)

# ThreadSanitizer over the test suite: every session runs its nodes and big
# kernels on the thread pool, so each test is a concurrency test (tests/tsan.supp
# says what is suppressed and why). Left out: test_alloc_free_steps (it
# interposes malloc, as TSan does); install_consumer and python_frontend (they
# load the library into another program). (test_devices_partition is back: its
# While-on-/cpu:1 hang no longer reproduces, 300 runs; see docs/FUZZING.md.)
# Failed allocations return NULL, as
# the library expects (tests ask for too much on purpose). clang, not gcc: gcc
# instruments the ifunc resolvers of src/core/vector_clones.h, which run before
# TSan's runtime is up (a crash at load); clang builds no clones. Its warnings
# that gcc lacks are warnings, not errors, here (fuzz/cc-no-werror.sh).
TSAN_EXCLUDE ?= test_alloc_free_steps|install_consumer|python_frontend
test-tsan: deps fuzz-deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER_LAUNCHER=$(CURDIR)/fuzz/cc-no-werror.sh \
		"-DCMAKE_C_FLAGS=-fsanitize=thread -fno-omit-frame-pointer" \
		-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
		"-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread -shared-libsan" \
		-DTFC_BUILD_BENCH=OFF -DTFC_BUILD_EXAMPLES=OFF
	cmake --build $(TSAN_BUILD) -j$(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1" \
		ctest --output-on-failure -j$(JOBS) --timeout 600 -E '^($(TSAN_EXCLUDE))$$'

bench: build
	bash bench/run.sh $(BUILD)

# Cross builds for arm64 (docs/MOBILE.md): Debian's cross compiler and the
# target's libraries (install-deps.sh --cross arm64), the test suite run under
# qemu-user, then the inference-only library (TFC_INFERENCE_ONLY) and its
# tests. Without MPI (no distributed runtime); left out: tests that run the
# build's programs outside CTest's emulator (install_consumer, tfc_inspect_*)
# or load the arm64 library into the host's python3 (python_frontend).
ARM64_BUILD ?= build-arm64
ARM64_INFERENCE_BUILD ?= build-arm64-inference
ARM64_EXCLUDE ?= install_consumer|python_frontend|tfc_inspect_.*
ARM64_TOOLCHAIN = -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
test-arm64:
	@bash scripts/install-deps.sh --cross arm64
	cmake -S . -B $(ARM64_BUILD) $(ARM64_TOOLCHAIN) -DCMAKE_BUILD_TYPE=Release \
		-DTFC_DISTRIBUTED=OFF -DTFC_BUILD_BENCH=OFF -DTFC_BUILD_EXAMPLES=OFF
	cmake --build $(ARM64_BUILD) -j$(JOBS)
	cd $(ARM64_BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 1800 -E '^($(ARM64_EXCLUDE))$$'
	$(MAKE) test-arm64-inference

# only the inference-only library for arm64 and its tests under qemu (CI)
test-arm64-inference:
	@bash scripts/install-deps.sh --cross arm64
	cmake -S . -B $(ARM64_INFERENCE_BUILD) $(ARM64_TOOLCHAIN) -DCMAKE_BUILD_TYPE=MinSizeRel \
		-DTFC_INFERENCE_ONLY=ON
	cmake --build $(ARM64_INFERENCE_BUILD) -j$(JOBS)
	cd $(ARM64_INFERENCE_BUILD) && ctest --output-on-failure -j$(JOBS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD) $(ARM64_BUILD) $(ARM64_INFERENCE_BUILD)

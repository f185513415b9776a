# Cross builds for 64-bit ARM Linux with Debian's cross compiler
# (crossbuild-essential-arm64) and the target's libraries from Debian's
# multiarch packages (scripts/install-deps.sh --cross arm64, docs/MOBILE.md):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# The tests run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR): ctest as usual.
set(TFC_CROSS_TRIPLET aarch64-linux-gnu)
set(TFC_CROSS_QEMU qemu-aarch64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)

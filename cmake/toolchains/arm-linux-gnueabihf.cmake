# Cross builds for 32-bit ARM Linux (ARMv7, hard float) with Debian's cross
# compiler (crossbuild-essential-armhf); Debian has no oneDNN for armhf, so
# this is for the inference-only library (scripts/install-deps.sh --cross
# armhf, docs/MOBILE.md):
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake \
#         -DTFC_INFERENCE_ONLY=ON
set(TFC_CROSS_TRIPLET arm-linux-gnueabihf)
set(TFC_CROSS_QEMU qemu-arm)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-multiarch.cmake)

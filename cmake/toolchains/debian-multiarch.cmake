# What the toolchain files of this directory share: Debian's cross gcc for
# ${TFC_CROSS_TRIPLET}, the target's libraries where Debian's multiarch
# packages put them (/usr/lib/<triplet>, headers in /usr/include), programs
# that run at build time (protoc-c) from the host, and qemu-user to run the
# target's programs (tests) here.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${TFC_CROSS_TRIPLET}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${TFC_CROSS_TRIPLET})
# the host's x86-64 libraries must never be found
set(CMAKE_FIND_ROOT_PATH /usr/${TFC_CROSS_TRIPLET} /usr/local/lib/tfc-cross/${TFC_CROSS_TRIPLET} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# oneDNN's headers for the target (scripts/install-cross-deps.sh puts them
# there: the host's libdnnl-dev owns /usr/include/oneapi)
list(APPEND CMAKE_PREFIX_PATH /usr/local/lib/tfc-cross/${TFC_CROSS_TRIPLET})
# pkg-config reads the target's .pc files only
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${TFC_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
# qemu-user runs the target's programs with the target's loader and libc
# from Debian's multiarch libc6:<arch> (/lib/ld-linux-*.so, /lib/<triplet>),
# which the target's -dev packages bring. Not with -L /usr/<triplet> (the
# cross toolchain's libc): mixed with the multiarch libraries, a program's
# first pthread_create never returned under qemu 7.2.
set(CMAKE_CROSSCOMPILING_EMULATOR ${TFC_CROSS_QEMU})

#!/bin/sh
# Compiler launcher for the clang builds (`make fuzz`, `make test-tsan`):
# runs the compile command given with -Wno-error appended. The project
# compiles with -Werror for gcc, its compiler; clang warns about other things
# (string concatenation in arrays, unused static inline functions), which
# must not stop a fuzzing or ThreadSanitizer build. Warnings still print.
exec "$@" -Wno-error

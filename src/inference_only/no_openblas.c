/* The inference-only build (cmake/mobile.cmake) has no OpenBLAS, whose
 * threads the session would otherwise turn off (src/runtime/session.c). */
void openblas_set_num_threads(int n);

void openblas_set_num_threads(int n) { (void)n; }

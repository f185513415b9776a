# Cross builds and the small inference library (docs/MOBILE.md), included by
# the top CMakeLists.txt before it looks for the dependencies.
#
#   TFC_INFERENCE_ONLY   only what running a frozen GraphDef needs: no
#                        gradients() walk, optimizers, savers, summaries,
#                        event/record writers, queues, input pipelines,
#                        distributed runtime, image codecs. Depends on
#                        protobuf-c and libc only: matrix products in plain
#                        C (src/ops/gemm_portable.c), no MPI, no OpenMP.
#   TFC_SELECTIVE_OPS_FROM=<graph.pb>
#                        with TFC_INFERENCE_ONLY, registers only the op
#                        families the GraphDef uses
#                        (scripts/selective_ops.py), so a static program
#                        links only their kernels.
#
# How the selection works, with no #ifdef in the registry or the executor:
# every family's table lives in its own file, so leaving a feature out is
# leaving its files out (TFC_MOBILE_EXCLUDE below), and the registry is
# compiled from a copy of src/graph/op_registry.c whose families[] list
# keeps only the families that are compiled (and selected). What the kept
# files still call from the files left out (tfc_gradients from function
# bodies, ...) is answered by src/inference_only/, which fails cleanly.

option(TFC_INFERENCE_ONLY "Build only what running a frozen GraphDef needs (docs/MOBILE.md)" OFF)
set(TFC_SELECTIVE_OPS_FROM "" CACHE FILEPATH
  "With TFC_INFERENCE_ONLY: register only the op families this GraphDef uses")

# The portable GEMM is the inference library's: the full library also needs
# LAPACK (src/ops/linalg.c), so its cross builds take OpenBLAS and oneDNN
# from Debian's multiarch packages instead (docs/MOBILE.md).
set(TFC_PORTABLE_GEMM ${TFC_INFERENCE_ONLY})
if(TFC_INFERENCE_ONLY)
  set(TFC_DISTRIBUTED OFF)
  set(TFC_BUILD_EXAMPLES OFF)
  set(TFC_BUILD_BENCH OFF)
  # each function and object its own section, so that a static program's
  # link (-Wl,--gc-sections) keeps only what it calls
  add_compile_options(-ffunction-sections -fdata-sections)
  # gcc's -Os (MinSizeRel, what a small library is built with) inlines
  # differently and reports may-be-uninitialized variables that are not
  add_compile_options(-Wno-error=maybe-uninitialized)
elseif(TFC_SELECTIVE_OPS_FROM)
  message(FATAL_ERROR "TFC_SELECTIVE_OPS_FROM needs -DTFC_INFERENCE_ONLY=ON")
endif()

if(TFC_INFERENCE_ONLY)
  # the names tests, examples and tools link, standing for nothing here
  foreach(t PkgConfig::OPENBLAS tfc::dnnl PkgConfig::PNG PkgConfig::JPEG PkgConfig::GIF PkgConfig::SNAPPY
            ZLIB::ZLIB OpenMP::OpenMP_C)
    add_library(${t} INTERFACE IMPORTED)
  endforeach()
  # no OpenMP either: src/core/threadpool.c asks it for nothing without _OPENMP
  set(TFC_DEPENDENCIES Threads::Threads m)
endif()

# Files the inference library leaves out (regular expressions on paths).
set(TFC_MOBILE_EXCLUDE
  "/src/autodiff/gradients\\.c$"
  "/src/train/" "/src/data/" "/src/distributed/" "/src/nn/"
  "/src/formats/(events|event_reader|tfrecord|idx|sstable|tensor_bundle|meta_graph|meta_graph_saver|saved_model|queue_runner_def|checkpoint[a-z_]*)\\.c$"
  "/src/ops/(summary|image|image_gif|image_bmp|training|save_restore|string_io|resource_variable_training|serialize_tensor|mutex)\\.c$"
  # oneDNN's convolutions (im2col + the portable GEMM instead) and LAPACK's
  "/src/ops/conv_dnnl\\.c$" "/src/ops/linalg\\.c$"
  # the quantized ops: their int8 products are oneDNN's for now
  "/src/ops/quantize[a-z_]*\\.c$")
# ... except these, which the GraphDef import uses
set(TFC_MOBILE_KEEP src/data/attr_lists.c)

# Filters the library's source list in place for the options above.
function(tfc_mobile_filter_sources var)
  set(sources ${${var}})
  if(NOT TFC_INFERENCE_ONLY)
    list(FILTER sources EXCLUDE REGEX "/src/(ops/gemm_portable\\.c$|inference_only/)")
    set(${var} ${sources} PARENT_SCOPE)
    return()
  endif()
  list(FILTER sources EXCLUDE REGEX "/src/ops/gemm\\.c$") # gemm_portable.c instead
  foreach(re ${TFC_MOBILE_EXCLUDE})
    list(FILTER sources EXCLUDE REGEX "${re}")
  endforeach()
  foreach(f ${TFC_MOBILE_KEEP})
    list(APPEND sources ${CMAKE_SOURCE_DIR}/${f})
  endforeach()

  # the families whose tables are compiled
  set(compiled)
  foreach(src ${sources})
    file(STRINGS ${src} defs REGEX "^const tfc_op_def tfc_ops_[a-z0-9_]+\\[\\]")
    foreach(d ${defs})
      string(REGEX REPLACE "^const tfc_op_def tfc_ops_([a-z0-9_]+)\\[\\].*" "\\1" fam "${d}")
      list(APPEND compiled ${fam})
    endforeach()
  endforeach()
  set(keep ${compiled})
  if(TFC_SELECTIVE_OPS_FROM)
    find_program(TFC_PYTHON3_FOR_OPS python3 REQUIRED)
    execute_process(
      COMMAND ${TFC_PYTHON3_FOR_OPS} ${CMAKE_SOURCE_DIR}/scripts/selective_ops.py --families
              ${TFC_SELECTIVE_OPS_FROM} ${CMAKE_SOURCE_DIR}/src
      OUTPUT_VARIABLE selected ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "TFC_SELECTIVE_OPS_FROM=${TFC_SELECTIVE_OPS_FROM}: ${err}")
    endif()
    string(REGEX MATCHALL "[a-z0-9_]+" selected "${selected}")
    foreach(fam ${selected})
      if(NOT fam IN_LIST compiled)
        message(FATAL_ERROR "TFC_SELECTIVE_OPS_FROM=${TFC_SELECTIVE_OPS_FROM}: the GraphDef uses ops "
          "of the family '${fam}', which the inference-only build leaves out (cmake/mobile.cmake)")
      endif()
    endforeach()
    set(keep core ${selected}) # core: Const, Placeholder, Identity, NoOp, ...
    list(REMOVE_DUPLICATES keep)
    set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
      ${TFC_SELECTIVE_OPS_FROM})
  endif()

  # the registry, with the families left out cut from its families[] list
  set(registry ${CMAKE_SOURCE_DIR}/src/graph/op_registry.c)
  file(READ ${registry} text)
  string(REGEX MATCHALL "extern const tfc_op_def tfc_ops_[a-z0-9_]+\\[\\]" listed "${text}")
  set(dropped)
  foreach(l ${listed})
    string(REGEX REPLACE ".*tfc_ops_([a-z0-9_]+)\\[\\]" "\\1" fam "${l}")
    if(NOT fam IN_LIST keep)
      string(REGEX REPLACE "([^a-z0-9_])tfc_ops_${fam}[ \t\r\n]*," "\\1" text "${text}")
      string(REGEX REPLACE "([^a-z0-9_])tfc_ops_${fam}([ \t\r\n]*})" "\\1\\2" text "${text}")
      string(REGEX MATCH "tfc_ops_${fam}[^a-z0-9_[]" still "${text}")
      if(still)
        message(FATAL_ERROR "cmake/mobile.cmake: cannot cut tfc_ops_${fam} from the families[] "
          "list of src/graph/op_registry.c (expected 'tfc_ops_${fam},')")
      endif()
      list(APPEND dropped ${fam})
    endif()
  endforeach()
  set(generated ${CMAKE_BINARY_DIR}/inference_only/op_registry_inference.c)
  string(PREPEND text "/* Generated by cmake/mobile.cmake from src/graph/op_registry.c: the families\n"
    " * left out of this inference-only build are cut from families[]. */\n")
  file(CONFIGURE OUTPUT ${generated} CONTENT "${text}" @ONLY)
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${registry})
  list(FILTER sources EXCLUDE REGEX "/src/graph/op_registry\\.c$")
  list(APPEND sources ${generated})
  list(SORT keep)
  string(REPLACE ";" " " keep_text "${keep}")
  message(STATUS "tfc inference-only: op families ${keep_text}")
  set(${var} ${sources} PARENT_SCOPE)
endfunction()

# The inference-only build's tests (the rest need what it leaves out), and
# tools/tfc_run_graphdef linked static, the program bench/inference_size.sh
# measures. -Wl,--gc-sections keeps only the functions a program reaches.
function(tfc_mobile_tests)
  # -lprotobuf-c rather than pkg-config's path to the .so, so that -static
  # takes libprotobuf-c.a
  set_property(TARGET PkgConfig::PROTOBUF_C PROPERTY INTERFACE_LINK_LIBRARIES protobuf-c)
  add_executable(tfc_run_graphdef ${CMAKE_SOURCE_DIR}/tools/tfc_run_graphdef.c)
  target_link_libraries(tfc_run_graphdef PRIVATE tfc PkgConfig::PROTOBUF_C Threads::Threads m)
  target_link_options(tfc_run_graphdef PRIVATE -Wl,--gc-sections)
  if(NOT TFC_SANITIZE) # (ASan's runtime cannot be linked static)
    target_link_options(tfc_run_graphdef PRIVATE -static)
  endif()
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
    # binutils 2.40's ld, static with --gc-sections, failed some links here
    # ("relocation truncated to fit: R_AARCH64_LD64_GOT_LO12_NC") while
    # relaxing GOT loads; without relaxation they link
    target_link_options(tfc_run_graphdef PRIVATE -Wl,--no-relax)
  endif()
  # the same with the system's shared libc (as on Android, where TensorFlow
  # Lite's figures come from): tfc and protobuf-c static, libc, libm shared
  add_executable(tfc_run_graphdef_shared_libc ${CMAKE_SOURCE_DIR}/tools/tfc_run_graphdef.c)
  target_link_libraries(tfc_run_graphdef_shared_libc PRIVATE tfc -l:libprotobuf-c.a Threads::Threads m)
  target_link_options(tfc_run_graphdef_shared_libc PRIVATE -Wl,--gc-sections -Wl,--as-needed)
  add_test(NAME tfc_run_graphdef COMMAND tfc_run_graphdef
    ${CMAKE_SOURCE_DIR}/tests/data/inference/mlp_frozen.pb x y 5)
  set_tests_properties(tfc_run_graphdef PROPERTIES PASS_REGULAR_EXPRESSION "y: \\[5, 10\\]")
  foreach(name test_inference_graph test_gemm_portable)
    add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/${name}.c ${CMAKE_SOURCE_DIR}/tests/harness.c)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(${name} PRIVATE tfc PkgConfig::PROTOBUF_C Threads::Threads m)
    target_link_options(${name} PRIVATE -Wl,--gc-sections)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT 900
      ENVIRONMENT "TFC_TEST_DATA=${CMAKE_SOURCE_DIR}/tests/data")
  endforeach()
endfunction()

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
#                        with TFC_INFERENCE_ONLY, registers only the ops
#                        the GraphDef uses, and core's
#                        (scripts/selective_ops.py --generate), so a static
#                        program links only their kernels.
#
# How the selection works, with no #ifdef in the registry or the executor:
# every family's table lives in its own file, so leaving a feature out is
# leaving its files out (TFC_MOBILE_EXCLUDE below), and the registry is
# compiled from a copy of src/graph/op_registry.c whose families[] list
# keeps only the families that are compiled (and selected). A selective
# build compiles each selected family from a generated file that includes
# the family's file with its table renamed, unreferenced, and defines the
# table anew with only the entries of the selected ops. What the kept
# files still call from the files left out (tfc_gradients from function
# bodies, ...) is answered by src/inference_only/, which fails cleanly.

option(TFC_INFERENCE_ONLY "Build only what running a frozen GraphDef needs (docs/MOBILE.md)" OFF)
set(TFC_SELECTIVE_OPS_FROM "" CACHE FILEPATH
  "With TFC_INFERENCE_ONLY: register only the ops this GraphDef uses")

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
  "/src/ops/(summary|image|image_gif|image_bmp|training|training_fused|save_restore|string_io|resource_variable_training|serialize_tensor|mutex)\\.c$"
  # oneDNN's convolutions (im2col + the portable GEMM instead), its
  # bfloat16 products (src/inference_only/ says no) and LAPACK's
  "/src/ops/conv_dnnl\\.c$" "/src/ops/bfloat16_products\\.c$" "/src/ops/linalg\\.c$"
  # the quantized ops: their int8 products are oneDNN's for now
  "/src/ops/quantize[a-z_]*\\.c$")
# ... except these, which the GraphDef import uses
set(TFC_MOBILE_KEEP src/data/attr_lists.c)

# The ops a GraphDef uses (scripts/selective_ops.py), as a list in `var`,
# less core's (Const, Placeholder, ...: every build registers them).
function(tfc_mobile_graph_ops graph var)
  find_program(TFC_PYTHON3_FOR_OPS python3 REQUIRED)
  execute_process(
    COMMAND ${TFC_PYTHON3_FOR_OPS} ${CMAKE_SOURCE_DIR}/scripts/selective_ops.py ${graph}
            ${CMAKE_SOURCE_DIR}/src
    OUTPUT_VARIABLE lines RESULT_VARIABLE rc)
  string(REGEX MATCHALL "[A-Za-z0-9_]+ [a-z0-9_]+\n" lines "${lines}")
  set(ops)
  foreach(l ${lines}) # "Op family"
    if(NOT l MATCHES " core\n$")
      string(REGEX REPLACE " .*" "" op "${l}")
      list(APPEND ops ${op})
    endif()
  endforeach()
  set(${var} ${ops} PARENT_SCOPE)
endfunction()

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
    # per op: each family the GraphDef uses is compiled from a generated
    # file whose table lists only the GraphDef's ops (and all of core's:
    # Const, Placeholder, Identity, NoOp, which the import and the runtime
    # make themselves); the family's own table is renamed and left to
    # --gc-sections, with every kernel only it reaches
    find_program(TFC_PYTHON3_FOR_OPS python3 REQUIRED)
    execute_process(
      COMMAND ${TFC_PYTHON3_FOR_OPS} ${CMAKE_SOURCE_DIR}/scripts/selective_ops.py
              --generate ${CMAKE_BINARY_DIR}/inference_only/selected_ops
              ${TFC_SELECTIVE_OPS_FROM} ${CMAKE_SOURCE_DIR}/src
      OUTPUT_VARIABLE generated ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "TFC_SELECTIVE_OPS_FROM=${TFC_SELECTIVE_OPS_FROM}: ${err}")
    endif()
    string(REGEX MATCHALL "[^\n]+" generated "${generated}")
    set(keep)
    foreach(line ${generated}) # "family source generated"
      string(REPLACE " " ";" parts "${line}")
      list(GET parts 0 fam)
      list(GET parts 1 family_source)
      list(GET parts 2 family_selected)
      if(NOT fam IN_LIST compiled OR NOT family_source IN_LIST sources)
        message(FATAL_ERROR "TFC_SELECTIVE_OPS_FROM=${TFC_SELECTIVE_OPS_FROM}: the GraphDef uses ops "
          "of the family '${fam}', which the inference-only build leaves out (cmake/mobile.cmake)")
      endif()
      list(REMOVE_ITEM sources ${family_source})
      list(APPEND sources ${family_selected})
      list(APPEND keep ${fam})
      # a new op in the family's table changes what is generated
      set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${family_source})
    endforeach()
    set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
      ${TFC_SELECTIVE_OPS_FROM} ${CMAKE_SOURCE_DIR}/scripts/selective_ops.py)
    tfc_mobile_graph_ops(${TFC_SELECTIVE_OPS_FROM} ops_used)
    set_property(GLOBAL PROPERTY TFC_SELECTED_OPS ${ops_used}) # for tfc_mobile_tests
    string(REPLACE ";" " " ops_text "${ops_used}")
    message(STATUS "tfc inference-only: ops of ${TFC_SELECTIVE_OPS_FROM}: ${ops_text} (and core's)")
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
  # A selective build registers only its GraphDef's ops: it runs the
  # committed MLP only if those include the MLP's, and test_inference_graph
  # (which builds graphs of other ops too) not at all.
  set(tests test_inference_graph test_gemm_portable)
  set(run_mlp ON)
  if(TFC_SELECTIVE_OPS_FROM)
    list(REMOVE_ITEM tests test_inference_graph)
    get_property(selected GLOBAL PROPERTY TFC_SELECTED_OPS)
    tfc_mobile_graph_ops(${CMAKE_SOURCE_DIR}/tests/data/inference/mlp_frozen.pb mlp_ops)
    foreach(op ${mlp_ops})
      if(NOT op IN_LIST selected)
        set(run_mlp OFF)
      endif()
    endforeach()
    message(STATUS "tfc inference-only, selective: test_inference_graph left out; "
      "tfc_run_graphdef's test on the committed MLP ${run_mlp}")
  endif()
  if(run_mlp)
    add_test(NAME tfc_run_graphdef COMMAND tfc_run_graphdef
      ${CMAKE_SOURCE_DIR}/tests/data/inference/mlp_frozen.pb x y 5)
    set_tests_properties(tfc_run_graphdef PROPERTIES PASS_REGULAR_EXPRESSION "y: \\[5, 10\\]")
  endif()
  foreach(name ${tests})
    add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/${name}.c ${CMAKE_SOURCE_DIR}/tests/harness.c)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(${name} PRIVATE tfc PkgConfig::PROTOBUF_C Threads::Threads m)
    target_link_options(${name} PRIVATE -Wl,--gc-sections)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES TIMEOUT 900
      ENVIRONMENT "TFC_TEST_DATA=${CMAKE_SOURCE_DIR}/tests/data")
  endforeach()
endfunction()

# registry tests: formats and matching (registry_*_test.c, fuzz corpus
# replays), then the engine (reg_node_*_test.c) below its own heading.

# ---- formats (owner: formats) -------------------------------------------
set(NI_REG_TEST_INCLUDES ${PROJECT_SOURCE_DIR}/node/registry/src)
foreach(name address batch match optout)
  ni_add_test(registry_${name}_test
    SOURCES registry_${name}_test.c
    LIBS nointrude::registry
    INCLUDES ${NI_REG_TEST_INCLUDES})
endforeach()

# Fuzz targets of the registry's decoders (tests/fuzz/fuzz_<name>.c): the
# replay of each seed corpus runs as a test with any compiler; with
# NOINTRUDE_BUILD_FUZZ and clang, libFuzzer binaries are built too
# (linking ni_fuzz_dht from fuzz.cmake):
#   build/fuzz/tests/fuzz_batch_file -max_total_time=120 /tmp/out \
#     tests/fuzz/corpus/batch_file
# The seed corpora are written by make_reg_corpus (a target, not a test):
#   make_reg_corpus tests/fuzz/corpus/{manifest,batch_file,optout,chunk}
set(NI_REG_FUZZ_TARGETS manifest batch_file optout chunk)
set(NI_REG_FUZZ_INCLUDES ${PROJECT_SOURCE_DIR}/node/registry/src ${NI_FUZZ_DIR})

foreach(name ${NI_REG_FUZZ_TARGETS})
  ni_add_fuzz_replay(${name} LIBS nointrude::registry
    INCLUDES ${NI_REG_FUZZ_INCLUDES})
endforeach()

add_executable(make_reg_corpus ${NI_FUZZ_DIR}/make_reg_corpus.c)
target_include_directories(make_reg_corpus PRIVATE ${NI_REG_FUZZ_INCLUDES})
target_link_libraries(make_reg_corpus PRIVATE nointrude::registry)

if(NOINTRUDE_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # An instrumented copy of the registry on top of fuzz.cmake's ni_fuzz_dht.
  ni_add_fuzz_copy(ni_fuzz_registry nointrude_registry LIBS ni_fuzz_dht)
  foreach(name ${NI_REG_FUZZ_TARGETS})
    ni_add_fuzzer(${name} LIBS ni_fuzz_registry)
  endforeach()
endif()

# ---- engine (owner: engine) ---------------------------------------------
# reg_node_test runs on node_test's in-memory network (net_harness.c).
ni_add_test(reg_node_test SOURCES reg_node_test.c net_harness.c
  LIBS nointrude::registry
  INCLUDES ${PROJECT_SOURCE_DIR}/node/registry/src)

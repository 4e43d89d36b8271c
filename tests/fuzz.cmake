# Fuzz targets: one per decoder (tests/fuzz/fuzz_*.c, each defining
# LLVMFuzzerTestOneInput). With any compiler each is linked with
# fuzz/replay_main.c and ctest replays its seed corpus; with
# NOINTRUDE_BUILD_FUZZ and clang, real libFuzzer binaries are built too:
#   cmake -B build/fuzz --preset fuzz
#   cmake --build build/fuzz --target fuzz_datagram fuzz_record
#   build/fuzz/tests/fuzz_datagram -max_total_time=120 /tmp/out tests/fuzz/corpus/datagram
# The seed corpora are written by make_corpus (a target, not a test):
#   make_corpus tests/fuzz/corpus/datagram tests/fuzz/corpus/record
set(NI_FUZZ_TARGETS datagram record)

foreach(name ${NI_FUZZ_TARGETS})
  ni_add_fuzz_replay(${name} LIBS nointrude::dht
    INCLUDES ${PROJECT_SOURCE_DIR}/dht/src)
endforeach()

add_executable(make_corpus ${NI_FUZZ_DIR}/make_corpus.c)
target_include_directories(make_corpus PRIVATE ${PROJECT_SOURCE_DIR}/dht/src)
target_link_libraries(make_corpus PRIVATE nointrude::dht)

if(NOINTRUDE_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  ni_add_fuzz_copy(ni_fuzz_dht nointrude_dht
    LIBS nointrude::crypto PkgConfig::MSGPACK)
  foreach(name ${NI_FUZZ_TARGETS})
    ni_add_fuzzer(${name} LIBS ni_fuzz_dht)
  endforeach()
endif()

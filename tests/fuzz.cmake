# Fuzz targets: one per decoder (tests/fuzz/fuzz_*.c, each defining
# LLVMFuzzerTestOneInput). With any compiler each is linked with
# fuzz/replay_main.c and ctest replays its seed corpus; with
# NOINTRUDE_BUILD_FUZZ and clang, real libFuzzer binaries are built too:
#   cmake -B build/fuzz --preset fuzz
#   cmake --build build/fuzz --target fuzz_datagram fuzz_record
#   build/fuzz/tests/fuzz_datagram -max_total_time=120 /tmp/out tests/fuzz/corpus/datagram
# The seed corpora are written by make_corpus (a target, not a test):
#   make_corpus tests/fuzz/corpus/datagram tests/fuzz/corpus/record
set(NI_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(NI_FUZZ_TARGETS datagram record)

foreach(name ${NI_FUZZ_TARGETS})
  add_executable(fuzz_${name}_replay
    ${NI_FUZZ_DIR}/fuzz_${name}.c ${NI_FUZZ_DIR}/replay_main.c)
  target_include_directories(fuzz_${name}_replay PRIVATE
    ${PROJECT_SOURCE_DIR}/dht/src)
  target_link_libraries(fuzz_${name}_replay PRIVATE nointrude::dht)
  add_test(NAME fuzz_${name}_replay
    COMMAND fuzz_${name}_replay ${NI_FUZZ_DIR}/corpus/${name})
endforeach()

add_executable(make_corpus ${NI_FUZZ_DIR}/make_corpus.c)
target_include_directories(make_corpus PRIVATE ${PROJECT_SOURCE_DIR}/dht/src)
target_link_libraries(make_corpus PRIVATE nointrude::dht)

if(NOINTRUDE_BUILD_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  # libFuzzer needs coverage in the code under test, so the fuzzers link
  # their own copy of the DHT sources built with -fsanitize=fuzzer-no-link
  # (the list is read from nointrude_dht, so it stays in step).
  get_target_property(ni_dht_sources nointrude_dht SOURCES)
  get_target_property(ni_dht_dir nointrude_dht SOURCE_DIR)
  set(ni_fuzz_sources "")
  foreach(src ${ni_dht_sources})
    if(IS_ABSOLUTE ${src})
      list(APPEND ni_fuzz_sources ${src})
    else()
      list(APPEND ni_fuzz_sources ${ni_dht_dir}/${src})
    endif()
  endforeach()
  add_library(ni_fuzz_dht STATIC ${ni_fuzz_sources})
  target_compile_features(ni_fuzz_dht PUBLIC c_std_11)
  target_compile_options(ni_fuzz_dht PRIVATE -fsanitize=fuzzer-no-link)
  target_include_directories(ni_fuzz_dht
    PUBLIC ${ni_dht_dir}/include ${ni_dht_dir}/src)
  target_link_libraries(ni_fuzz_dht
    PUBLIC nointrude::crypto PkgConfig::MSGPACK)
  foreach(name ${NI_FUZZ_TARGETS})
    add_executable(fuzz_${name} ${NI_FUZZ_DIR}/fuzz_${name}.c)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(fuzz_${name} PRIVATE ni_fuzz_dht)
  endforeach()
endif()

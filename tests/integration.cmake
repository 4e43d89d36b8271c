# integration: real `nointrude node` processes on loopback, driven through
# the CLI (tests/integration/). Needs the daemon, so tests/CMakeLists.txt
# includes this fragment only with NOINTRUDE_BUILD_DAEMON.

# wire_client: a test tool that sends a node what honest nodes never send
# (tampered STOREs, malformed and replayed datagrams). It includes the
# codec's internal dht/src/wire.h by relative path.
add_executable(integration_wire_client integration/wire_client.c)
set_target_properties(integration_wire_client PROPERTIES
  OUTPUT_NAME wire_client)
target_link_libraries(integration_wire_client PRIVATE nointrude::dht)

# ni_add_integration_test(NAME TIMEOUT LIBS lib...) builds
# integration/NAME.c with the process harness (integration/harness.c),
# tells it where the nointrude binary and wire_client are, and registers
# it with label "integration" and a TIMEOUT in seconds: only a safety net,
# since the nodes die with the test (PR_SET_PDEATHSIG).
function(ni_add_integration_test name timeout)
  cmake_parse_arguments(T "" "" "LIBS" ${ARGN})
  ni_add_test(${name}
    SOURCES integration/${name}.c integration/harness.c
    LIBS ${T_LIBS} PkgConfig::JANSSON)
  target_compile_definitions(${name} PRIVATE
    NI_BIN="$<TARGET_FILE:nointrude>"
    NI_WIRE_CLIENT="$<TARGET_FILE:integration_wire_client>")
  add_dependencies(${name} nointrude integration_wire_client)
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${timeout} LABELS integration)
endfunction()

# integration_test: 20 nodes, the DHT through the CLI. About 20-30 s under
# ASan on 2 cores.
ni_add_integration_test(integration_test 300 LIBS nointrude::dht)

# registry_test: the do-not-intrude list end to end on 12 nodes (batches of
# 100,000 addresses, opt-outs through relays, the compliance tool,
# escalation, refused bad input). It links the daemon library for the
# sender key file reader and the registry for crafting records.
ni_add_integration_test(registry_test 600 LIBS nointrude::daemon)

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

ni_add_test(integration_test
  SOURCES integration/integration_test.c integration/harness.c
  LIBS nointrude::dht PkgConfig::JANSSON)
target_compile_definitions(integration_test PRIVATE
  NI_BIN="$<TARGET_FILE:nointrude>"
  NI_WIRE_CLIENT="$<TARGET_FILE:integration_wire_client>")
add_dependencies(integration_test nointrude integration_wire_client)
# About 20-30 s under ASan on 2 cores; the bound is only a safety net (the
# nodes die with the test: PR_SET_PDEATHSIG).
set_tests_properties(integration_test PROPERTIES
  TIMEOUT 300 LABELS integration)

# registry_test: the do-not-intrude list end to end on 12 nodes (batches of
# 100,000 addresses, opt-outs through relays, the compliance tool,
# escalation, refused bad input). It links the daemon library for the
# sender key file reader and the registry for crafting records.
ni_add_test(registry_test
  SOURCES integration/registry_test.c integration/harness.c
  LIBS nointrude::daemon PkgConfig::JANSSON)
target_compile_definitions(registry_test PRIVATE
  NI_BIN="$<TARGET_FILE:nointrude>"
  NI_WIRE_CLIENT="$<TARGET_FILE:integration_wire_client>")
add_dependencies(registry_test nointrude integration_wire_client)
set_tests_properties(registry_test PROPERTIES
  TIMEOUT 600 LABELS integration)

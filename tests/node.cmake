# Tests for node/ (the daemon and CLI). The unit tests link the daemon's
# static library; node_cli_test and node_daemon_test run the built
# `nointrude` binary (loopback only, every wait bounded).
ni_add_test(node_args_test SOURCES node_args_test.c LIBS nointrude::daemon)
ni_add_test(node_config_test SOURCES node_config_test.c LIBS nointrude::daemon)
ni_add_test(node_store_test SOURCES node_store_test.c LIBS nointrude::daemon)
ni_add_test(node_ctl_proto_test SOURCES node_ctl_proto_test.c
  LIBS nointrude::daemon)

ni_add_test(node_cli_test SOURCES node_cli_test.c LIBS PkgConfig::JANSSON)
set(NI_NODE_VRF_VECTORS
  ${CMAKE_CURRENT_SOURCE_DIR}/vectors/rfc9381-ecvrf-edwards25519-sha512-tai.txt)
target_compile_definitions(node_cli_test PRIVATE
  NOINTRUDE_BIN="$<TARGET_FILE:nointrude>"
  NI_VRF_VECTORS="${NI_NODE_VRF_VECTORS}")
add_dependencies(node_cli_test nointrude)
set_tests_properties(node_cli_test PROPERTIES TIMEOUT 120)

ni_add_test(node_daemon_test SOURCES node_daemon_test.c LIBS PkgConfig::JANSSON)
target_compile_definitions(node_daemon_test PRIVATE
  NOINTRUDE_BIN="$<TARGET_FILE:nointrude>")
add_dependencies(node_daemon_test nointrude)
set_tests_properties(node_daemon_test PROPERTIES TIMEOUT 240)

# The sender's files and the registry commands' command lines (in-process).
ni_add_test(node_batch_test SOURCES node_batch_test.c LIBS nointrude::daemon)

# The registry commands through the built binary, offline: batch create
# (files written or not), usage errors (exit 2), no node running (exit 1).
ni_add_test(node_batch_cli_test SOURCES node_batch_cli_test.c
  LIBS nointrude::registry PkgConfig::JANSSON)
target_compile_definitions(node_batch_cli_test PRIVATE
  NOINTRUDE_BIN="$<TARGET_FILE:nointrude>")
add_dependencies(node_batch_cli_test nointrude)
set_tests_properties(node_batch_cli_test PROPERTIES TIMEOUT 120)

# simulator tests (owned by whoever builds sim/)

# Event queue, PRNG and virtual network: no DHT engine needed (only the
# dht_addr type from the public header). The sources
# are compiled here with SIM_MOCK_ASSERT so broken contracts (time running
# backward) are caught by cmocka's expect_assert_failure.
set(SIM_DIR ${PROJECT_SOURCE_DIR}/sim)
ni_add_test(sim_event_test
  SOURCES sim_event_test.c ${SIM_DIR}/errors.c ${SIM_DIR}/rng.c
          ${SIM_DIR}/event.c ${SIM_DIR}/vnet.c
  LIBS nointrude::crypto m
  INCLUDES ${SIM_DIR} ${PROJECT_SOURCE_DIR}/dht/include)
target_compile_definitions(sim_event_test PRIVATE SIM_MOCK_ASSERT)

# Whole scenarios over the real engine: convergence, lookup and put/get
# success, determinism.
ni_add_test(sim_test
  SOURCES sim_test.c
  LIBS nointrude::sim
  INCLUDES ${SIM_DIR})
target_compile_definitions(sim_test PRIVATE
  SIM_SCENARIO_DIR="${SIM_DIR}/scenarios"
  SIM_BINARY="$<TARGET_FILE:nointrude-sim>"
  SIM_TEST_OUT="${CMAKE_CURRENT_BINARY_DIR}/sim_cli_out")
add_dependencies(sim_test nointrude-sim)
set_tests_properties(sim_test PROPERTIES TIMEOUT 900)

# Attack plug-ins and pair-key memoisation: disjoint paths under routing
# adversaries, a request flood against the rate limits, sybils against the
# diversity limits, forged records; memoised keys equal nc_peer_key's.
ni_add_test(sim_attack_test
  SOURCES sim_attack_test.c
  LIBS nointrude::sim
  INCLUDES ${SIM_DIR})
set_tests_properties(sim_attack_test PROPERTIES TIMEOUT 900)

# Network features: IPv6 pools (a mixed network converges, v6 sybils are
# capped per /32), bandwidth limits in a whole run.
ni_add_test(sim_net_test
  SOURCES sim_net_test.c
  LIBS nointrude::sim
  INCLUDES ${SIM_DIR})
set_tests_properties(sim_net_test PROPERTIES TIMEOUT 300)

# Attack measurements: eclipse probes with and without disjoint paths,
# stale records against readers, flood victims' memory against a control
# group.
ni_add_test(sim_probe_test
  SOURCES sim_probe_test.c
  LIBS nointrude::sim
  INCLUDES ${SIM_DIR})
set_tests_properties(sim_probe_test PROPERTIES TIMEOUT 300)

# ---- registry scenarios (sim/registry.c; owner: simreg) ----
# Small versions of sim/scenarios/{optout_anonymity,fake_batch_flood,
# planted_url}.ini: Crowds identification rate against colluders, what a
# fake-batch flood is refused and costs, no opt-out or evidence reaching a
# bystander.
ni_add_test(sim_registry_test
  SOURCES sim_registry_test.c
  LIBS nointrude::sim
  INCLUDES ${SIM_DIR})
target_compile_definitions(sim_registry_test PRIVATE
  SIM_SCENARIO_DIR="${SIM_DIR}/scenarios")
set_tests_properties(sim_registry_test PROPERTIES TIMEOUT 300)

# DHT engine tests. The unit tests reach the internal headers in dht/src
# (rt.h, guard.h, store.h, lookup.h); node_test drives many dht_node
# instances over an in-memory network with a virtual clock (net_harness.c,
# shared with reg_node_test).
set(NI_DHT_SRC ${PROJECT_SOURCE_DIR}/dht/src)

ni_add_test(rt_test SOURCES rt_test.c LIBS nointrude::dht
  INCLUDES ${NI_DHT_SRC})
ni_add_test(limits_test SOURCES limits_test.c LIBS nointrude::dht
  INCLUDES ${NI_DHT_SRC})
ni_add_test(store_test SOURCES store_test.c LIBS nointrude::dht
  INCLUDES ${NI_DHT_SRC})
ni_add_test(lookup_test SOURCES lookup_test.c LIBS nointrude::dht
  INCLUDES ${NI_DHT_SRC})
ni_add_test(node_test SOURCES node_test.c net_harness.c LIBS nointrude::dht
  INCLUDES ${NI_DHT_SRC})

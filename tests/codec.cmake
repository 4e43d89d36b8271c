# codec tests (wire, records, addresses): one cmocka executable per codec
# module. They reach the internal headers (wire.h, mp.h) through dht/src
# and use msgpack-c directly to build malformed inputs.
set(NI_DHT_INTERNAL ${PROJECT_SOURCE_DIR}/dht/src)

ni_add_test(wire_test SOURCES wire_test.c
  LIBS nointrude::dht PkgConfig::MSGPACK INCLUDES ${NI_DHT_INTERNAL})
ni_add_test(record_test SOURCES record_test.c
  LIBS nointrude::dht PkgConfig::MSGPACK INCLUDES ${NI_DHT_INTERNAL})
ni_add_test(addr_test SOURCES addr_test.c LIBS nointrude::dht)

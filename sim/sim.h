/*
 * Shared definitions of the simulator: error codes and the always-on
 * contract assertion.
 *
 * The simulator is a driver of the DHT of the same rank as the daemon: it
 * uses only the public headers (nointrude/dht.h, nointrude/crypto.h), never
 * dht/src internals.
 */
#ifndef NOINTRUDE_SIM_H
#define NOINTRUDE_SIM_H

#define SIM_ERRORS(X)                                                          \
  X(SIM_ERR_INVALID_ARGUMENT, -201, "invalid argument")                        \
  X(SIM_ERR_NOMEM, -202, "out of memory")                                      \
  X(SIM_ERR_LIMIT, -203, "event limit reached")                                \
  X(SIM_ERR_SCENARIO, -204, "invalid scenario")                                \
  X(SIM_ERR_IO, -205, "file error")                                            \
  X(SIM_ERR_ADDRESSES, -206, "address space exhausted")                        \
  X(SIM_ERR_NODE, -207, "a DHT node could not be created")                     \
  X(SIM_ERR_IDENTITY, -208, "identity derivation failed")

enum sim_error {
#define SIM_ERR_ENUM(name, value, text) name = value,
  SIM_ERRORS(SIM_ERR_ENUM)
#undef SIM_ERR_ENUM
};

/* sim_strerror returns a static description of the SIM_ERR_* code |err|
 * (never NULL; unknown codes give "unknown error"). */
const char *sim_strerror(int err);

/* SIM_ASSERT checks a contract of the simulator (not of the code under
 * test) and stays active in release builds: a broken invariant such as
 * time running backward would silently invalidate every figure. A unit
 * test compiles the module with SIM_MOCK_ASSERT to catch the failure
 * with cmocka's expect_assert_failure. */
#ifdef SIM_MOCK_ASSERT
void mock_assert(const int result, const char *const expression,
                 const char *const file, const int line);
#define SIM_ASSERT(expr) mock_assert((int)(expr), #expr, __FILE__, __LINE__)
#else
void sim_assert_fail(const char *expr, const char *file, int line);
#define SIM_ASSERT(expr)                                                       \
  ((expr) ? (void)0 : sim_assert_fail(#expr, __FILE__, __LINE__))
#endif

#endif /* NOINTRUDE_SIM_H */

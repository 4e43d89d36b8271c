/*
 * Tests of the simulator's engine-independent parts: the event queue
 * (ordering, FIFO ties, the time-never-runs-backward contract, both caps),
 * the PRNG streams and the virtual network (latency models, loss, address
 * pools with their prefix structure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "rng.h"
#include "sim.h"
#include "vnet.h"

/* ---- Event queue ------------------------------------------------------- */

static void test_queue_orders_by_time_then_seq(void **state) {
  sim_queue q;
  sim_rng rng;
  sim_event ev;
  (void)state;
  assert_int_equal(sim_queue_init(&q, 1000, 0, 0), 0);
  sim_rng_seed(&rng, 42);
  for (uint64_t i = 0; i < 5000; i++) /* many duplicate times */
    assert_int_equal(
        sim_queue_push(&q, 1000 + sim_rng_below(&rng, 300), 1, 0, i, NULL), 0);
  uint64_t last_time = 0, last_aux = 0, n = 0;
  while (sim_queue_pop(&q, &ev) == 1) {
    if (n > 0) {
      assert_true(ev.time >= last_time);
      if (ev.time == last_time)
        assert_true(ev.aux > last_aux); /* FIFO among equal times */
    }
    assert_int_equal(q.now, ev.time);
    last_time = ev.time;
    last_aux = ev.aux;
    n++;
  }
  assert_int_equal(n, 5000);
  assert_int_equal(q.popped, 5000);
  assert_null(sim_queue_peek(&q));
  sim_queue_free(&q);
}

static void test_queue_interleaved_push_pop(void **state) {
  sim_queue q;
  sim_event ev;
  (void)state;
  sim_queue_init(&q, 0, 0, 0);
  sim_queue_push(&q, 30, 0, 3, 0, NULL);
  sim_queue_push(&q, 10, 0, 1, 0, NULL);
  assert_int_equal(sim_queue_pop(&q, &ev), 1);
  assert_int_equal(ev.node, 1);
  /* pushing at exactly "now" is allowed and runs after earlier pushes */
  sim_queue_push(&q, 10, 0, 2, 0, NULL);
  sim_queue_push(&q, 20, 0, 4, 0, NULL);
  const sim_event *peek = sim_queue_peek(&q);
  assert_non_null(peek);
  assert_int_equal(peek->node, 2);
  uint32_t order[3];
  for (int i = 0; i < 3; i++) {
    assert_int_equal(sim_queue_pop(&q, &ev), 1);
    order[i] = ev.node;
  }
  assert_int_equal(order[0], 2);
  assert_int_equal(order[1], 4);
  assert_int_equal(order[2], 3);
  assert_int_equal(sim_queue_pop(&q, &ev), 0);
  sim_queue_free(&q);
}

static void test_queue_rejects_backward_time(void **state) {
  sim_queue q;
  sim_event ev;
  (void)state;
  sim_queue_init(&q, 500, 0, 0);
  expect_assert_failure(sim_queue_push(&q, 499, 0, 0, 0, NULL));
  sim_queue_push(&q, 800, 0, 0, 0, NULL);
  assert_int_equal(sim_queue_pop(&q, &ev), 1);
  assert_int_equal(q.now, 800);
  expect_assert_failure(sim_queue_push(&q, 799, 0, 0, 0, NULL));
  assert_int_equal(q.len, 0); /* the refused event was not queued */
  assert_int_equal(sim_queue_push(&q, 800, 0, 0, 0, NULL), 0);
  sim_queue_free(&q);
}

static void test_queue_caps(void **state) {
  sim_queue q;
  sim_event ev;
  (void)state;
  sim_queue_init(&q, 0, 3, 2); /* 3 pending, 2 pops */
  for (int i = 0; i < 3; i++)
    assert_int_equal(sim_queue_push(&q, (uint64_t)i, 0, 0, 0, NULL), 0);
  assert_int_equal(sim_queue_push(&q, 9, 0, 0, 0, NULL), SIM_ERR_LIMIT);
  assert_int_equal(sim_queue_pop(&q, &ev), 1);
  assert_int_equal(sim_queue_pop(&q, &ev), 1);
  assert_int_equal(sim_queue_pop(&q, &ev), SIM_ERR_LIMIT);
  assert_int_equal(q.len, 1);
  sim_queue_free(&q);
}

/* ---- PRNG ------------------------------------------------------------- */

static void test_rng_streams(void **state) {
  sim_rng a, b, c;
  (void)state;
  sim_rng_stream(&a, 7, "node", 3);
  sim_rng_stream(&b, 7, "node", 3);
  sim_rng_stream(&c, 7, "node", 4);
  int same_ab = 1, same_ac = 1;
  for (int i = 0; i < 16; i++) {
    uint64_t x = sim_rng_next(&a), y = sim_rng_next(&b), z = sim_rng_next(&c);
    same_ab &= x == y;
    same_ac &= x == z;
  }
  assert_true(same_ab);
  assert_false(same_ac);
  sim_rng_stream(&c, 8, "node", 3); /* another seed */
  sim_rng_stream(&a, 7, "node", 3);
  assert_true(sim_rng_next(&a) != sim_rng_next(&c));
}

static void test_rng_ranges(void **state) {
  sim_rng r;
  unsigned counts[10] = {0};
  (void)state;
  sim_rng_seed(&r, 1);
  for (int i = 0; i < 100000; i++) {
    uint64_t v = sim_rng_below(&r, 10);
    assert_true(v < 10);
    counts[v]++;
    double u = sim_rng_unit(&r);
    assert_true(u >= 0.0 && u < 1.0);
  }
  for (int i = 0; i < 10; i++) /* expected 10000 each; sd ~95 */
    assert_true(counts[i] > 9500 && counts[i] < 10500);
  assert_int_equal(sim_rng_below(&r, 0), 0);
  assert_int_equal(sim_rng_below(&r, 1), 0);
  double sum = 0;
  for (int i = 0; i < 20000; i++)
    sum += sim_rng_exponential(&r, 5.0);
  assert_true(sum / 20000 > 4.8 && sum / 20000 < 5.2);
}

/* ---- Virtual network ----------------------------------------------------- */

static void test_latency_parse(void **state) {
  sim_latency l;
  char buf[64];
  (void)state;
  assert_int_equal(sim_latency_parse(&l, "constant 40ms"), 0);
  assert_int_equal(l.kind, SIM_LATENCY_CONSTANT);
  assert_true(l.a_ms == 40.0);
  assert_int_equal(sim_latency_parse(&l, "25"), 0);
  assert_true(l.a_ms == 25.0);
  assert_int_equal(sim_latency_parse(&l, "uniform 10ms 0.2s"), 0);
  assert_true(l.a_ms == 10.0 && l.b_ms == 200.0);
  assert_int_equal(sim_latency_parse(&l, "lognormal 50ms 0.6"), 0);
  sim_latency_format(buf, sizeof buf, &l);
  assert_string_equal(buf, "lognormal 50ms 0.6");
  assert_int_not_equal(sim_latency_parse(&l, "uniform 20ms 10ms"), 0);
  assert_int_not_equal(sim_latency_parse(&l, "lognormal 0ms 1"), 0);
  assert_int_not_equal(sim_latency_parse(&l, "pareto 1 2"), 0);
  assert_int_not_equal(sim_latency_parse(&l, "constant -3ms"), 0);
  assert_int_not_equal(sim_latency_parse(&l, "constant 3 lightyears"), 0);
}

static void test_link_delays(void **state) {
  sim_vnet net;
  sim_latency lat;
  (void)state;
  sim_latency_parse(&lat, "uniform 10ms 100ms");
  assert_int_equal(sim_vnet_init(&net, 5, &lat, 0.0, 0.0, 4433, 1000), 0);
  for (uint32_t a = 0; a < 200; a++) {
    uint64_t d = sim_vnet_base_delay(&net, a, a + 7);
    assert_true(d >= 10 * 1000000ull && d <= 100 * 1000000ull);
    assert_int_equal(d, sim_vnet_base_delay(&net, a + 7, a)); /* symmetric */
  }
  sim_vnet_free(&net);

  /* lognormal: the median of many links is near the configured median */
  sim_latency_parse(&lat, "lognormal 40ms 0.5");
  sim_vnet_init(&net, 5, &lat, 0.0, 0.0, 4433, 1000);
  unsigned below = 0;
  for (uint32_t a = 0; a < 4000; a++)
    below += sim_vnet_base_delay(&net, a, a + 1) < 40 * 1000000ull;
  assert_true(below > 1800 && below < 2200);
  sim_vnet_free(&net);
}

static void test_loss_and_jitter(void **state) {
  sim_vnet net;
  sim_latency lat;
  uint64_t delay;
  (void)state;
  sim_latency_parse(&lat, "constant 50ms");
  sim_vnet_init(&net, 9, &lat, 0.2, 0.1, 4433, 10);
  unsigned delivered = 0;
  for (int i = 0; i < 20000; i++) {
    if (!sim_vnet_transit(&net, 0, 1, 100, &delay))
      continue;
    delivered++;
    assert_true(delay >= 50 * 1000000ull && delay < 60 * 1000000ull);
  }
  assert_int_equal(net.stats.sent, 20000);
  assert_int_equal(net.stats.lost, 20000 - delivered);
  assert_true(net.stats.lost > 1800 && net.stats.lost < 2200); /* ~10% */
  sim_vnet_free(&net);
}

static void test_address_pools(void **state) {
  sim_vnet net;
  sim_latency lat;
  sim_pool honest, attack;
  dht_addr addr;
  uint32_t ep;
  (void)state;
  sim_latency_parse(&lat, "constant 1ms");
  assert_int_equal(sim_vnet_init(&net, 3, &lat, 0, 0, 4433, 3000), 0);
  assert_int_equal(sim_vnet_pool_new(&net, &honest, 500, 4), 0);
  assert_int_equal(sim_vnet_pool_new(&net, &attack, 2, 1), 0);
  uint8_t seen16[65536 / 8] = {0};
  unsigned distinct16 = 0;
  for (uint32_t i = 0; i < 2000; i++) {
    assert_int_equal(sim_vnet_attach(&net, &honest, &ep, &addr), 0);
    assert_int_equal(ep, i);
    assert_int_equal(addr.family, 4);
    assert_true(addr.ip[0] != 0 && addr.ip[0] != 10 && addr.ip[0] != 127 &&
                addr.ip[0] < 224);
    assert_true(addr.ip[3] >= 1 && addr.ip[3] <= 254);
    assert_int_equal(sim_vnet_find(&net, &addr), i);
    unsigned p = (unsigned)addr.ip[0] << 8 | addr.ip[1];
    if (!(seen16[p >> 3] & (1u << (p & 7))))
      distinct16++;
    seen16[p >> 3] |= (uint8_t)(1u << (p & 7));
  }
  assert_true(distinct16 > 450 && distinct16 <= 500);
  /* attackers crowd into their two /24s (one per /16), apart from honest */
  for (uint32_t i = 0; i < 500; i++) {
    assert_int_equal(sim_vnet_attach(&net, &attack, &ep, &addr), 0);
    unsigned p = (unsigned)addr.ip[0] << 8 | addr.ip[1];
    assert_true(p == attack.subnets[0] >> 8 || p == attack.subnets[1] >> 8);
    assert_false(seen16[p >> 3] & (1u << (p & 7)));
  }
  for (uint32_t i = 0; i < 2500; i++) /* every address is distinct */
    assert_int_equal(sim_vnet_find(&net, sim_vnet_addr(&net, i)), i);
  addr.port ^= 1;
  addr.ip[0] = 127;
  assert_int_equal(sim_vnet_find(&net, &addr), SIM_NO_ENDPOINT);
  sim_pool_free(&honest);
  sim_pool_free(&attack);
  sim_vnet_free(&net);
}

static void test_attach_limit(void **state) {
  sim_vnet net;
  sim_latency lat;
  sim_pool pool;
  dht_addr addr;
  uint32_t ep;
  (void)state;
  sim_latency_parse(&lat, "constant 1ms");
  sim_vnet_init(&net, 3, &lat, 0, 0, 4433, 2);
  sim_vnet_pool_new(&net, &pool, 1, 1);
  assert_int_equal(sim_vnet_attach(&net, &pool, &ep, &addr), 0);
  assert_int_equal(sim_vnet_attach(&net, &pool, &ep, &addr), 0);
  assert_int_equal(sim_vnet_attach(&net, &pool, &ep, &addr), SIM_ERR_LIMIT);
  sim_pool_free(&pool);
  sim_vnet_free(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_queue_orders_by_time_then_seq),
      cmocka_unit_test(test_queue_interleaved_push_pop),
      cmocka_unit_test(test_queue_rejects_backward_time),
      cmocka_unit_test(test_queue_caps),
      cmocka_unit_test(test_rng_streams),
      cmocka_unit_test(test_rng_ranges),
      cmocka_unit_test(test_latency_parse),
      cmocka_unit_test(test_link_delays),
      cmocka_unit_test(test_loss_and_jitter),
      cmocka_unit_test(test_address_pools),
      cmocka_unit_test(test_attach_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

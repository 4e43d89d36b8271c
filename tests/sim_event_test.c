/*
 * Tests of the simulator's engine-independent parts: the event queue
 * (ordering, FIFO ties, the time-never-runs-backward contract, both caps),
 * the PRNG streams and the virtual network (latency models, loss, address
 * pools with their IPv4 and IPv6 prefix structure, bandwidth limits with
 * exact delivery times and tail drops).
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
    if (!sim_vnet_transit(&net, 0, 0, 1, 100, &delay))
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

/* ---- Bandwidth limits ---------------------------------------------------- */

static void test_rate_parse(void **state) {
  uint64_t bps;
  char buf[32];
  (void)state;
  assert_int_equal(sim_rate_parse("1mbit", &bps), 0);
  assert_int_equal(bps, 1000000);
  assert_int_equal(sim_rate_parse("512kbit", &bps), 0);
  assert_int_equal(bps, 512000);
  assert_int_equal(sim_rate_parse("2.5Mbit", &bps), 0);
  assert_int_equal(bps, 2500000);
  assert_int_equal(sim_rate_parse("10gbit", &bps), 0);
  assert_int_equal(bps, 10000000000ull);
  assert_int_equal(sim_rate_parse("64000", &bps), 0); /* bit/s */
  assert_int_equal(bps, 64000);
  assert_int_equal(sim_rate_parse("off", &bps), 0);
  assert_int_equal(bps, 0);
  sim_rate_format(buf, sizeof buf, 2500000);
  assert_string_equal(buf, "2.5mbit");
  sim_rate_format(buf, sizeof buf, 0);
  assert_string_equal(buf, "off");
  assert_int_not_equal(sim_rate_parse("500", &bps), 0); /* < 1 kbit/s */
  assert_int_not_equal(sim_rate_parse("1 furlong", &bps), 0);
  assert_int_not_equal(sim_rate_parse("-1mbit", &bps), 0);
  assert_int_not_equal(sim_rate_parse("mbit", &bps), 0);
}

/* limited_net: 3 endpoints, constant 10 ms links, no jitter or loss;
 * endpoints 0 and 1 with |up| / |down| bps and |queue| bytes, endpoint 2
 * unlimited. */
static void limited_net(sim_vnet *net, sim_pool *lim, sim_pool *free_pool,
                        uint64_t up, uint64_t down, uint32_t queue) {
  sim_latency lat;
  sim_pool_spec spec = {.n16 = 2, .n24 = 2};
  dht_addr addr;
  uint32_t ep;
  sim_latency_parse(&lat, "constant 10ms");
  assert_int_equal(sim_vnet_init(net, 1, &lat, 0, 0, 4433, 3), 0);
  spec.bw = (sim_bandwidth){up, down, queue};
  assert_int_equal(sim_vnet_pool_make(net, lim, &spec), 0);
  assert_int_equal(sim_vnet_pool_new(net, free_pool, 1, 1), 0);
  assert_int_equal(sim_vnet_attach(net, lim, &ep, &addr), 0);
  assert_int_equal(sim_vnet_attach(net, lim, &ep, &addr), 0);
  assert_int_equal(sim_vnet_attach(net, free_pool, &ep, &addr), 0);
}

#define MS 1000000ull

static void test_uplink_serialises_and_drops(void **state) {
  sim_vnet net;
  sim_pool lim, free_pool;
  uint64_t d;
  (void)state;
  /* 1 Mbit/s: 1,000 bytes take 8 ms; the queue holds 3,000 bytes */
  limited_net(&net, &lim, &free_pool, 1000000, 0, 3000);
  assert_int_equal(sim_vnet_transit(&net, 0, 0, 1, 1000, &d), 1);
  assert_int_equal(d, 8 * MS + 10 * MS); /* serialisation + link */
  assert_int_equal(sim_vnet_transit(&net, 0, 0, 1, 1000, &d), 1);
  assert_int_equal(d, 16 * MS + 10 * MS); /* waited behind the first */
  assert_int_equal(sim_vnet_transit(&net, 0, 0, 2, 1000, &d), 1);
  assert_int_equal(d, 24 * MS + 10 * MS); /* backlog now 3,000 bytes */
  assert_int_equal(sim_vnet_transit(&net, 0, 0, 1, 1000, &d), 0);
  assert_int_equal(net.stats.queue_drop_up, 1); /* tail drop */
  assert_int_equal(net.stats.lost, 0);
  /* 20 ms later 4 ms of backlog are left */
  assert_int_equal(sim_vnet_transit(&net, 20 * MS, 0, 1, 1000, &d), 1);
  assert_int_equal(d, 4 * MS + 8 * MS + 10 * MS);
  /* the other limited endpoint's uplink is its own; the unlimited one
   * only pays the link */
  assert_int_equal(sim_vnet_transit(&net, 20 * MS, 1, 0, 1000, &d), 1);
  assert_int_equal(d, 18 * MS);
  assert_int_equal(sim_vnet_transit(&net, 20 * MS, 2, 0, 1000, &d), 1);
  assert_int_equal(d, 10 * MS);
  assert_false(sim_vnet_has_downlink(&net, 0)); /* down = unlimited */
  assert_int_equal(net.stats.sent, 7);
  sim_pool_free(&lim);
  sim_pool_free(&free_pool);
  sim_vnet_free(&net);
}

static void test_downlink_serialises_and_drops(void **state) {
  sim_vnet net;
  sim_pool lim, free_pool;
  uint64_t wait;
  (void)state;
  /* 1 Mbit/s down: 1,200 bytes take 9.6 ms; queue of two datagrams */
  limited_net(&net, &lim, &free_pool, 0, 1000000, 2400);
  assert_true(sim_vnet_has_downlink(&net, 1));
  assert_false(sim_vnet_has_downlink(&net, 2));
  uint64_t t = 100 * MS, ser = 9600000;
  assert_int_equal(sim_vnet_downlink(&net, t, 1, 1200, &wait), 1);
  assert_int_equal(wait, ser);
  assert_int_equal(sim_vnet_downlink(&net, t, 1, 1200, &wait), 1);
  assert_int_equal(wait, 2 * ser);
  assert_int_equal(sim_vnet_downlink(&net, t, 1, 1200, &wait), 0);
  assert_int_equal(net.stats.queue_drop_down, 1);
  /* a small datagram 5 ms later waits behind the 14.2 ms left */
  assert_int_equal(sim_vnet_downlink(&net, t + 5 * MS, 1, 100, &wait), 1);
  assert_int_equal(wait, 2 * ser - 5 * MS + 800000);
  /* once idle, no queueing; unlimited endpoints never wait */
  assert_int_equal(sim_vnet_downlink(&net, t + MS * 1000, 1, 1200, &wait), 1);
  assert_int_equal(wait, ser);
  assert_int_equal(sim_vnet_downlink(&net, t, 2, 1200, &wait), 1);
  assert_int_equal(wait, 0);
  assert_int_equal(net.stats.queue_drop_down, 1);
  sim_pool_free(&lim);
  sim_pool_free(&free_pool);
  sim_vnet_free(&net);
}

static void test_bandwidth_rejects_small_queue(void **state) {
  sim_vnet net;
  sim_latency lat;
  sim_pool pool;
  sim_pool_spec spec = {.n16 = 1, .n24 = 1};
  (void)state;
  sim_latency_parse(&lat, "constant 1ms");
  sim_vnet_init(&net, 1, &lat, 0, 0, 4433, 4);
  spec.bw = (sim_bandwidth){1000000, 0, DHT_MAX_DATAGRAM - 1};
  assert_int_equal(sim_vnet_pool_make(&net, &pool, &spec),
                   SIM_ERR_INVALID_ARGUMENT);
  spec.v6_fraction = 1.5;
  spec.bw.queue_bytes = DHT_MAX_DATAGRAM;
  assert_int_equal(sim_vnet_pool_make(&net, &pool, &spec),
                   SIM_ERR_INVALID_ARGUMENT);
  sim_vnet_free(&net);
}

/* ---- IPv6 ----------------------------------------------------------------- */

static uint32_t prefix32(const dht_addr *a) {
  return (uint32_t)a->ip[0] << 24 | (uint32_t)a->ip[1] << 16 |
         (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static uint64_t prefix48(const dht_addr *a) {
  return (uint64_t)prefix32(a) << 16 | (uint64_t)a->ip[4] << 8 | a->ip[5];
}

static int in_pool6(const sim_pool *p, const dht_addr *a) {
  for (uint32_t i = 0; i < p->n_subnets6; i++)
    if (p->subnets6[i] == prefix48(a))
      return 1;
  return 0;
}

static void test_ipv6_pools(void **state) {
  sim_vnet net;
  sim_latency lat;
  sim_pool honest, attack;
  sim_pool_spec spec = {.n16 = 100, .n24 = 4, .n32 = 200, .n48 = 4,
                        .v6_fraction = 0.3};
  dht_addr addr;
  uint32_t ep, v6 = 0, p32[2000];
  (void)state;
  sim_latency_parse(&lat, "constant 1ms");
  assert_int_equal(sim_vnet_init(&net, 7, &lat, 0, 0, 4433, 3000), 0);
  assert_int_equal(sim_vnet_pool_make(&net, &honest, &spec), 0);
  assert_int_equal(honest.n_subnets6, 800);
  spec = (sim_pool_spec){.n32 = 1, .n48 = 2, .v6_fraction = 1.0};
  assert_int_equal(sim_vnet_pool_make(&net, &attack, &spec), 0);
  assert_int_equal(attack.n_subnets, 0); /* v6 only */
  for (uint32_t i = 0; i < 2000; i++) {
    assert_int_equal(sim_vnet_attach(&net, &honest, &ep, &addr), 0);
    assert_int_equal(sim_vnet_find(&net, &addr), i);
    if (addr.family == 4)
      continue;
    assert_int_equal(addr.family, 6);
    unsigned h1 = (unsigned)addr.ip[0] << 8 | addr.ip[1];
    unsigned h2 = (unsigned)addr.ip[2] << 8 | addr.ip[3];
    assert_true(h1 >= 0x2001 && h1 <= 0x2c0f && h1 != 0x2002);
    assert_false(h1 == 0x2001 && (h2 < 0x200 || h2 == 0xdb8));
    assert_true(in_pool6(&honest, &addr));
    p32[v6++] = prefix32(&addr);
  }
  assert_true(v6 > 520 && v6 < 680); /* ~30 % of 2,000 */
  unsigned distinct = 0; /* the honest v6 nodes spread over many /32s */
  for (uint32_t i = 0; i < v6; i++) {
    int seen = 0;
    for (uint32_t j = 0; j < i && !seen; j++)
      seen = p32[j] == p32[i];
    distinct += !seen;
  }
  assert_true(distinct > 150 && distinct <= 200);
  /* attackers: all in one /32, in two /48s, apart from every honest /32 */
  for (uint32_t i = 0; i < 300; i++) {
    assert_int_equal(sim_vnet_attach(&net, &attack, &ep, &addr), 0);
    assert_int_equal(addr.family, 6);
    assert_int_equal(prefix32(&addr), (uint32_t)(attack.subnets6[0] >> 16));
    assert_true(in_pool6(&attack, &addr));
    assert_false(in_pool6(&honest, &addr));
    for (uint32_t j = 0; j < v6; j++)
      assert_int_not_equal(p32[j], prefix32(&addr));
  }
  /* exact matching: another interface ID or port is nobody */
  addr.ip[15] ^= 0x40;
  assert_int_equal(sim_vnet_find(&net, &addr), SIM_NO_ENDPOINT);
  addr.ip[15] ^= 0x40;
  assert_int_equal(sim_vnet_find(&net, &addr), 2299);
  addr.port++;
  assert_int_equal(sim_vnet_find(&net, &addr), SIM_NO_ENDPOINT);
  sim_pool_free(&honest);
  sim_pool_free(&attack);
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
      cmocka_unit_test(test_rate_parse),
      cmocka_unit_test(test_uplink_serialises_and_drops),
      cmocka_unit_test(test_downlink_serialises_and_drops),
      cmocka_unit_test(test_bandwidth_rejects_small_queue),
      cmocka_unit_test(test_ipv6_pools),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

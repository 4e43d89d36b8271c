/*
 * The simulator's network features, as small scenarios over the real
 * engine (a few hundred nodes, so they stay fast under ASan):
 *
 *  - a network with 30 % IPv6 nodes converges and serves lookups and
 *    put/get pairs like an IPv4 one;
 *  - sybils from one IPv6 /32 are capped in every honest routing table by
 *    the per-/32 diversity limit, as IPv4 sybils are by the per-/16 one;
 *  - bandwidth limits queue and tail-drop datagrams in a whole run: the
 *    same network with narrow access links has queue drops and slower
 *    lookups, and none without limits.
 */
#include <stdio.h>
#include <string.h>

#include "sim_testutil.h"
#include "world_int.h"

/* ---- IPv6 ---------------------------------------------------------------- */

/* contact_families counts, over the honest tables of |w|, contacts of
 * family 4 and 6 held by nodes of family |fam|. */
static void contact_families(sim_world *w, int fam, size_t out[2]) {
  dht_contact c[512];
  out[0] = out[1] = 0;
  for (uint32_t i = 0; i < w->n_honest; i++) {
    if (w->hosts[i].addr.family != fam || w->hosts[i].node == NULL)
      continue;
    size_t n = dht_node_contacts(w->hosts[i].node, c, 512);
    for (size_t j = 0; j < n; j++)
      out[c[j].addr.family == 6]++;
  }
}

static void test_ipv6_mix_converges(void **state) {
  static const char text[] =
      "[scenario]\nduration = 90s\n"
      "[network]\nnodes = 200\nipv6_fraction = 0.3\n"
      "[join]\nrate = 20\n"
      "[workload]\nstart = 30s\nlookups = 150\nlookup_rate = 5\n"
      "puts = 40\nput_rate = 2\nget_delay = 5s\n"
      "[dht]\ndifficulty = 2\n";
  json_t *s;
  sim_world *w = sim_run_world(text, &s);
  *state = s;
  uint32_t v6 = 0;
  for (uint32_t i = 0; i < w->n_hosts; i++)
    v6 += w->hosts[i].addr.family == 6;
  size_t from4[2], from6[2];
  contact_families(w, 4, from4);
  contact_families(w, 6, from6);
  sim_world_free(w);
  print_message("%u IPv6 nodes; v4 nodes hold %zu v4 / %zu v6 contacts, "
                "v6 nodes %zu / %zu\n", v6, from4[0], from4[1], from6[0],
                from6[1]);
  assert_true(v6 >= 40 && v6 <= 80); /* ~30 % of 200 */
  assert_true(from4[1] > 0 && from6[0] > 0 && from6[1] > 0); /* mixed */
  assert_true(sim_num(json_object_get(s, "scenario"), "prefixes32") > 0);
  /* converged: every node holds k contacts; everything found */
  assert_int_equal(sim_num(json_object_get(s, "routing"), "nodes_below_k"), 0);
  assert_true(sim_num(json_object_get(s, "lookups"), "success_rate") == 1.0);
  assert_int_equal(sim_num(json_object_get(s, "lookups"), "ok"), 150);
  json_t *gets = sim_path(s, "records", "gets");
  assert_int_equal(sim_num(gets, "ok"), 40);
  assert_true(sim_num(gets, "success_rate") == 1.0);
}

static void test_ipv6_sybils_capped(void **state) {
  static const char text[] =
      "[scenario]\nduration = 60s\n"
      "[network]\nnodes = 200\nipv6_fraction = 0.3\n"
      "[join]\nrate = 50\n"
      "[workload]\nstart = 50s\nlookups = 50\nlookup_rate = 10\n"
      "[dht]\ndifficulty = 2\ntable_prefix_max = 10\n"
      "[attack sybil]\ncount = 100\nprefixes = 1\nsubnets = 2\n"
      "ipv6_fraction = 1\n";
  json_t *s;
  sim_world *w = sim_run_world(text, &s);
  *state = s;
  /* the 100 sybils share one /32 and sit in two /48s */
  const dht_addr *first = &w->hosts[200].addr;
  for (uint32_t i = 200; i < 300; i++) {
    assert_int_equal(w->hosts[i].addr.family, 6);
    assert_memory_equal(w->hosts[i].addr.ip, first->ip, 4);
  }
  sim_world_free(w);
  json_t *y = sim_path(s, "attacks", "sybil");
  print_message("v6 sybils: %.1f %% of honest contacts, at most %.0f in a "
                "table\n", 100 * sim_num(y, "admitted_fraction"),
                sim_num(y, "max_in_one_table"));
  assert_true(sim_num(y, "attacker_contacts") > 0);   /* they did get in */
  assert_int_equal(sim_num(y, "bound_per_table"), 10); /* one /32 */
  assert_true(sim_num(y, "max_in_one_table") <= 10);  /* per-/32 limit */
  /* the per-prefix limit keeps them well below their share of identities */
  assert_true(sim_num(y, "admitted_fraction") <
              0.6 * sim_num(y, "identity_share"));
  assert_true(sim_num(json_object_get(s, "lookups"), "success_rate") >= 0.99);
}

/* ---- bandwidth ----------------------------------------------------------- */

static void test_bandwidth_queues(void **state) {
  static const char base[] =
      "[scenario]\nduration = 50s\n"
      "[network]\nnodes = 60\nlatency = constant 20ms\njitter = 0\n%s"
      "[join]\nrate = 20\n"
      "[workload]\nstart = 20s\nlookups = 60\nlookup_rate = 3\n"
      "[dht]\ndifficulty = 2\n";
  char text[1024];
  json_t *free_run, *slow;
  (void)state;
  snprintf(text, sizeof text, base, "");
  free_run = sim_run_text(text);
  snprintf(text, sizeof text, base,
           "uplink = 64kbit\ndownlink = 128kbit\nqueue = 6000\n");
  slow = sim_run_text(text);
  json_t *n0 = json_object_get(free_run, "network");
  json_t *n1 = json_object_get(slow, "network");
  double p50_free = sim_num(sim_path(free_run, "lookups", "latency_ms"), "p50");
  double p50_slow = sim_num(sim_path(slow, "lookups", "latency_ms"), "p50");
  print_message("lookup p50 %.0f ms unlimited, %.0f ms at 64/128 kbit/s; "
                "queue drops %.0f up, %.0f down\n", p50_free, p50_slow,
                sim_num(n1, "queue_drop_up"), sim_num(n1, "queue_drop_down"));
  assert_int_equal(sim_num(n0, "queue_drop_up") + sim_num(n0, "queue_drop_down"), 0);
  /* the joins' bursts overflow the small queues (which direction depends
   * on the traffic pattern; sim_event_test checks each one exactly) */
  assert_true(sim_num(n1, "queue_drop_up") + sim_num(n1, "queue_drop_down") >
              0);
  assert_true(p50_slow > p50_free + 10.0);     /* serialisation shows */
  json_t *bw = sim_path(slow, "scenario", "bandwidth");
  assert_string_equal(json_string_value(json_object_get(bw, "uplink")),
                      "64kbit");
  json_decref(free_run);
  json_decref(slow);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_ipv6_mix_converges, sim_free_json),
      cmocka_unit_test_teardown(test_ipv6_sybils_capped, sim_free_json),
      cmocka_unit_test(test_bandwidth_queues),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

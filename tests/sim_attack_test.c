/*
 * Attack plug-ins and pair-key memoisation, as small scenarios over the
 * real engine (a few hundred nodes, so they stay fast under ASan):
 *
 *  - the memoised pair keys the simulator hands to nodes are nc_peer_key's
 *    bytes, at both ends of a pair;
 *  - disjoint paths raise lookup success under routing adversaries that
 *    answer only with colluders (the S/Kademlia effect);
 *  - a request flooder sending at >= 10x an honest node's rate is held
 *    back by the per-prefix rate limit (rate_limit drops rise) while
 *    honest lookups keep succeeding;
 *  - sybils from one /16 are capped in every honest routing table by the
 *    per-/16 diversity limit;
 *  - forged records served by storage adversaries are refused and never
 *    returned to a reader.
 */
#include <string.h>

#include "sim_testutil.h"
#include "world_int.h"

/* ---- pair keys ----------------------------------------------------------- */

static void test_memo_keys_identical(void **state) {
  static const char text[] = "[scenario]\nduration = 20s\n"
                             "[network]\nnodes = 40\n"
                             "[join]\nrate = 20\n[dht]\ndifficulty = 2\n";
  sim_scenario sc;
  sim_world *w;
  char err[256];
  (void)state;
  sim_scenario_default(&sc);
  assert_int_equal(sim_scenario_parse_string(&sc, text, err, sizeof err), 0);
  assert_int_equal(sim_world_new(&w, &sc, 3, NULL), 0);
  assert_int_equal(sim_world_run(w, NULL, NULL), 0);
  assert_true(w->keys.hits > 0); /* the memo served second ends */
  for (uint32_t a = 0; a < 40; a++)
    for (uint32_t b = 0; b < 40; b++) {
      uint8_t want[NC_SHARED_LEN], got[NC_SHARED_LEN], again[NC_SHARED_LEN];
      if (a == b)
        continue;
      const sim_host *ha = &w->hosts[a], *hb = &w->hosts[b];
      assert_int_equal(nc_peer_key(want, ha->ident.sk, ha->ident.pk,
                                   hb->ident.pk), 0);
      assert_int_equal(sim_keys_pair(w, ha, hb->ident.pk, got), 0);
      assert_memory_equal(got, want, NC_SHARED_LEN);
      assert_int_equal(sim_keys_pair(w, hb, ha->ident.pk, again), 0);
      assert_memory_equal(again, want, NC_SHARED_LEN);
    }
  /* an unknown, invalid key: derived and refused, not memoised */
  uint8_t bad[NC_PK_LEN] = {1}, key[NC_SHARED_LEN];
  assert_int_equal(sim_keys_pair(w, &w->hosts[0], bad, key), -1);
  sim_world_free(w);
}

/* ---- routing adversaries and disjoint paths ------------------------------ */

static double sweep_rate(json_t *sweep, int d, double f) {
  size_t i;
  json_t *p;
  json_array_foreach(sweep, i, p) {
    if (json_integer_value(json_object_get(p, "d")) == d &&
        sim_num(p, "adversary_fraction") > f - 1e-9 &&
        sim_num(p, "adversary_fraction") < f + 1e-9)
      return sim_num(p, "success_rate");
  }
  fail_msg("no sweep point d=%d f=%.2f", d, f);
  return 0;
}

static void test_disjoint_paths(void **state) {
  static const char text[] =
      "[scenario]\nduration = 100s\n"
      "[network]\nnodes = 300\n"
      "[join]\nrate = 100\n"
      "[workload]\nstart = 20s\nlookup_rate = 40\n"
      "[dht]\nk = 16\nalpha = 1\ndifficulty = 2\n"
      "[attack routing]\nfraction_step = 0.3\nfraction_max = 0.3\n"
      "paths = 1 4\nlookups = 150\ngap = 5s\n";
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *sweep = json_object_get(sim_path(s, "attacks", "routing"), "sweep");
  assert_true(json_is_array(sweep));
  double d1 = sweep_rate(sweep, 1, 0.3), d4 = sweep_rate(sweep, 4, 0.3);
  print_message("success at 30%% adversaries: d=1 %.3f, d=4 %.3f\n", d1, d4);
  assert_true(d4 > d1);
  assert_true(sweep_rate(sweep, 4, 0.0) >= 0.9);
}

/* ---- flooder ------------------------------------------------------------- */

static void test_request_flood(void **state) {
  static const char text[] =
      "[scenario]\nduration = 80s\n"
      "[network]\nnodes = 200\n"
      "[join]\nrate = 50\n"
      "[workload]\nstart = 30s\nlookups = 200\nlookup_rate = 10\n"
      "[dht]\ndifficulty = 2\n"
      "[attack flooder]\ncount = 1\nmode = requests\nrate = 300\n"
      "victims = 2\nstart = 30s\n";
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *f = sim_path(s, "attacks", "flooder");
  print_message("flooder at %.1fx an honest node's rate\n",
                sim_num(f, "rate_multiple"));
  assert_true(sim_num(f, "rate_multiple") >= 10.0);
  assert_true(sim_num(json_object_get(f, "victim_dropped"), "rate_limit") > 1000);
  assert_true(sim_num(json_object_get(s, "lookups"), "success_rate") >= 0.95);
}

/* ---- sybils -------------------------------------------------------------- */

static void test_sybils_capped(void **state) {
  static const char text[] =
      "[scenario]\nduration = 60s\n"
      "[network]\nnodes = 200\n"
      "[join]\nrate = 50\n"
      "[workload]\nstart = 50s\nlookups = 50\nlookup_rate = 10\n"
      "[dht]\ndifficulty = 2\ntable_prefix_max = 10\n"
      "[attack sybil]\ncount = 100\nprefixes = 1\nsubnets = 2\n";
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *y = sim_path(s, "attacks", "sybil");
  assert_true(sim_num(y, "attacker_contacts") > 0); /* they did try */
  assert_true(sim_num(y, "max_in_one_table") <= 10); /* per-/16 limit */
  /* the per-prefix limit keeps them well below their share of identities */
  assert_true(sim_num(y, "admitted_fraction") <
              0.6 * sim_num(y, "identity_share"));
  assert_true(sim_num(json_object_get(s, "lookups"), "success_rate") >= 0.99);
}

/* ---- storage adversaries ------------------------------------------------- */

static void test_forged_records_refused(void **state) {
  static const char text[] =
      "[scenario]\nduration = 70s\n"
      "[network]\nnodes = 150\n"
      "[join]\nrate = 50\n"
      "[workload]\nstart = 20s\nputs = 40\nput_rate = 5\nget_delay = 5s\n"
      "[dht]\ndifficulty = 2\n"
      "[attack storage]\nfraction = 0.3\nmode = forge\nstart = 0s\n";
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *a = sim_path(s, "attacks", "storage");
  json_t *gets = sim_path(s, "records", "gets");
  assert_true(sim_num(a, "forged_served") > 0);
  assert_true(sim_num(a, "honest_records_refused") > 0);
  assert_int_equal(json_integer_value(json_object_get(gets, "wrong")), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_memo_keys_identical),
      cmocka_unit_test_teardown(test_disjoint_paths, sim_free_json),
      cmocka_unit_test_teardown(test_request_flood, sim_free_json),
      cmocka_unit_test_teardown(test_sybils_capped, sim_free_json),
      cmocka_unit_test_teardown(test_forged_records_refused, sim_free_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

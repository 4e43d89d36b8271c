/*
 * Measurements of the attack plug-ins, as small scenarios over the real
 * engine (a few hundred nodes, so they stay fast under ASan):
 *
 *  - eclipse probes: identities mined near a victim's node ID hide it
 *    from single-path lookups, while 4 disjoint paths still find it;
 *    mined near the key of the victim's note they fill every returned
 *    closest set, yet gets over 4 paths still reach the honest storers;
 *  - stale records: with storage adversaries serving superseded versions
 *    of updated notes, readers over 4 disjoint paths all end with the
 *    newest version although stale copies were served to them;
 *  - flood memory: request and store floods at many times an honest
 *    node's rate raise their victims' engine memory by a bounded amount
 *    (the replay cache's and the per-author quota's) while honest lookups
 *    keep succeeding.
 */
#include <stdio.h>

#include "sim_testutil.h"

/* ---- eclipse probes ------------------------------------------------------ */

static const char eclipse_base[] =
    "[scenario]\nduration = 55s\n"
    "[network]\nnodes = 200\n"
    "[join]\nrate = 50\n"
    "[workload]\nlookup_rate = 10\n"
    "[dht]\ndifficulty = 4\ndisjoint_paths = %d\n"
    "[attack eclipse]\nmode = %s\ntarget = 5\ncount = 30\nbits = 10\n"
    "prefixes = 4\nsubnets = 4\ncollude = 1\nput = 3s\nstart = 25s\n"
    "lookups = 40\npaths = 1 4\ngets = %d\n";

static json_t *lookup_point(json_t *eclipse, int d) {
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(eclipse, "target_lookups"), i, p) {
    if (json_integer_value(json_object_get(p, "d")) == d)
      return p;
  }
  fail_msg("no probe point d=%d", d);
  return NULL;
}

static void test_eclipse_node_probes(void **state) {
  char text[1024];
  snprintf(text, sizeof text, eclipse_base, 1, "node", 0);
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *e = sim_path(s, "attacks", "eclipse");
  json_t *d1 = lookup_point(e, 1), *d4 = lookup_point(e, 4);
  print_message("victim lookups: d=1 %.2f (attacker share %.2f), d=4 %.2f "
                "(share %.2f)\n", sim_num(d1, "success_rate"),
                sim_num(d1, "attacker_share"), sim_num(d4, "success_rate"),
                sim_num(d4, "attacker_share"));
  assert_int_equal(sim_num(d1, "lookups"), 40);
  assert_int_equal(sim_num(d4, "lookups"), 40);
  assert_int_equal(sim_num(e, "victim_closest_k_eclipse"), 16); /* surrounded */
  assert_true(sim_num(d1, "attacker_share") > 0.8);
  assert_true(sim_num(d1, "eclipsed") > 0);        /* some saw attackers only */
  assert_true(sim_num(d1, "success_rate") < 1.0);  /* the eclipse bites */
  assert_true(sim_num(d4, "success_rate") >= 0.95); /* disjoint paths */
  assert_true(sim_num(d4, "success_rate") > sim_num(d1, "success_rate"));
}

static void test_eclipse_note_probes(void **state) {
  char text[1024];
  snprintf(text, sizeof text, eclipse_base, 4, "note", 40);
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *e = sim_path(s, "attacks", "eclipse");
  json_t *note = json_object_get(e, "note");
  json_t *gets = json_object_get(note, "gets");
  print_message("note on %.0f honest storers; key lookups d=4: attacker "
                "share %.2f; gets over 4 paths: %.0f/%.0f\n",
                sim_num(note, "honest_holders"),
                sim_num(lookup_point(e, 4), "attacker_share"), sim_num(gets, "ok"),
                sim_num(gets, "started"));
  assert_string_equal(json_string_value(json_object_get(note, "put")),
                      "acknowledged");
  assert_true(sim_num(note, "honest_holders") >= 8); /* put before the attack */
  /* the mined identities are the key's closest: every closest set is
   * theirs, over 1 or 4 paths */
  assert_true(sim_num(lookup_point(e, 1), "attacker_share") > 0.9);
  assert_true(sim_num(lookup_point(e, 4), "attacker_share") > 0.9);
  assert_int_equal(sim_num(gets, "started"), 40);
  assert_int_equal(sim_num(gets, "wrong"), 0);
  assert_true(sim_num(gets, "success_rate") >= 0.9); /* honest storers found */
}

/* ---- stale records ------------------------------------------------------- */

static void test_stale_records(void **state) {
  static const char text[] =
      "[scenario]\nduration = 75s\n"
      "[network]\nnodes = 150\n"
      "[join]\nrate = 50\n"
      "[workload]\nstart = 15s\nputs = 40\nput_rate = 4\nupdates = 1\n"
      "update_delay = 4s\nget_delay = 4s\n"
      "[dht]\ndifficulty = 2\ndisjoint_paths = 4\n"
      "[attack storage]\nfraction = 0.1\nmode = stale\nstart = 0s\n";
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *gets = sim_path(s, "records", "gets");
  json_t *upd = json_object_get(sim_path(s, "records", "puts"), "updates");
  print_message("gets: %.0f newest, %.0f stale, %.0f served a stale copy; "
                "stale copies served %.0f\n", sim_num(gets, "ok"),
                sim_num(gets, "stale"), sim_num(gets, "saw_stale"),
                sim_num(sim_path(s, "attacks", "storage"), "stale_served"));
  assert_int_equal(sim_num(upd, "ok"), 40); /* every note updated */
  assert_true(sim_num(sim_path(s, "attacks", "storage"), "stale_served") > 0);
  assert_true(sim_num(gets, "saw_stale") > 0); /* readers met stale copies */
  assert_int_equal(sim_num(gets, "stale"), 0); /* and ended with the newest */
  assert_int_equal(sim_num(gets, "wrong"), 0);
  assert_int_equal(sim_num(gets, "ok"), 40);
}

/* ---- flood memory -------------------------------------------------------- */

static void test_flood_memory_bounded(void **state) {
  static const char text[] =
      "[scenario]\nduration = 130s\n"
      "[network]\nnodes = 150\n"
      "[join]\nrate = 50\n"
      "[workload]\nstart = 15s\nlookups = 450\nlookup_rate = 4\n"
      "[dht]\ndifficulty = 2\nclock_skew = 10s\n"
      "[attack flooder-requests]\nmode = requests\nrate = 300\nvictims = 2\n"
      "start = 30s\n"
      "[attack flooder-stores]\nmode = stores\nrate = 10\nvictims = 2\n"
      "start = 30s\n";
  json_t *s = sim_run_text(text);
  *state = s;
  json_t *rq = sim_path(s, "attacks", "flooder-requests");
  json_t *st = sim_path(s, "attacks", "flooder-stores");
  json_t *mr = json_object_get(rq, "memory"), *ms = json_object_get(st, "memory");
  print_message("requests at %.0fx: victims %.0f -> peak %.0f B (control "
                "peak %.0f); stores at %.0fx: peak %.0f B, %.0f records\n",
                sim_num(rq, "rate_multiple"), sim_num(mr, "victims_before_bytes"),
                sim_num(mr, "victims_peak_bytes"), sim_num(mr, "control_peak_bytes"),
                sim_num(st, "rate_multiple"), sim_num(ms, "victims_peak_bytes"),
                sim_num(st, "victim_records"));
  assert_true(sim_num(rq, "rate_multiple") >= 20);
  assert_true(sim_num(st, "rate_multiple") >= 10);
  /* the floods cost their victims memory ... */
  assert_true(sim_num(mr, "raised_bytes") > 0);
  assert_true(sim_num(ms, "raised_bytes") > 0);
  assert_true(sim_num(st, "victim_records") >= 256); /* quota reached */
  /* ... within the bounds: the replay cache at 50 accepted requests per
   * second over two 20 s generations (2 x 2048 slots x 4 B = 16 KiB,
   * plus the honest traffic's), and 256 records per author */
  assert_true(sim_num(mr, "raised_bytes") <= 64 * 1024);
  assert_true(sim_num(mr, "victims_growth_last_third_bytes") <= 0);
  assert_true(sim_num(ms, "raised_bytes") <= 256 * (DHT_MAX_RECORD + 256));
  assert_true(sim_num(st, "victim_records") <= 2 * (256 + 64));
  json_t *lk = json_object_get(rq, "honest_lookups_during_flood");
  assert_true(sim_num(lk, "ok") >= 350);
  assert_true(sim_num(lk, "success_rate") >= 0.99);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_eclipse_node_probes, sim_free_json),
      cmocka_unit_test_teardown(test_eclipse_note_probes, sim_free_json),
      cmocka_unit_test_teardown(test_stale_records, sim_free_json),
      cmocka_unit_test_teardown(test_flood_memory_bounded, sim_free_json),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

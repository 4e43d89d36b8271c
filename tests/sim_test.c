/*
 * Simulator scenarios as tests: a 200-node honest network (small.ini)
 * must converge (every routing table holds at least k contacts), every
 * lookup and every put/get pair must succeed, and the summary must be a
 * function of scenario and seed only. Also the scenario parser's refusals.
 */
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>

#include <cmocka.h>

#include "report.h"
#include "scenario.h"
#include "sim.h"
#include "world.h"

#define SMALL SIM_SCENARIO_DIR "/small.ini"

/* run_keys runs the scenario at |path| with |seed| and the pair-key mode
 * |key_model| (-1: the file's) and returns its deterministic summary (the
 * caller frees it). */
static json_t *run_keys(const char *path, uint64_t seed, int key_model) {
  sim_scenario sc;
  sim_world *w;
  char err[256];
  sim_scenario_default(&sc);
  assert_int_equal(sim_scenario_load(&sc, path, err, sizeof err), 0);
  if (key_model >= 0)
    sc.key_model = (unsigned)key_model;
  assert_int_equal(sim_scenario_check(&sc, err, sizeof err), 0);
  assert_int_equal(sim_world_new(&w, &sc, seed, NULL), 0);
  int status = sim_world_run(w, NULL, NULL);
  json_t *summary = sim_report_summary(w, status);
  sim_world_free(w); /* before any assertion can jump out */
  if (status != 0)
    json_decref(summary);
  assert_int_equal(status, 0);
  assert_non_null(summary);
  return summary;
}

static json_t *run_file(const char *path, uint64_t seed) {
  return run_keys(path, seed, -1);
}

static json_int_t get_int(const json_t *root, const char *a, const char *b) {
  json_t *v = json_object_get(json_object_get(root, a), b);
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static double get_num(const json_t *root, const char *a, const char *b,
                      const char *c) {
  json_t *v = json_object_get(json_object_get(root, a), b);
  if (c != NULL)
    v = json_object_get(v, c);
  assert_true(json_is_number(v));
  return json_number_value(v);
}

/* Results a test keeps in its cmocka state so the teardown frees them
 * even when an assertion fails half-way. */
typedef struct held {
  json_t *json[3];
  char *text[3];
} held;

static int hold_setup(void **state) {
  *state = calloc(1, sizeof(held));
  return *state == NULL ? -1 : 0;
}

static int hold_teardown(void **state) {
  held *h = *state;
  for (int i = 0; i < 3; i++) {
    json_decref(h->json[i]);
    free(h->text[i]);
  }
  free(h);
  return 0;
}

static void test_small_honest(void **state) {
  held *h = *state;
  json_t *s = h->json[0] = run_file(SMALL, 1);
  /* everybody joined and stayed */
  assert_int_equal(get_int(s, "run", "nodes_up"), 200);
  /* convergence: every routing table holds at least k = 16 contacts */
  assert_true(get_num(s, "routing", "contacts", "min") >= 16);
  assert_int_equal(get_int(s, "routing", "nodes_below_k"), 0);
  /* every lookup started and found its target */
  assert_int_equal(get_int(s, "lookups", "started"), 200);
  assert_int_equal(get_int(s, "lookups", "ok"), 200);
  assert_int_equal(get_int(s, "lookups", "failed"), 0);
  assert_true(get_num(s, "lookups", "success_rate", NULL) == 1.0);
  assert_true(get_num(s, "lookups", "hops", "max") >= 1);
  /* every put was stored and read back intact by another node */
  json_t *rec = json_object_get(s, "records");
  assert_int_equal(get_int(rec, "puts", "ok"), 100);
  assert_int_equal(get_int(rec, "gets", "ok"), 100);
  assert_int_equal(get_int(rec, "gets", "wrong"), 0);
  assert_int_equal(get_int(s, "records", "lost"), 0);
  assert_true(get_num(rec, "puts", "storers_mean", NULL) >= 8);
  /* traffic was counted on both sides of the virtual network */
  assert_true(get_int(s, "network", "datagrams") > 0);
  assert_int_equal(get_int(s, "network", "undeliverable"), 0);
}

static void test_same_seed_same_summary(void **state) {
  held *h = *state;
  h->json[0] = run_file(SMALL, 7);
  h->json[1] = run_file(SMALL, 7);
  h->json[2] = run_file(SMALL, 8);
  for (int i = 0; i < 3; i++) {
    h->text[i] = sim_report_dumps(h->json[i]);
    assert_non_null(h->text[i]);
  }
  assert_string_equal(h->text[0], h->text[1]); /* byte for byte */
  assert_string_not_equal(h->text[0], h->text[2]);
  /* and not merely the echoed seed: traffic differs too */
  assert_true(get_int(h->json[0], "network", "bytes") !=
              get_int(h->json[2], "network", "bytes"));
}

/* Modelled pair keys change the 32 key bytes, nothing the protocol
 * decides: the summary is the same as with real X25519 keys, but for the
 * key counters themselves. */
static void test_modelled_keys_same_summary(void **state) {
  held *h = *state;
  h->json[0] = run_keys(SMALL, 5, 0);
  h->json[1] = run_keys(SMALL, 5, 1);
  assert_true(get_int(h->json[0], "keys", "derived") > 0);
  assert_int_equal(get_int(h->json[0], "keys", "modelled"), 0);
  assert_int_equal(get_int(h->json[1], "keys", "derived"), 0);
  assert_true(get_int(h->json[1], "keys", "modelled") > 0);
  for (int i = 0; i < 2; i++) {
    json_object_del(h->json[i], "keys");
    h->text[i] = sim_report_dumps(h->json[i]);
    assert_non_null(h->text[i]);
  }
  assert_string_equal(h->text[0], h->text[1]);
}

/* ---- Scenario parsing --------------------------------------------------- */

static int parse(const char *text, sim_scenario *sc, char *err, size_t cap) {
  sim_scenario_default(sc);
  int rv = sim_scenario_parse_string(sc, text, err, cap);
  return rv != 0 ? rv : sim_scenario_check(sc, err, cap);
}

static void test_scenario_parse(void **state) {
  sim_scenario sc;
  char err[256];
  (void)state;
  assert_int_equal(parse("[network]\nnodes = 1e4\nloss = 0.05\n"
                         "latency = uniform 5ms 80ms\n[dht]\nk = 8\n"
                         "request_timeout = 750ms\n[scenario]\n"
                         "seed = 18446744073709551615\nduration = 2min\n",
                         &sc, err, sizeof err),
                   0);
  assert_int_equal(sc.nodes, 10000);
  assert_true(sc.loss == 0.05);
  assert_int_equal(sc.dht.k, 8);
  assert_int_equal(sc.dht.request_timeout, 750 * DHT_MS);
  assert_int_equal(sc.seed, UINT64_MAX);
  assert_int_equal(sc.duration, 120 * DHT_SEC);
  assert_int_equal(sc.latency.kind, SIM_LATENCY_UNIFORM);
}

static void test_scenario_refusals(void **state) {
  sim_scenario sc;
  char err[256];
  (void)state;
  assert_int_equal(parse("[network]\nnodez = 5\n", &sc, err, sizeof err),
                   SIM_ERR_SCENARIO);
  assert_non_null(strstr(err, "nodez"));
  assert_int_equal(parse("[dht]\nk = 17\n", &sc, err, sizeof err),
                   SIM_ERR_SCENARIO);
  assert_int_equal(parse("[network]\nnodes = 2.5\n", &sc, err, sizeof err),
                   SIM_ERR_SCENARIO);
  assert_int_equal(parse("[network]\nloss = 1.5\n", &sc, err, sizeof err),
                   SIM_ERR_SCENARIO);
  assert_int_equal(
      parse("[scenario]\nduration = 3 weeks\n", &sc, err, sizeof err),
      SIM_ERR_SCENARIO);
  assert_int_equal(parse("[bogus]\nx = 1\n", &sc, err, sizeof err),
                   SIM_ERR_SCENARIO);
  assert_int_equal(parse("[join]\nseeds = 500\n", &sc, err, sizeof err),
                   SIM_ERR_SCENARIO);
  /* attack sections are kept verbatim, then checked by their plug-in:
   * unknown plug-ins and unknown keys are refused by name */
  assert_int_equal(
      parse("[attack nosuch]\ncount = 2\n", &sc, err, sizeof err),
      SIM_ERR_SCENARIO);
  assert_non_null(strstr(err, "nosuch"));
  assert_int_equal(parse("[attack sybil]\ncount = 10\nprefixes = 1\n", &sc,
                         err, sizeof err),
                   0);
  assert_int_equal(
      parse("[attack sybil]\nfractoin = 0.2\n", &sc, err, sizeof err),
      SIM_ERR_SCENARIO);
  assert_int_equal(sc.n_attacks, 1);
  assert_string_equal(sc.attacks[0].keys[0], "fractoin");
  assert_non_null(strstr(err, "sybil"));
  assert_non_null(strstr(err, "fractoin"));
  sim_world *w = (sim_world *)1;
  assert_int_equal(sim_world_new(&w, &sc, 1, NULL), SIM_ERR_SCENARIO);
  assert_null(w);
}

/* ---- The command line ------------------------------------------------- */

extern char **environ;

static json_t *load_json(const char *path) {
  json_error_t jerr;
  return json_load_file(path, 0, &jerr);
}

/* The binary honours --nodes and --seed and writes both output files. */
static void test_cli_run(void **state) {
  char *argv[] = {SIM_BINARY,   "run",       SMALL, "--nodes",
                  "40",         "--seed",    "5",   "--out",
                  SIM_TEST_OUT, "--no-plot", NULL};
  pid_t pid;
  int status;
  remove(SIM_TEST_OUT "/summary.json");
  remove(SIM_TEST_OUT "/timeseries.csv");
  assert_int_equal(posix_spawn(&pid, SIM_BINARY, NULL, NULL, argv, environ), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  held *h = *state;
  json_t *s = h->json[0] = load_json(SIM_TEST_OUT "/summary.json");
  assert_non_null(s);
  assert_int_equal(get_int(s, "scenario", "nodes"), 40);
  assert_int_equal(get_int(s, "scenario", "seed"), 5);
  assert_true(get_num(s, "host", "wall_s", NULL) > 0);
  assert_true(json_is_object(json_object_get(s, "dropped")));
  FILE *csv = fopen(SIM_TEST_OUT "/timeseries.csv", "r");
  assert_non_null(csv);
  char line[256];
  unsigned rows = 0;
  while (fgets(line, sizeof line, csv) != NULL)
    rows++;
  fclose(csv);
  assert_int_equal(rows, 1 + 200); /* header + one row per simulated s */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scenario_parse),
      cmocka_unit_test(test_scenario_refusals),
      cmocka_unit_test_setup_teardown(test_small_honest, hold_setup,
                                      hold_teardown),
      cmocka_unit_test_setup_teardown(test_same_seed_same_summary, hold_setup,
                                      hold_teardown),
      cmocka_unit_test_setup_teardown(test_modelled_keys_same_summary,
                                      hold_setup, hold_teardown),
      cmocka_unit_test_setup_teardown(test_cli_run, hold_setup, hold_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

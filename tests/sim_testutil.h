/*
 * Helpers shared by the simulator's scenario tests (sim_attack_test,
 * sim_net_test, sim_probe_test): run a scenario given as INI text with
 * seed 1 and read figures out of its summary, failing the test on any
 * error. Header-only: each test is one translation unit.
 */
#ifndef NOINTRUDE_TESTS_SIM_TESTUTIL_H
#define NOINTRUDE_TESTS_SIM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "report.h"
#include "scenario.h"
#include "sim.h"
#include "world.h"

/* sim_run_world runs the scenario |text| (over the defaults) with seed 1
 * to its end and returns the world, for inspection, and its summary in
 * |summary| (the caller frees both). */
static inline sim_world *sim_run_world(const char *text, json_t **summary) {
  sim_scenario sc;
  sim_world *w;
  char err[256];
  sim_scenario_default(&sc);
  assert_int_equal(sim_scenario_parse_string(&sc, text, err, sizeof err), 0);
  assert_int_equal(sim_scenario_check(&sc, err, sizeof err), 0);
  assert_int_equal(sim_world_new(&w, &sc, 1, NULL), 0);
  int status = sim_world_run(w, NULL, NULL);
  *summary = sim_report_summary(w, status);
  if (status != 0) {
    json_decref(*summary);
    sim_world_free(w);
  }
  assert_int_equal(status, 0);
  assert_non_null(*summary);
  return w;
}

/* sim_run_text is sim_run_world without the world. */
static inline json_t *sim_run_text(const char *text) {
  json_t *s;
  sim_world_free(sim_run_world(text, &s));
  return s;
}

/* sim_path returns root.a.b, which must exist. */
static inline json_t *sim_path(json_t *root, const char *a, const char *b) {
  json_t *v = json_object_get(json_object_get(root, a), b);
  assert_non_null(v);
  return v;
}

/* sim_num returns the number o.key, which must exist. */
static inline double sim_num(json_t *o, const char *key) {
  json_t *v = json_object_get(o, key);
  assert_true(json_is_number(v));
  return json_number_value(v);
}

/* sim_free_json is a cmocka teardown releasing the summary in *state. */
static inline int sim_free_json(void **state) {
  json_decref(*state);
  return 0;
}

#endif /* NOINTRUDE_TESTS_SIM_TESTUTIL_H */

/*
 * nointrude-sim: the command line of the simulator.
 *
 *   nointrude-sim run SCENARIO [--seed N] [--nodes N] [--out DIR]
 *                              [--log FILE] [--no-plot]
 *
 * Loads the scenario, builds the world, runs it with a progress bar on
 * stderr when stderr is a terminal, and writes DIR/summary.json,
 * DIR/timeseries.csv, DIR/nodes.csv and (gnuplot permitting)
 * DIR/timeseries.png. This
 * file is the only part of the simulator that reads the wall clock, and
 * what it measures goes to the "host" object of the summary only.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"
#include "registry.h"
#include "report.h"
#include "scenario.h"
#include "sim.h"
#include "world.h"

extern char **environ;

typedef struct options {
  const char *scenario;
  const char *out_dir;
  const char *log_path;
  uint64_t seed;
  int has_seed;
  uint32_t nodes; /* 0 = the scenario's */
  int plot;
} options;

static void usage(FILE *f) {
  fprintf(f, "usage: nointrude-sim run SCENARIO [--seed N] [--nodes N] "
             "[--out DIR] [--log FILE] [--no-plot]\n");
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Arguments --------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (s[0] == '-' || end == s || *end != '\0' || errno != 0 || v > max)
    return -1;
  *out = v;
  return 0;
}

/* option_value returns argv[*i + 1] for an option that takes a value. */
static const char *option_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "nointrude-sim: %s needs a value\n", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

static int parse_option(options *o, int argc, char **argv, int *i) {
  const char *arg = argv[*i], *v;
  uint64_t n;
  if (strcmp(arg, "--no-plot") == 0) {
    o->plot = 0;
    return 0;
  }
  if ((v = option_value(argc, argv, i)) == NULL)
    return -1;
  if (strcmp(arg, "--out") == 0)
    o->out_dir = v;
  else if (strcmp(arg, "--log") == 0)
    o->log_path = v;
  else if (strcmp(arg, "--seed") == 0 && parse_u64(v, UINT64_MAX, &n) == 0) {
    o->seed = n;
    o->has_seed = 1;
  } else if (strcmp(arg, "--nodes") == 0 &&
             parse_u64(v, SIM_NODES_MAX, &n) == 0 && n > 0)
    o->nodes = (uint32_t)n;
  else {
    fprintf(stderr, "nointrude-sim: bad option %s %s\n", arg, v);
    return -1;
  }
  return 0;
}

static int parse_args(options *o, int argc, char **argv) {
  memset(o, 0, sizeof *o);
  o->out_dir = "sim-out";
  o->plot = 1;
  if (argc < 3 || strcmp(argv[1], "run") != 0)
    return -1;
  o->scenario = argv[2];
  for (int i = 3; i < argc; i++)
    if (parse_option(o, argc, argv, &i) != 0)
      return -1;
  return 0;
}

/* ---- Progress bar -------------------------------------------------------- */

typedef struct progress {
  double started, last;
  dht_time t0;
} progress;

static void show_progress(void *arg, dht_time now, dht_time end,
                          uint64_t events) {
  progress *p = arg;
  double t = wall_now();
  if (now < end && t - p->last < 0.2)
    return;
  p->last = t;
  double frac =
      end > p->t0 ? (double)(now - p->t0) / (double)(end - p->t0) : 1.0;
  int filled = (int)(frac * 30);
  char bar[31];
  for (int i = 0; i < 30; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[30] = '\0';
  fprintf(stderr, "\r[%s] %3d%%  t=%.1f s  %llu events  %.0f ev/s  ", bar,
          (int)(frac * 100), (double)(now - p->t0) / 1e9,
          (unsigned long long)events, (double)events / (t - p->started + 1e-9));
  if (now >= end)
    fputc('\n', stderr);
}

/* ---- Output files ------------------------------------------------------- */

/* make_dir creates |dir| and any missing parents (mkdir -p). */
static int make_dir(const char *dir) {
  char path[4096];
  size_t len = strlen(dir);
  if (len == 0 || len >= sizeof path)
    return -1;
  memcpy(path, dir, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    char saved = path[i];
    path[i] = '\0';
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "nointrude-sim: mkdir %s: %s\n", path, strerror(errno));
      return -1;
    }
    path[i] = saved;
  }
  return 0;
}

static FILE *open_out(const char *dir, const char *name, char *path,
                      size_t cap) {
  int n = snprintf(path, cap, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= cap)
    return NULL;
  FILE *f = fopen(path, "w");
  if (f == NULL)
    fprintf(stderr, "nointrude-sim: %s: %s\n", path, strerror(errno));
  return f;
}

static int write_summary(const char *dir, const json_t *summary) {
  char path[4096];
  char *text = sim_report_dumps(summary);
  FILE *f = text ? open_out(dir, "summary.json", path, sizeof path) : NULL;
  int rv = f != NULL && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? 0 : -1;
  if (f != NULL && fclose(f) != 0)
    rv = -1;
  free(text);
  return rv;
}

typedef int (*csv_writer)(const sim_world *w, FILE *out);

static int write_csv(const char *dir, const char *name, csv_writer fn,
                     const sim_world *w) {
  char path[4096];
  FILE *f = open_out(dir, name, path, sizeof path);
  if (f == NULL)
    return -1;
  int rv = fn(w, f);
  if (fclose(f) != 0)
    rv = -1;
  return rv;
}

/* Three panels over simulated time: traffic, routing tables, lookups. */
static const char plot_script[] =
    "set terminal pngcairo size 1000,900\n"
    "set output '%s/timeseries.png'\n"
    "set datafile separator ','\n"
    "set key autotitle columnhead\n"
    "set multiplot layout 3,1 title '%s'\n"
    "set xlabel 'simulated time (s)'\n"
    "set ylabel 'datagrams / interval'\n"
    "plot '%s/timeseries.csv' using 1:3 with lines title 'datagrams'\n"
    "set ylabel 'contacts per node'\n"
    "set y2label 'nodes up'\n"
    "set y2tics\n"
    "plot '%s/timeseries.csv' using 1:10 with lines title 'contacts mean', "
    "'' using 1:11 with lines title 'contacts min', "
    "'' using 1:9 axes x1y2 with lines title 'nodes up'\n"
    "unset y2tics\n"
    "unset y2label\n"
    "set ylabel 'lookups / interval'\n"
    "plot '%s/timeseries.csv' using 1:5 with impulses title 'ok', "
    "'' using 1:6 with impulses title 'failed'\n"
    "unset multiplot\n";

/* draw_plot writes DIR/timeseries.gp and runs gnuplot on it. */
static int draw_plot(const char *dir, const char *name) {
  char path[4096];
  FILE *f = open_out(dir, "timeseries.gp", path, sizeof path);
  if (f == NULL)
    return -1;
  fprintf(f, plot_script, dir, name, dir, dir, dir);
  if (fclose(f) != 0)
    return -1;
  char *argv[] = {"gnuplot", path, NULL};
  pid_t pid;
  int status;
  if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ) != 0)
    return -1;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0)
    return -1;
  return 0;
}

/* ---- Running ------------------------------------------------------------ */

static int load(const options *o, sim_scenario *sc) {
  char err[512];
  sim_scenario_default(sc);
  if (sim_scenario_load(sc, o->scenario, err, sizeof err) != 0) {
    fprintf(stderr, "nointrude-sim: %s\n", err);
    return -1;
  }
  if (o->nodes)
    sc->nodes = o->nodes;
  if (o->has_seed)
    sc->seed = o->seed;
  if (sim_scenario_check(sc, err, sizeof err) != 0) {
    fprintf(stderr, "nointrude-sim: %s: %s\n", o->scenario, err);
    return -1;
  }
  return 0;
}

static size_t peak_rss(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (size_t)ru.ru_maxrss * 1024; /* Linux reports KiB */
}

static void print_brief(const json_t *s) {
  json_t *l = json_object_get(s, "lookups");
  json_t *r = json_object_get(s, "records");
  printf("lookups: %lld ok, %lld failed (success %.4f); records lost: %lld\n",
         json_integer_value(json_object_get(l, "ok")),
         json_integer_value(json_object_get(l, "failed")),
         json_real_value(json_object_get(l, "success_rate")),
         json_integer_value(json_object_get(r, "lost")));
}

static int report(const options *o, const sim_scenario *sc, sim_world *w,
                  int status, const sim_host_figures *fig) {
  json_t *summary = sim_report_summary(w, status);
  json_t *host = summary ? sim_report_host(w, fig) : NULL;
  int rv = -1;
  if (host != NULL && json_object_set_new(summary, "host", host) == 0 &&
      write_summary(o->out_dir, summary) == 0 &&
      write_csv(o->out_dir, "timeseries.csv", sim_report_write_csv, w) == 0 &&
      write_csv(o->out_dir, "nodes.csv", sim_report_write_nodes, w) == 0)
    rv = 0;
  if (rv == 0 && o->plot && draw_plot(o->out_dir, sc->name) != 0)
    fprintf(stderr, "nointrude-sim: gnuplot failed; no PNG written\n");
  if (rv == 0 && sim_attack_has_sweep(w) &&
      sim_attack_write_sweep(w, o->out_dir, o->plot) != 0)
    fprintf(stderr, "nointrude-sim: skademlia.csv or its plot failed\n");
  if (rv == 0 && sim_registry_write_files(w, o->out_dir) != 0) /* registry */
    rv = -1;
  if (rv == 0) {
    print_brief(summary);
    printf("wrote %s/summary.json, timeseries.csv and nodes.csv\n", o->out_dir);
  }
  json_decref(summary);
  return rv;
}

static int simulate(const options *o, const sim_scenario *sc, FILE *log) {
  sim_host_figures fig = {0};
  progress prog = {0};
  sim_world *w;
  double t_setup = wall_now();
  int rv = sim_world_new(&w, sc, sc->seed, log);
  if (rv != 0) {
    fprintf(stderr, "nointrude-sim: %s\n", sim_strerror(rv));
    return -1;
  }
  prog.started = prog.last = wall_now();
  prog.t0 = SIM_EPOCH;
  fig.setup_s = prog.started - t_setup;
  int status =
      sim_world_run(w, isatty(STDERR_FILENO) ? show_progress : NULL, &prog);
  fig.wall_s = wall_now() - prog.started;
  fig.peak_rss_bytes = peak_rss();
  if (status != 0)
    fprintf(stderr, "nointrude-sim: run stopped: %s\n", sim_strerror(status));
  rv = report(o, sc, w, status, &fig);
  sim_world_free(w);
  return rv == 0 && status == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  options o;
  sim_scenario sc;
  FILE *log = NULL;

  if (parse_args(&o, argc, argv) != 0) {
    usage(stderr);
    return 2;
  }
  if (load(&o, &sc) != 0 || make_dir(o.out_dir) != 0)
    return 1;
  if (o.log_path != NULL && (log = fopen(o.log_path, "w")) == NULL) {
    fprintf(stderr, "nointrude-sim: %s: %s\n", o.log_path, strerror(errno));
    return 1;
  }
  int rv = simulate(&o, &sc, log);
  if (log != NULL)
    fclose(log);
  return rv == 0 ? 0 : 1;
}

/*
 * Process and file plumbing for the integration tests, and the network of
 * nodes built on it (see harness.h).
 *
 * Every child goes into one table. Teardown, the signal handlers and the
 * wait helpers all go through it, so a failing assertion anywhere leaves
 * no daemon behind. Daemons are started through the test binary itself
 * (IT_EXEC_FLAG), which sets PR_SET_PDEATHSIG before exec'ing the real
 * program: even a SIGKILLed test (ctest timeout) takes its nodes with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cmocka.h>

#include "harness.h"

extern char **environ;

#define MAX_CHILDREN 128 /* daemons plus the one command in flight */
#define MAX_ARGS 64      /* wrapper argv */
#define TAIL_READ (128 * 1024) /* bytes of a log we look at */

static volatile pid_t children[MAX_CHILDREN];
static char scratch_dir[IT_PATH_MAX];
static char self_path[IT_PATH_MAX];

static int track(pid_t pid) {
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] == 0) {
      children[i] = pid;
      return 0;
    }
  }
  return -1;
}

static void untrack(pid_t pid) {
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] == pid)
      children[i] = 0;
  }
}

static int tracked(pid_t pid) {
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] == pid)
      return 1;
  }
  return 0;
}

/* Async-signal-safe: kill(2) only, then die of the same signal. */
static void on_fatal_signal(int sig) {
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    if (children[i] > 0)
      kill(children[i], SIGKILL);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

int it_init(const char *tmpdir, const char *self) {
  if (strlen(tmpdir) >= sizeof scratch_dir || strlen(self) >= sizeof self_path)
    return -1;
  strcpy(scratch_dir, tmpdir);
  strcpy(self_path, self);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
      sigaction(SIGHUP, &sa, NULL) != 0)
    return -1;
  return 0;
}

int it_exec_child(int argc, char **argv) {
  if (argc < 4)
    return 2;
#ifdef __linux__
  /* Dies with the test; the check after closes the race with its exit. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    return 1;
#endif
  if ((long)getppid() != strtol(argv[2], NULL, 10))
    return 1;
  execv(argv[3], &argv[3]);
  fprintf(stderr, "exec %s: %s\n", argv[3], strerror(errno));
  return 127;
}

double it_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_sleep_ms(unsigned ms) {
  struct timespec ts = {.tv_sec = ms / 1000,
                        .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Spawns |argv| with stdin from /dev/null and fds 1/2 opened on the given
 * paths (|flags| for both); tracks the pid. Returns it, or -1. */
static pid_t spawn_redirected(char *const argv[], const char *out_path,
                              const char *err_path, int flags) {
  posix_spawn_file_actions_t fa;
  pid_t pid = -1;
  if (posix_spawn_file_actions_init(&fa) != 0)
    return -1;
  int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  rc |= posix_spawn_file_actions_addopen(&fa, 1, out_path, flags, 0600);
  if (strcmp(out_path, err_path) == 0)
    rc |= posix_spawn_file_actions_adddup2(&fa, 1, 2);
  else
    rc |= posix_spawn_file_actions_addopen(&fa, 2, err_path, flags, 0600);
  if (rc == 0 && posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
    pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  if (pid > 0 && track(pid) != 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pid = -1;
  }
  return pid;
}

pid_t it_spawn_daemon(char *const argv[], const char *log_path) {
  char *wrapped[MAX_ARGS];
  char ppid[32];
  size_t n = 0;
  snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
  wrapped[n++] = self_path;
  wrapped[n++] = (char *)IT_EXEC_FLAG;
  wrapped[n++] = ppid;
  for (size_t i = 0; argv[i] != NULL; i++) {
    if (n + 1 >= MAX_ARGS)
      return -1;
    wrapped[n++] = argv[i];
  }
  wrapped[n] = NULL;
  return spawn_redirected(wrapped, log_path, log_path,
                          O_WRONLY | O_CREAT | O_APPEND);
}

int it_child_exited(pid_t pid, int *status) {
  if (!tracked(pid))
    return -1;
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid, &st, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0)
    return 0;
  untrack(pid);
  *status = r == pid ? st : -1;
  return 1;
}

int it_child_wait(pid_t pid, double timeout_s, int *status) {
  double deadline = it_now() + timeout_s;
  unsigned pause = 1;
  for (;;) {
    int r = it_child_exited(pid, status);
    if (r != 0)
      return 1;
    if (it_now() > deadline)
      return 0;
    it_sleep_ms(pause);
    pause = pause < 20 ? pause * 2 : 20;
  }
}

int it_child_kill(pid_t pid) {
  int st = -1;
  if (!tracked(pid))
    return -1;
  kill(pid, SIGKILL);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  untrack(pid);
  return st;
}

int it_children_kill_all(void) {
  int running = 0;
  for (size_t i = 0; i < MAX_CHILDREN; i++) {
    pid_t pid = children[i];
    if (pid <= 0)
      continue;
    int st;
    if (it_child_exited(pid, &st) == 0) {
      running++;
      it_child_kill(pid);
    }
  }
  return running;
}

/* Reads at most |cap| - 1 bytes of |path| into |buf| (NUL-terminated). */
static void read_capped(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static int exit_code_of(int st) {
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return -1;
}

int it_run(it_result *r, double timeout_s, char *const argv[]) {
  char out_path[IT_PATH_MAX + 16], err_path[IT_PATH_MAX + 16];
  snprintf(out_path, sizeof out_path, "%s/cmd.out", scratch_dir);
  snprintf(err_path, sizeof err_path, "%s/cmd.err", scratch_dir);
  r->out[0] = r->err[0] = '\0';
  r->exit_code = -1;
  double start = it_now();
  pid_t pid = spawn_redirected(argv, out_path, err_path,
                               O_WRONLY | O_CREAT | O_TRUNC);
  if (pid < 0) {
    snprintf(r->err, sizeof r->err, "spawn %s failed", argv[0]);
    return r->exit_code;
  }
  int st;
  if (it_child_wait(pid, timeout_s, &st))
    r->exit_code = exit_code_of(st);
  else
    it_child_kill(pid);
  r->seconds = it_now() - start;
  read_capped(out_path, r->out, sizeof r->out);
  read_capped(err_path, r->err, sizeof r->err);
  return r->exit_code;
}

const char *it_status_text(int status, char *buf, size_t cap) {
  if (status == -1)
    snprintf(buf, cap, "unknown");
  else if (WIFEXITED(status))
    snprintf(buf, cap, "exit %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, cap, "signal %d", WTERMSIG(status));
  else
    snprintf(buf, cap, "status 0x%x", (unsigned)status);
  return buf;
}

int it_mkdir(const char *path) {
  return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

int it_rm_rf(const char *path) {
  return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Returns the start of the first sanitizer report in |text|, or NULL. */
static const char *sanitizer_report(const char *text) {
  static const char *const markers[] = {"ERROR: AddressSanitizer",
                                        "ERROR: LeakSanitizer",
                                        "runtime error:"};
  const char *first = NULL;
  for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
    const char *p = strstr(text, markers[i]);
    if (p != NULL && (first == NULL || p < first))
      first = p;
  }
  while (first != NULL && first > text && first[-1] != '\n')
    first--;
  return first;
}

/* Reads the last TAIL_READ bytes of |path| into a malloc'd string. */
static char *read_tail(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  char *buf = malloc(TAIL_READ + 1);
  if (buf == NULL || fseek(f, 0, SEEK_END) != 0) {
    free(buf);
    fclose(f);
    return NULL;
  }
  long size = ftell(f);
  long from = size > TAIL_READ ? size - TAIL_READ : 0;
  fseek(f, from, SEEK_SET);
  size_t n = fread(buf, 1, TAIL_READ, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

void it_print_log_tail(const char *title, const char *path, unsigned lines) {
  char *text = read_tail(path);
  printf("----- %s (%s) -----\n", title, path);
  if (text == NULL) {
    printf("(no log)\n");
    return;
  }
  const char *from = sanitizer_report(text);
  if (from == NULL) {
    from = text + strlen(text);
    unsigned seen = 0;
    while (from > text && seen <= lines) {
      from--;
      if (*from == '\n')
        seen++;
    }
    if (seen > lines)
      from++;
  }
  fputs(from, stdout);
  if (*from != '\0' && from[strlen(from) - 1] != '\n')
    putchar('\n');
  free(text);
}

int it_file_has(const char *path, const char *needle) {
  char *text = read_tail(path);
  int found = text != NULL && strstr(text, needle) != NULL;
  free(text);
  return found;
}

char *it_trim(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
                   s[n - 1] == '\t'))
    s[--n] = '\0';
  return s;
}

int it_is_hex32(const char *s) {
  size_t n = 0;
  for (; s[n] != '\0'; n++) {
    char c = s[n];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
          (c >= 'A' && c <= 'F')))
      return 0;
  }
  return n == 64;
}

/* ---- a network of nodes -------------------------------------------------- */

#define ARGV_MAX 40   /* arguments of one command */
#define TAIL_LINES 15 /* log lines shown per node after a failure */

int it_prologue(it_net *net, int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], IT_EXEC_FLAG) == 0)
    return it_exec_child(argc, argv);
  ssize_t n = readlink("/proc/self/exe", net->self, sizeof net->self - 1);
  if (n <= 0) {
    fprintf(stderr, "cannot resolve /proc/self/exe\n");
    return 1;
  }
  net->self[n] = '\0';
  setvbuf(stdout, NULL, _IOLBF, 0);
  return -1;
}

/* Whether UDP |port| can be bound on every node address right now. */
static int port_free(const it_net *net, unsigned port) {
  for (int i = 0; i < net->n; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(0x7f000001u + ((uint32_t)i << 16));
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
      close(fd);
    if (!ok)
      return 0;
  }
  return 1;
}

static unsigned pick_port(const it_net *net, unsigned mult, unsigned add) {
  unsigned port = 20000u + ((unsigned)getpid() * mult + add) % 30000u;
  for (int tries = 0; tries < 200; tries++, port++) {
    if (port_free(net, port))
      return port;
  }
  return 0;
}

int it_net_setup(it_net *net, const char *tmp_template, unsigned port_mult,
                 unsigned port_add) {
  if (net->n > IT_NODES_MAX || strlen(tmp_template) >= sizeof net->tmp_dir)
    return -1;
  strcpy(net->tmp_dir, tmp_template);
  if (mkdtemp(net->tmp_dir) == NULL || it_init(net->tmp_dir, net->self) != 0)
    return -1;
  net->port = pick_port(net, port_mult, port_add);
  if (net->port == 0)
    return -1;
  for (int i = 0; i < net->n; i++) {
    it_node *nd = &net->nodes[i];
    snprintf(nd->dir, sizeof nd->dir, "%s/n%02d", net->tmp_dir, i);
    snprintf(nd->log, sizeof nd->log, "%s/n%02d.log", net->tmp_dir, i);
    snprintf(nd->addr, sizeof nd->addr, "127.%d.0.1:%u", i + 1, net->port);
  }
  printf("%s: %d nodes, port %u, temp dir %s\n", net->name, net->n, net->port,
         net->tmp_dir);
  return 0;
}

void it_net_teardown(it_net *net) {
  int left = it_children_kill_all();
  if (left > 0)
    printf("teardown: killed %d child process(es)\n", left);
  for (int i = 0; i < net->n; i++)
    net->nodes[i].pid = 0;
  if (net->failures == 0 && getenv("NI_IT_KEEP") == NULL)
    it_rm_rf(net->tmp_dir);
  else
    printf("%s: logs and data kept in %s\n", net->name, net->tmp_dir);
}

/* Prints the latest command and every started node's state and log tail. */
static void dump_logs(it_net *net) {
  char why[32];
  printf("last command: %s\n", it_cmd_output(net));
  for (int i = 0; i < net->n; i++) {
    it_node *nd = &net->nodes[i];
    if (!nd->started)
      continue;
    int st;
    const char *state = "stopped";
    if (it_running(net, i) && it_child_exited(nd->pid, &st) == 1) {
      state = it_status_text(st, why, sizeof why);
      nd->pid = 0;
    } else if (it_running(net, i)) {
      state = "running";
    }
    char title[96];
    snprintf(title, sizeof title, "node %d %s [%s]", i, nd->addr, state);
    it_print_log_tail(title, nd->log, TAIL_LINES);
  }
}

int it_step_setup(void **state) {
  it_net *net = *state;
  net->step_passed = net->step_skipped = 0;
  return 0;
}

int it_step_teardown(void **state) {
  it_net *net = *state;
  if (!net->step_passed && !net->step_skipped) {
    net->failures++;
    dump_logs(net);
  }
  return 0;
}

int it_cmd(it_net *net, double timeout_s, char *const argv[]) {
  size_t used = 0;
  net->last_cmd[0] = '\0';
  for (size_t i = 0; argv[i] != NULL && used < sizeof net->last_cmd; i++)
    used += (size_t)snprintf(net->last_cmd + used, sizeof net->last_cmd - used,
                             "%s%s", i ? " " : "", argv[i]);
  return it_run(&net->r, timeout_s, argv);
}

const char *it_cmd_output(const it_net *net) {
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "`%.1200s` exit %d after %.1f s\nstdout: %.800s\nstderr: %.1200s",
           net->last_cmd, net->r.exit_code, net->r.seconds, net->r.out,
           net->r.err);
  return buf;
}

json_t *it_output_json(const it_net *net) {
  json_error_t err;
  return json_loads(net->r.out, 0, &err);
}

json_t *it_status_json(it_net *net, int n) {
  char *argv[] = {(char *)net->bin, "status",          "--json",
                  "--data-dir",     net->nodes[n].dir, NULL};
  if (it_cmd(net, net->cli_timeout_s, argv) != 0)
    return NULL;
  return it_output_json(net);
}

int it_wire_client(it_net *net, int n, const char *difficulty,
                   const char *mode) {
  char *argv[] = {(char *)net->wire_client,
                  "--difficulty",
                  (char *)difficulty,
                  "--bind",
                  IT_TOOL_BIND,
                  net->nodes[n].addr,
                  (char *)mode,
                  NULL};
  return it_cmd(net, net->cli_timeout_s, argv);
}

void it_keygen(it_net *net, int n, const char *difficulty) {
  it_node *nd = &net->nodes[n];
  char *argv[] = {(char *)net->bin, "keygen",           "--data-dir", nd->dir,
                  "--difficulty",   (char *)difficulty, NULL};
  IT_CHECK(it_mkdir(nd->dir) == 0, "mkdir %s: %s", nd->dir, strerror(errno));
  IT_CHECK(it_cmd(net, net->cli_timeout_s, argv) == 0, "keygen for node %d: %s",
           n, it_cmd_output(net));
  char *line = strtok(it_trim(net->r.out), "\n");
  IT_CHECK(line != NULL && it_is_hex32(line),
           "keygen printed \"%s\", not a 64-digit hex ID", net->r.out);
  strcpy(nd->id, line);
}

void it_node_start(it_net *net, int n, int bootstrap,
                   const char *const *extra) {
  it_node *nd = &net->nodes[n];
  char *argv[ARGV_MAX];
  size_t k = 0;
  argv[k++] = (char *)net->bin;
  argv[k++] = "node";
  argv[k++] = "--data-dir";
  argv[k++] = nd->dir;
  argv[k++] = "--listen";
  argv[k++] = nd->addr;
  if (bootstrap >= 0) {
    argv[k++] = "--bootstrap";
    argv[k++] = net->nodes[bootstrap].addr;
  }
  for (size_t i = 0; extra != NULL && extra[i] != NULL && k + 3 < ARGV_MAX; i++)
    argv[k++] = (char *)extra[i];
  if (getenv("NI_IT_LOG_LEVEL") != NULL) {
    argv[k++] = "--log-level";
    argv[k++] = getenv("NI_IT_LOG_LEVEL");
  }
  argv[k] = NULL;
  FILE *log = fopen(nd->log, "a");
  if (log != NULL) {
    fprintf(log, "===== %s: starting node %d =====\n", net->name, n);
    fclose(log);
  }
  nd->pid = it_spawn_daemon(argv, nd->log);
  nd->started = 1;
  IT_CHECK(nd->pid > 0, "could not spawn node %d", n);
}

void it_wait_ready(it_net *net, int n) {
  double deadline = it_now() + net->wait_s;
  for (;;) {
    it_require_alive(net, n);
    json_t *st = it_status_json(net, n);
    json_t *id = st != NULL ? json_object_get(st, "id") : NULL;
    if (json_is_string(id)) {
      int same = strcasecmp(json_string_value(id), net->nodes[n].id) == 0;
      IT_CHECK(same, "node %d reports id %s, keygen printed %s", n,
               json_string_value(id), net->nodes[n].id);
      json_decref(st);
      return;
    }
    json_decref(st);
    IT_CHECK(it_now() < deadline,
             "node %d not answering status after %.0f s: %s", n, net->wait_s,
             it_cmd_output(net));
    it_sleep_ms(net->poll_ms);
  }
}

int it_running(const it_net *net, int n) { return net->nodes[n].pid > 0; }

void it_require_alive(it_net *net, int n) {
  int st;
  if (!it_running(net, n) || it_child_exited(net->nodes[n].pid, &st) != 1)
    return;
  char why[32];
  net->nodes[n].pid = 0;
  fail_msg("node %d died unexpectedly (%s)", n,
           it_status_text(st, why, sizeof why));
}

int it_node_wait_stopped(it_net *net, int n) {
  int st = -1;
  int ended = it_child_wait(net->nodes[n].pid, net->wait_s, &st);
  if (!ended)
    st = it_child_kill(net->nodes[n].pid);
  net->nodes[n].pid = 0;
  IT_CHECK(ended, "node %d still running %.0f s after SIGTERM (killed)", n,
           net->wait_s);
  return st;
}

void it_node_term(it_net *net, int n) {
  char why[32];
  kill(net->nodes[n].pid, SIGTERM);
  int st = it_node_wait_stopped(net, n);
  IT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "node %d ended with %s on SIGTERM, expected exit 0", n,
           it_status_text(st, why, sizeof why));
  IT_CHECK(!it_sanitizer_report_in(net, n),
           "node %d: sanitizer report in its log", n);
}

void it_node_kill(it_net *net, int n) {
  it_child_kill(net->nodes[n].pid);
  net->nodes[n].pid = 0;
}

int it_sanitizer_report_in(const it_net *net, int n) {
  const char *log = net->nodes[n].log;
  return it_file_has(log, "ERROR: AddressSanitizer") ||
         it_file_has(log, "ERROR: LeakSanitizer") ||
         it_file_has(log, "runtime error:");
}

void it_stop_all(it_net *net) {
  char why[32];
  int stopped = 0, bad = 0;
  for (int i = 0; i < net->n; i++) {
    if (it_running(net, i))
      kill(net->nodes[i].pid, SIGTERM);
  }
  for (int i = 0; i < net->n; i++) {
    if (!it_running(net, i))
      continue;
    int st = it_node_wait_stopped(net, i);
    stopped++;
    int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
                !it_sanitizer_report_in(net, i);
    if (!clean) {
      bad++;
      printf("node %d: %s%s on SIGTERM\n", i,
             it_status_text(st, why, sizeof why),
             it_sanitizer_report_in(net, i) ? ", sanitizer report in log" : "");
    }
  }
  IT_CHECK(bad == 0, "%d of %d nodes did not shut down cleanly", bad, stopped);
  printf("%d nodes exited 0 on SIGTERM, no sanitizer reports\n", stopped);
}

void it_step_shutdown(void **state) {
  it_net *net = *state;
  IT_REQUIRE(net, net->network_up, "step a");
  it_stop_all(net);
  net->step_passed = 1;
}

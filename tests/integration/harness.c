/*
 * Process and file plumbing for the integration test (see harness.h).
 *
 * Every child goes into one table. Teardown, the signal handlers and the
 * wait helpers all go through it, so a failing assertion anywhere leaves
 * no daemon behind. Daemons are started through the test binary itself
 * (IT_EXEC_FLAG), which sets PR_SET_PDEATHSIG before exec'ing the real
 * program: even a SIGKILLed test (ctest timeout) takes its nodes with it.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

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

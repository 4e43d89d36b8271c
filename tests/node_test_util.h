/*
 * Helpers shared by the node_*_test.c files: temporary files and
 * directories under $TMPDIR (or /tmp), removed by the tests that make them.
 */
#ifndef NOINTRUDE_NODE_TEST_UTIL_H
#define NOINTRUDE_NODE_TEST_UTIL_H

#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* nt_tmpdir creates a fresh directory and writes its path into |out|
 * (|cap| bytes). Returns 0 or -1. */
static inline int nt_tmpdir(char *out, size_t cap) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  if (snprintf(out, cap, "%s/ni-node-XXXXXX", base) >= (int)cap) return -1;
  return mkdtemp(out) ? 0 : -1;
}

static inline int nt_rm_one(const char *path, const struct stat *sb, int flag,
                            struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* nt_rmtree removes |dir| and everything below it. */
static inline void nt_rmtree(const char *dir) {
  nftw(dir, nt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* nt_write_file writes |text| to |dir|/|name|, path into |path|. */
static inline int nt_write_file(char *path, size_t cap, const char *dir,
                                const char *name, const char *text) {
  FILE *f;
  if (snprintf(path, cap, "%s/%s", dir, name) >= (int)cap) return -1;
  if (!(f = fopen(path, "w"))) return -1;
  fputs(text, f);
  return fclose(f) == 0 ? 0 : -1;
}

/* ---- Running the built binary -------------------------------------------- */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define NT_OUT_MAX 65536 /* bytes kept of a child's stdout and of stderr */

typedef struct nt_run {
  int code; /* exit code, or -1 if killed / timed out */
  char out[NT_OUT_MAX];
  char err[NT_OUT_MAX];
  size_t out_len, err_len;
} nt_run;

static inline double nt_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* nt_spawn starts |argv| with stdout and stderr on new pipes (or on
 * |log_fd| for both when >= 0). Returns the pid or -1. */
static inline pid_t nt_spawn(char *const argv[], int *out_fd, int *err_fd,
                             int log_fd) {
  int o[2] = {-1, -1}, e[2] = {-1, -1};
  if (log_fd < 0 && (pipe(o) < 0 || pipe(e) < 0)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd >= 0 ? log_fd : o[1], 1);
    dup2(log_fd >= 0 ? log_fd : e[1], 2);
    execv(argv[0], argv);
    _exit(127);
  }
  if (log_fd < 0) {
    close(o[1]);
    close(e[1]);
    *out_fd = o[0];
    *err_fd = e[0];
  }
  return pid;
}

static inline void nt_drain(int fd, char *buf, size_t *len, int *open_) {
  char tmp[4096];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n <= 0) {
    *open_ = 0;
    return;
  }
  size_t room = NT_OUT_MAX - 1 - *len;
  size_t take = (size_t)n < room ? (size_t)n : room;
  memcpy(buf + *len, tmp, take);
  *len += take;
  buf[*len] = '\0';
}

/* nt_wait waits for |pid| at most |timeout_s|, killing it after. Returns
 * its exit code or -1. */
static inline int nt_wait(pid_t pid, double timeout_s) {
  double end = nt_now() + timeout_s;
  int st;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (r < 0 || nt_now() > end) break;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1;
}

/* nt_run_argv runs |argv| to completion (at most |timeout_s| seconds),
 * capturing its output. Returns r->code. */
static inline int nt_run_argv(nt_run *r, double timeout_s, char *const argv[]) {
  int out_fd, err_fd, out_open = 1, err_open = 1;
  double end = nt_now() + timeout_s;
  memset(r, 0, sizeof *r);
  pid_t pid = nt_spawn(argv, &out_fd, &err_fd, -1);
  if (pid < 0) return r->code = -1;
  while ((out_open || err_open) && nt_now() < end) {
    struct pollfd p[2] = {{out_open ? out_fd : -1, POLLIN, 0},
                          {err_open ? err_fd : -1, POLLIN, 0}};
    if (poll(p, 2, 100) <= 0) continue;
    if (p[0].revents) nt_drain(out_fd, r->out, &r->out_len, &out_open);
    if (p[1].revents) nt_drain(err_fd, r->err, &r->err_len, &err_open);
  }
  close(out_fd);
  close(err_fd);
  r->code = nt_wait(pid, end - nt_now() > 0 ? end - nt_now() : 0.1);
  return r->code;
}

/* NT_RUN(r, timeout, "arg", ...) runs the binary NOINTRUDE_BIN. */
#define NT_RUN(r, timeout, ...)                                                \
  nt_run_argv(r, timeout, (char *const[]){NOINTRUDE_BIN, __VA_ARGS__, NULL})

#endif /* NOINTRUDE_NODE_TEST_UTIL_H */

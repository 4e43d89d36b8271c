/*
 * Test harness for the multi-process integration test: spawning and
 * tracking child processes (every one is killed and reaped by
 * it_children_kill_all, also on failure and on SIGINT/SIGTERM), running a
 * CLI command with a timeout and capturing its output, a monotonic clock,
 * small file helpers and log tails. Test-only code: it may block, sleep and
 * use process-wide state.
 */
#ifndef NOINTRUDE_IT_HARNESS_H
#define NOINTRUDE_IT_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#define IT_PATH_MAX 512
#define IT_OUT_MAX (256 * 1024) /* bytes of a command's stdout we keep */
#define IT_ERR_MAX (16 * 1024)  /* bytes of a command's stderr we keep */

/* The outcome of one command run by it_run. */
typedef struct it_result {
  int exit_code;   /* exit status; 128 + signal if killed; -1 timed out */
  double seconds;  /* wall time the command took */
  char out[IT_OUT_MAX]; /* stdout, NUL-terminated, possibly cut */
  char err[IT_ERR_MAX]; /* stderr, NUL-terminated, possibly cut */
} it_result;

/* it_init records |tmpdir| (scratch files go there) and |self| (the test
 * binary, used as a pre-exec wrapper that ties daemons to our lifetime) and
 * installs SIGINT/SIGTERM/SIGHUP handlers that kill every tracked child.
 * Returns 0 or -1. */
int it_init(const char *tmpdir, const char *self);

/* it_exec_child is the wrapper's entry point (argv[1] == IT_EXEC_FLAG): it
 * asks the kernel to SIGKILL this process when the test dies, then execs
 * argv[3...]. argv[2] is the test's pid. Never returns on success. */
#define IT_EXEC_FLAG "--it-exec-child"
int it_exec_child(int argc, char **argv);

/* it_now returns seconds on a monotonic clock. */
double it_now(void);

/* it_sleep_ms sleeps |ms| milliseconds (poll interval of the wait loops). */
void it_sleep_ms(unsigned ms);

/* it_spawn_daemon starts argv[0] with |argv| in the background, stdin from
 * /dev/null, stdout and stderr appended to |log_path|. The child is
 * tracked. Returns its pid, or -1. */
pid_t it_spawn_daemon(char *const argv[], const char *log_path);

/* it_child_exited checks (without blocking) whether tracked child |pid|
 * has ended; if so it is reaped, untracked, *status gets its waitpid status
 * and 1 is returned; 0 if it still runs, -1 if |pid| is unknown. */
int it_child_exited(pid_t pid, int *status);

/* it_child_wait waits up to |timeout_s| seconds for |pid| to end (polling)
 * and reaps it. Returns 1 with *status set, or 0 on timeout. */
int it_child_wait(pid_t pid, double timeout_s, int *status);

/* it_child_kill sends SIGKILL to |pid| and reaps it. Returns its status. */
int it_child_kill(pid_t pid);

/* it_children_kill_all SIGKILLs and reaps every tracked child. Returns how
 * many were still running. */
int it_children_kill_all(void);

/* it_run runs argv (argv[0] a path, NULL-terminated) with a timeout of
 * |timeout_s| seconds, stdout and stderr captured into |r|. Returns
 * r->exit_code. */
int it_run(it_result *r, double timeout_s, char *const argv[]);

/* it_status_text describes a waitpid status ("exit 0", "signal 9"). */
const char *it_status_text(int status, char *buf, size_t cap);

/* it_mkdir creates |path| with mode 0700. Returns 0 or -1. */
int it_mkdir(const char *path);

/* it_rm_rf removes |path| and everything below it. Returns 0 or -1. */
int it_rm_rf(const char *path);

/* it_print_log_tail prints the last |lines| lines of |path| to stdout with
 * |title|; from the first sanitizer report on if there is one. */
void it_print_log_tail(const char *title, const char *path, unsigned lines);

/* it_file_has reports whether the file at |path| contains |needle|. */
int it_file_has(const char *path, const char *needle);

/* it_trim cuts trailing whitespace (newlines) of |s| in place; returns s. */
char *it_trim(char *s);

/* it_is_hex32 reports whether |s| is exactly 64 hex digits. */
int it_is_hex32(const char *s);

#endif /* NOINTRUDE_IT_HARNESS_H */

/*
 * Test harness for the multi-process integration tests (integration_test,
 * registry_test): spawning and tracking child processes (every one is
 * killed and reaped by it_children_kill_all, also on failure and on
 * SIGINT/SIGTERM), running a CLI command with a timeout and capturing its
 * output, a monotonic clock, small file helpers and log tails; then, on
 * top, a network of `nointrude node` processes on loopback (it_net: node
 * i on 127.(i+1).0.1:PORT, one /16 each) with the steps both tests take:
 * keygen, start, wait until ready, run CLI commands, stop and kill nodes,
 * the cmocka step fixtures that print log tails after a failure. Test-only
 * code: it may block, sleep and use process-wide state.
 */
#ifndef NOINTRUDE_IT_HARNESS_H
#define NOINTRUDE_IT_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

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

/* ---- a network of nodes -------------------------------------------------- */

#define IT_NODES_MAX 32
#define IT_CMD_MAX 2048 /* bytes of a command line kept for messages */
#define IT_TOOL_BIND "127.250.0.1" /* wire_client's address: its own /16 */

/* IT_CHECK fails the current step with a message if |cond| is false. */
#define IT_CHECK(cond, ...)                                                    \
  do {                                                                         \
    if (!(cond))                                                               \
      fail_msg(__VA_ARGS__);                                                   \
  } while (0)

/* IT_REQUIRE skips the current step of |net| if |cond| (an earlier step's
 * outcome) is false: it is not failed again. */
#define IT_REQUIRE(net, cond, why)                                             \
  do {                                                                         \
    if (!(cond)) {                                                             \
      print_message("[ SKIPPED  ] needs: %s\n", why);                          \
      (net)->step_skipped = 1;                                                 \
      skip();                                                                  \
    }                                                                          \
  } while (0)

typedef struct it_node {
  char dir[IT_PATH_MAX]; /* --data-dir */
  char log[IT_PATH_MAX]; /* the daemon's stdout and stderr */
  char addr[32];         /* "127.(i+1).0.1:PORT" */
  char id[65];           /* hex node ID printed by keygen */
  pid_t pid;             /* 0 when not running */
  int started;           /* ever started: has a log worth showing */
} it_node;

/* The network under test. The test sets the first block (IT_NET_INIT);
 * it_prologue and it_net_setup the rest. */
typedef struct it_net {
  const char *name;        /* in messages and log banners */
  const char *bin;         /* the nointrude binary */
  const char *wire_client; /* the wire_client tool */
  int n;                   /* nodes (<= IT_NODES_MAX) */
  double wait_s;           /* bound of every poll loop, seconds */
  unsigned poll_ms;        /* pause between polls */
  double cli_timeout_s;    /* bound of one command */

  char self[IT_PATH_MAX]; /* this test binary (the exec wrapper) */
  char tmp_dir[64];       /* everything of the run lives here */
  unsigned port;          /* every node's UDP port */
  it_node nodes[IT_NODES_MAX];
  char last_cmd[IT_CMD_MAX];     /* the latest command line */
  it_result r;                   /* the latest command's outcome */
  int failures;                  /* steps failed so far */
  int step_passed, step_skipped; /* the current step's verdict */
  int network_up;                /* set by the test once every node runs */
} it_net;

/* The build (ni_add_integration_test) tells the tests where the binaries
 * are. */
#ifndef NI_BIN
#error "NI_BIN (path of the nointrude binary) must be defined by the build"
#endif
#ifndef NI_WIRE_CLIENT
#error "NI_WIRE_CLIENT (path of the wire_client tool) must be defined"
#endif

/* IT_NET_INIT initializes an it_net of |n| nodes named |name|, with its
 * poll bound |wait_s|, poll interval |poll_ms| and command bound
 * |cli_timeout_s|. */
#define IT_NET_INIT(name_, n_, wait_s_, poll_ms_, cli_timeout_s_)              \
  {                                                                            \
    .name = (name_), .bin = NI_BIN, .wire_client = NI_WIRE_CLIENT, .n = (n_),  \
    .wait_s = (wait_s_), .poll_ms = (poll_ms_),                                \
    .cli_timeout_s = (cli_timeout_s_)                                          \
  }

/* it_prologue starts main(): the exec wrapper when argv[1] is
 * IT_EXEC_FLAG, else it records this binary in net->self and makes stdout
 * line-buffered. Returns -1 to go on with the tests, else the exit code to
 * return. */
int it_prologue(it_net *net, int argc, char **argv);

/* it_net_setup makes the scratch directory from |tmp_template| (ending in
 * XXXXXX), calls it_init, picks a port free on every node address (from
 * 20000 + (pid * |port_mult| + |port_add|) % 30000 on, so that tests run
 * side by side start apart) and lays out the nodes' paths. Returns 0 or
 * -1 (a cmocka group setup result). */
int it_net_setup(it_net *net, const char *tmp_template, unsigned port_mult,
                 unsigned port_add);

/* it_net_teardown kills every child, then removes the scratch directory
 * after a clean run (unless NI_IT_KEEP is set) or prints where it is. */
void it_net_teardown(it_net *net);

/* it_step_setup and it_step_teardown are the fixtures of every step (the
 * step's state is its it_net): a step that neither passed nor was skipped
 * is counted as failed and the nodes' log tails are printed. */
int it_step_setup(void **state);
int it_step_teardown(void **state);
#define IT_STEP(f, net)                                                        \
  cmocka_unit_test_prestate_setup_teardown(f, it_step_setup, it_step_teardown, \
                                           net)

/* it_cmd runs |argv| (NULL-terminated) into net->r, bounded by
 * |timeout_s|, and remembers its command line. Returns the exit code. */
int it_cmd(it_net *net, double timeout_s, char *const argv[]);

/* it_cmd_output describes the latest command and its output (static
 * buffer, for failure messages). */
const char *it_cmd_output(const it_net *net);

/* it_output_json parses the latest command's stdout (NULL if not JSON). */
json_t *it_output_json(const it_net *net);

/* it_status_json runs `status --json` on node |n|: the parsed object, or
 * NULL if the command or the parse failed. */
json_t *it_status_json(it_net *net, int n);

/* it_wire_client runs wire_client from IT_TOOL_BIND against node |n| in
 * |mode| with IDs of |difficulty| bits. Returns its exit code. */
int it_wire_client(it_net *net, int n, const char *difficulty,
                   const char *mode);

/* it_keygen makes node |n|'s data directory and key (`keygen --difficulty
 * |difficulty|`) and records the ID it prints; fails the step if none. */
void it_keygen(it_net *net, int n, const char *difficulty);

/* it_node_start spawns `nointrude node` for node |n|, bootstrapping
 * through node |bootstrap| (-1: none), with the NULL-terminated |extra|
 * arguments (NULL: none) and --log-level $NI_IT_LOG_LEVEL when set. */
void it_node_start(it_net *net, int n, int bootstrap, const char *const *extra);

/* it_wait_ready polls node |n|'s status until it answers with its keygen
 * ID; fails the step if it dies, reports another ID or takes longer than
 * net->wait_s. */
void it_wait_ready(it_net *net, int n);

/* it_running reports whether node |n| was started and not seen to end. */
int it_running(const it_net *net, int n);

/* it_require_alive fails the step if node |n| has died. */
void it_require_alive(it_net *net, int n);

/* it_node_wait_stopped waits for node |n| to end after the SIGTERM its
 * caller sent (once: a second one may legitimately mean "quit now"),
 * killing it after net->wait_s (a failure). Returns its waitpid status. */
int it_node_wait_stopped(it_net *net, int n);

/* it_node_term stops node |n| with SIGTERM and fails the step unless it
 * exits 0 with no sanitizer report in its log. */
void it_node_term(it_net *net, int n);

/* it_node_kill SIGKILLs node |n|. */
void it_node_kill(it_net *net, int n);

/* it_sanitizer_report_in reports whether node |n|'s log holds an
 * AddressSanitizer, LeakSanitizer or UBSan report. */
int it_sanitizer_report_in(const it_net *net, int n);

/* it_stop_all sends every running node SIGTERM, waits for each and fails
 * the step unless all exit 0 with no sanitizer report. */
void it_stop_all(it_net *net);

/* it_step_shutdown is the last step of a test (state: its it_net): if the
 * network came up, it_stop_all. */
void it_step_shutdown(void **state);

#endif /* NOINTRUDE_IT_HARNESS_H */

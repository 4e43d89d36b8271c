/*
 * The libuv driver of one node. Everything runs on one loop thread:
 *
 *  - the DHT node and, beside it, the registry (reg_node): the registry's
 *    record types are registered with the DHT, the DHT's app_message hook
 *    (relayed opt-outs) goes to the registry, and the registry's local
 *    state lives in the database under its own prefix (reg_state.c);
 *  - one UDP socket per --listen address; libuv reads at most 32 datagrams
 *    per wakeup (uv__udp_io), each handed to dht_node_handle_datagram;
 *  - one timer armed at the earlier of dht_node_next_deadline and
 *    reg_node_next_deadline, which calls whichever handle_expiry is due;
 *  - after every input and every expiry, the engine's queue of outgoing
 *    datagrams is drained with uv_udp_try_send (a datagram the kernel
 *    will not take now is dropped and counted: UDP may lose it anyway);
 *  - a one-minute timer writes the routing table snapshot, and a
 *    bootstrap timer retries the bootstrap addresses with exponential
 *    back-off (2 s doubling to 60 s) while the routing table is empty,
 *    so nodes started in any order find each other;
 *  - SIGINT and SIGTERM stop the control server, write the snapshot,
 *    close every handle and let the loop end; the database is then
 *    closed cleanly.
 *
 * Time given to the engine is the wall clock in ns, clamped so that it
 * never goes backward (record expiry needs the wall clock; the engine
 * needs monotonic input).
 */
#define _POSIX_C_SOURCE 200809L
#include "runtime.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "control.h"
#include "errors.h"
#include "identity.h"
#include "log.h"
#include "reg_state.h"
#include "store_rocks.h"
#include "util.h"

#define SNAPSHOT_INTERVAL_MS 60000
#define BOOTSTRAP_FIRST_MS 2000
#define BOOTSTRAP_MAX_MS 60000

typedef struct rt_socket {
  uv_udp_t handle;
  dht_addr bound; /* actual address, port resolved if 0 was asked */
} rt_socket;

struct node_runtime {
  /* First member: the DHT's hooks get &persist as their user pointer,
   * which is therefore also a pointer to the runtime (app_message). */
  node_persist persist; /* store hooks, restore, snapshot */
  uv_loop_t loop;
  node_opts opts;       /* settings, copied at start */
  nc_identity ident;    /* our key pair: wiped at teardown */
  node_store *store;    /* DATA_DIR/db */
  dht_node *dht;
  reg_node *reg; /* the registry beside the DHT node */
  reg_types types; /* the registry's record types (dht.types points here) */
  node_control *ctl; /* control socket server */
  rt_socket socks[NODE_LISTEN_MAX];
  size_t n_socks;       /* sockets initialised (bound or not) */
  uv_timer_t dht_timer; /* armed at dht_node_next_deadline */
  uv_timer_t snapshot_timer, bootstrap_timer;
  uv_signal_t sigint, sigterm;
  dht_time last_now;           /* largest time given to the engine, ns */
  uint64_t started_ns;         /* uv_hrtime at start, for uptime */
  uint64_t send_failures;      /* datagrams uv_udp_try_send did not take */
  uint64_t bootstrap_delay_ms; /* current bootstrap retry period */
  int stopping;                /* a signal arrived: no more sends */
  /* One byte more than the largest datagram: a longer one arrives
   * truncated to DHT_MAX_DATAGRAM + 1 bytes and the engine drops it as
   * oversize. */
  uint8_t rx_buf[DHT_MAX_DATAGRAM + 1];
  uint8_t tx_buf[DHT_MAX_DATAGRAM];
};

_Static_assert(offsetof(node_runtime, persist) == 0,
               "the DHT hooks' user pointer doubles as the runtime");

/* ---- Accessors ----------------------------------------------------------- */

dht_time node_rt_now(node_runtime *rt) {
  dht_time t = node_wall_ns();
  if (t < rt->last_now) t = rt->last_now;
  rt->last_now = t;
  return t;
}

dht_node *node_rt_dht(node_runtime *rt) { return rt->dht; }

reg_node *node_rt_reg(node_runtime *rt) { return rt->reg; }

const nc_identity *node_rt_identity(const node_runtime *rt) {
  return &rt->ident;
}

node_persist *node_rt_persist(node_runtime *rt) { return &rt->persist; }

void node_rt_status(node_runtime *rt, node_status *out) {
  memset(out, 0, sizeof *out);
  memcpy(out->id, rt->ident.id, DHT_ID_LEN);
  memcpy(out->pk, rt->ident.pk, NC_PK_LEN);
  out->nonce = rt->ident.nonce;
  out->difficulty = rt->opts.dht.difficulty;
  for (size_t i = 0; i < rt->n_socks; i++) out->addrs[i] = rt->socks[i].bound;
  out->n_addrs = rt->n_socks;
  dht_node_stats(rt->dht, &out->stats);
  out->uptime_ms = (uv_hrtime() - rt->started_ns) / 1000000;
  out->send_failures = rt->send_failures;
  out->restore_failures = rt->persist.restore_failures;
  out->store_failures = rt->persist.store_failures;
  out->control_clients = node_control_clients(rt->ctl);
  reg_node_stats(rt->reg, &out->reg);
  out->reg_cfg = rt->opts.reg;
}

/* ---- Sending and the engine timer ---------------------------------------- */

/* pick_socket returns the first socket of |family|: IPv6 sockets are bound
 * IPV6ONLY, so each family has its own. */
static rt_socket *pick_socket(node_runtime *rt, uint8_t family) {
  for (size_t i = 0; i < rt->n_socks; i++)
    if (rt->socks[i].bound.family == family) return &rt->socks[i];
  return NULL;
}

static void send_one(node_runtime *rt, const dht_addr *to, size_t len) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  rt_socket *s = pick_socket(rt, to->family);
  uv_buf_t buf = uv_buf_init((char *)rt->tx_buf, (unsigned)len);
  if (!s || node_addr_to_sockaddr(to, &ss, &sslen) < 0 ||
      uv_udp_try_send(&s->handle, &buf, 1, (struct sockaddr *)&ss) < 0)
    rt->send_failures++;
}

static void on_dht_timer(uv_timer_t *t);

/* next_deadline is the earlier of the DHT's and the registry's. */
static dht_time next_deadline(const node_runtime *rt) {
  dht_time d = dht_node_next_deadline(rt->dht);
  dht_time r = rt->reg ? reg_node_next_deadline(rt->reg) : DHT_TIME_NONE;
  return r < d ? r : d;
}

/* arm_timer sets the one engine timer. After an expiry call a deadline
 * that is still due waits 1 ms, so an engine that does not move its
 * deadline cannot make the loop spin. */
static void arm_timer(node_runtime *rt, int after_expiry) {
  dht_time deadline = next_deadline(rt), now;
  uint64_t ms = 0;
  if (deadline == DHT_TIME_NONE) {
    uv_timer_stop(&rt->dht_timer);
    return;
  }
  now = node_rt_now(rt);
  if (deadline > now) ms = (deadline - now + DHT_MS - 1) / DHT_MS;
  uv_update_time(&rt->loop); /* the timer counts from the loop's clock */
  if (ms == 0 && after_expiry) ms = 1;
  uv_timer_start(&rt->dht_timer, on_dht_timer, ms, 0);
}

static void flush(node_runtime *rt, int after_expiry) {
  dht_addr to;
  size_t len;
  if (rt->stopping) return;
  while (dht_node_next_datagram(rt->dht, &to, rt->tx_buf, sizeof rt->tx_buf,
                                &len) == 1)
    send_one(rt, &to, len);
  arm_timer(rt, after_expiry);
}

void node_rt_flush(node_runtime *rt) { flush(rt, 0); }

static void on_dht_timer(uv_timer_t *t) {
  node_runtime *rt = t->data;
  dht_time now = node_rt_now(rt);
  if (dht_node_next_deadline(rt->dht) <= now)
    dht_node_handle_expiry(rt->dht, now);
  if (rt->reg && reg_node_next_deadline(rt->reg) <= now)
    reg_node_handle_expiry(rt->reg, now);
  flush(rt, 1);
}

/* ---- Receiving ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  node_runtime *rt = h->data;
  (void)suggested;
  /* One buffer serves every socket: each datagram is consumed before the
   * next read. */
  buf->base = (char *)rt->rx_buf;
  buf->len = sizeof rt->rx_buf;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags) {
  node_runtime *rt = h->data;
  dht_addr from;
  (void)buf;
  (void)flags; /* UV_UDP_PARTIAL: nread is then > DHT_MAX_DATAGRAM */
  if (nread < 0) {
    node_log(DHT_LOG_DEBUG, "udp: receive error: %s", uv_strerror((int)nread));
    return;
  }
  if (!addr || rt->stopping || node_addr_from_sockaddr(&from, addr) < 0)
    return; /* nothing read, or an address family we do not speak */
  dht_node_handle_datagram(rt->dht, node_rt_now(rt), &from, rt->rx_buf,
                           (size_t)nread);
  flush(rt, 0);
}

static int open_socket(node_runtime *rt, rt_socket *s, const dht_addr *addr) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  int namelen = sizeof ss, rv;
  char text[64];
  unsigned flags = addr->family == 6 ? UV_UDP_IPV6ONLY : 0;
  node_addr_to_sockaddr(addr, &ss, &sslen);
  uv_udp_init(&rt->loop, &s->handle);
  s->handle.data = rt;
  if ((rv = uv_udp_bind(&s->handle, (struct sockaddr *)&ss, flags)) < 0 ||
      (rv = uv_udp_getsockname(&s->handle, (struct sockaddr *)&ss, &namelen)) <
          0 ||
      (rv = uv_udp_recv_start(&s->handle, on_alloc, on_recv)) < 0) {
    node_log(DHT_LOG_ERROR, "cannot listen on %s: %s",
             dht_addr_format(text, sizeof text, addr), uv_strerror(rv));
    return NODE_ERR_IO;
  }
  node_addr_from_sockaddr(&s->bound, (struct sockaddr *)&ss);
  return 0;
}

static int open_sockets(node_runtime *rt) {
  for (size_t i = 0; i < rt->opts.n_listen; i++) {
    rt->n_socks = i + 1; /* counted before binding: closed on failure too */
    if (open_socket(rt, &rt->socks[i], &rt->opts.listen[i]) < 0)
      return NODE_ERR_IO;
  }
  return 0;
}

/* ---- Periodic work and signals ------------------------------------------- */

static void save_snapshot(node_runtime *rt, int sync) {
  long n = node_persist_snapshot_save(&rt->persist, rt->dht, sync);
  if (n < 0)
    node_log(DHT_LOG_ERROR, "cannot write the routing table snapshot: %s",
             node_store_error(rt->store));
  else
    node_log(DHT_LOG_DEBUG, "routing table snapshot: %ld contacts", n);
}

static void on_snapshot_timer(uv_timer_t *t) { save_snapshot(t->data, 0); }

static void bootstrap_all(node_runtime *rt) {
  char text[64];
  dht_time now = node_rt_now(rt);
  for (size_t i = 0; i < rt->opts.n_bootstrap; i++) {
    int rv = dht_node_bootstrap(rt->dht, now, &rt->opts.bootstrap[i]);
    if (rv < 0)
      node_log(DHT_LOG_WARN, "bootstrap via %s: %s",
               dht_addr_format(text, sizeof text, &rt->opts.bootstrap[i]),
               dht_strerror(rv));
  }
  flush(rt, 0);
}

static void on_bootstrap_timer(uv_timer_t *t) {
  node_runtime *rt = t->data;
  dht_stats st;
  dht_node_stats(rt->dht, &st);
  if (st.contacts == 0) {
    node_log(DHT_LOG_INFO, "routing table empty: bootstrapping again");
    bootstrap_all(rt);
    rt->bootstrap_delay_ms *= 2;
    if (rt->bootstrap_delay_ms > BOOTSTRAP_MAX_MS)
      rt->bootstrap_delay_ms = BOOTSTRAP_MAX_MS;
  } else {
    rt->bootstrap_delay_ms = BOOTSTRAP_MAX_MS;
  }
  uv_timer_start(&rt->bootstrap_timer, on_bootstrap_timer,
                 rt->bootstrap_delay_ms, 0);
}

static void close_handle(uv_handle_t *h) {
  if (h->loop && !uv_is_closing(h)) uv_close(h, NULL);
}

static void close_handles(node_runtime *rt) {
  for (size_t i = 0; i < rt->n_socks; i++)
    close_handle((uv_handle_t *)&rt->socks[i].handle);
  close_handle((uv_handle_t *)&rt->dht_timer);
  close_handle((uv_handle_t *)&rt->snapshot_timer);
  close_handle((uv_handle_t *)&rt->bootstrap_timer);
  close_handle((uv_handle_t *)&rt->sigint);
  close_handle((uv_handle_t *)&rt->sigterm);
  /* Closing the last uv_signal_t restores the default action, which would
   * let a second SIGINT/SIGTERM kill us while RocksDB is being closed.
   * Shutdown is already under way: ignore further requests for it. */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  node_control_stop(rt->ctl);
}

static void on_signal(uv_signal_t *s, int signum) {
  node_runtime *rt = s->data;
  if (rt->stopping) return;
  node_log(DHT_LOG_INFO, "%s: shutting down",
           signum == SIGINT ? "SIGINT" : "SIGTERM");
  node_control_stop(rt->ctl); /* no new requests from here on */
  save_snapshot(rt, 1);
  rt->stopping = 1;
  close_handles(rt);
}

/* ---- Start-up ------------------------------------------------------------ */

static void env_random(void *user, uint8_t *buf, size_t len) {
  (void)user;
  randombytes_buf(buf, len);
}

static void env_log(void *user, int level, const char *line) {
  (void)user;
  node_log(level, "dht: %s", line);
}

/* The registry's lines mostly start with "registry:" already. */
static void reg_log(void *user, int level, const char *line) {
  (void)user;
  if (strncmp(line, "registry:", 9) == 0)
    node_log(level, "%s", line);
  else
    node_log(level, "registry: %s", line);
}

/* env_app_message hands a relayed opt-out to the registry. |user| is
 * &rt->persist, the runtime's first member. */
static int env_app_message(void *user, dht_time now, const dht_contact *from,
                           const uint8_t *msg, size_t len) {
  node_runtime *rt = user;
  if (!rt->reg) return DHT_ERR_UNKNOWN_TYPE; /* not started yet */
  return reg_node_handle_app_message(rt->reg, now, from, msg, len);
}

static int open_store(node_runtime *rt) {
  char path[NODE_PATH_MAX], err[NODE_ERR_MSG_MAX];
  snprintf(err, sizeof err, "path too long");
  if (node_path_join(path, sizeof path, rt->opts.data_dir, "db") < 0 ||
      node_store_open(&rt->store, path, NODE_STORE_CREATE, err, sizeof err) <
          0) {
    node_log(DHT_LOG_ERROR,
             "cannot open the database %s/db: %s (is another "
             "node running on this data directory?)",
             rt->opts.data_dir, err);
    return NODE_ERR_STORE;
  }
  return 0;
}

static int load_identity(node_runtime *rt) {
  unsigned need = rt->opts.dht.difficulty, have;
  char hex[2 * DHT_ID_LEN + 1];
  int rv = node_identity_load(rt->store, &rt->ident);
  if (rv == 0) {
    node_log(DHT_LOG_INFO, "creating an identity (%u-bit puzzle)", need);
    rv = node_identity_create(rt->store, need, &rt->ident);
  }
  if (rv < 0) {
    node_log(DHT_LOG_ERROR, "identity: %s", node_strerror(rv));
    return rv;
  }
  have = nc_id_puzzle_bits(rt->ident.id);
  if (have < need) {
    nc_hex_encode(hex, rt->ident.id, DHT_ID_LEN);
    node_log(DHT_LOG_ERROR,
             "identity %s meets a %u-bit puzzle, difficulty "
             "%u is required (lower --difficulty or start from a new data "
             "directory)",
             hex, have, need);
    return NODE_ERR_IDENTITY;
  }
  return 0;
}

static int start_dht(node_runtime *rt) {
  dht_env env;
  size_t restored = 0, own = 0;
  memset(&env, 0, sizeof env);
  node_persist_init(&rt->persist, rt->store, rt->ident.pk);
  node_persist_env(&rt->persist, &env);
  if (env.user != &rt->persist) return NODE_ERR_STORE; /* see struct */
  env.random = env_random;
  env.log = env_log;
  env.app_message = env_app_message;
  reg_types_init(&rt->types, rt->opts.reg.batch_pow_base_bits);
  rt->opts.dht.types = rt->types.t;
  rt->opts.dht.n_types = REG_RECORD_TYPES;
  int rv =
      dht_node_new(&rt->dht, &rt->opts.dht, &env, &rt->ident, node_rt_now(rt));
  if (rv < 0) {
    node_log(DHT_LOG_ERROR, "cannot start the DHT node: %s", dht_strerror(rv));
    return rv;
  }
  if (node_persist_restore(&rt->persist, rt->dht, node_rt_now(rt), &restored,
                           &own) < 0) {
    node_log(DHT_LOG_ERROR, "cannot read stored records: %s",
             node_store_error(rt->store));
    return NODE_ERR_STORE;
  }
  node_log(DHT_LOG_INFO,
           "restored %zu records (%zu own); %llu refused and "
           "deleted",
           restored, own, (unsigned long long)rt->persist.restore_failures);
  return 0;
}

static int start_registry(node_runtime *rt) {
  reg_env env;
  size_t restored = 0;
  memset(&env, 0, sizeof env);
  node_reg_state_env(&rt->persist, &env);
  env.random = env_random;
  env.log = reg_log;
  int rv = reg_node_new(&rt->reg, &rt->opts.reg, &env, rt->dht, &rt->ident,
                        node_rt_now(rt));
  if (rv < 0) {
    node_log(DHT_LOG_ERROR, "cannot start the registry: %s", reg_strerror(rv));
    return rv;
  }
  if (node_reg_state_restore(&rt->persist, rt->reg, node_rt_now(rt),
                             &restored) < 0) {
    node_log(DHT_LOG_ERROR, "cannot read the registry state: %s",
             node_store_error(rt->store));
    return NODE_ERR_STORE;
  }
  node_log(DHT_LOG_INFO, "registry: %zu state entries restored", restored);
  return 0;
}

static int start_control(node_runtime *rt) {
  char path[NODE_PATH_MAX], err[NODE_ERR_MSG_MAX];
  int rv =
      node_path_join(path, sizeof path, rt->opts.data_dir, NODE_CTL_SOCKET);
  if (rv < 0) snprintf(err, sizeof err, "control socket path too long");
  if (rv == 0)
    rv = node_control_start(&rt->ctl, &rt->loop, rt, path,
                            rt->opts.control_max_clients, err, sizeof err);
  if (rv < 0) node_log(DHT_LOG_ERROR, "%s", err);
  return rv;
}

/* init_handles prepares every timer and signal handle (inactive until
 * started), so that teardown can close them whatever failed. */
static void init_handles(node_runtime *rt) {
  uv_timer_init(&rt->loop, &rt->dht_timer);
  uv_timer_init(&rt->loop, &rt->snapshot_timer);
  uv_timer_init(&rt->loop, &rt->bootstrap_timer);
  uv_signal_init(&rt->loop, &rt->sigint);
  uv_signal_init(&rt->loop, &rt->sigterm);
  rt->dht_timer.data = rt->snapshot_timer.data = rt;
  rt->bootstrap_timer.data = rt->sigint.data = rt->sigterm.data = rt;
  uv_signal_start(&rt->sigint, on_signal, SIGINT);
  uv_signal_start(&rt->sigterm, on_signal, SIGTERM);
}

static void start_periodic(node_runtime *rt) {
  long hints =
      node_persist_snapshot_load(&rt->persist, rt->dht, node_rt_now(rt));
  if (hints < 0)
    node_log(DHT_LOG_WARN, "cannot read the routing table snapshot: %s",
             node_store_error(rt->store));
  else
    node_log(DHT_LOG_INFO, "%ld contacts from the last snapshot", hints);
  bootstrap_all(rt);
  rt->bootstrap_delay_ms = BOOTSTRAP_FIRST_MS;
  uv_timer_start(&rt->bootstrap_timer, on_bootstrap_timer,
                 rt->bootstrap_delay_ms, 0);
  uv_timer_start(&rt->snapshot_timer, on_snapshot_timer, SNAPSHOT_INTERVAL_MS,
                 SNAPSHOT_INTERVAL_MS);
}

static void log_started(node_runtime *rt) {
  char hex[2 * DHT_ID_LEN + 1], addrs[NODE_LISTEN_MAX * 64] = "", text[64];
  size_t used = 0;
  for (size_t i = 0; i < rt->n_socks; i++) {
    int n = snprintf(addrs + used, sizeof addrs - used, "%s%s", i ? " " : "",
                     dht_addr_format(text, sizeof text, &rt->socks[i].bound));
    if (n > 0 && (size_t)n < sizeof addrs - used) used += (size_t)n;
  }
  nc_hex_encode(hex, rt->ident.id, DHT_ID_LEN);
  node_log(DHT_LOG_INFO, "node %s listening on %s", hex, addrs);
}

static void teardown(node_runtime *rt) {
  rt->stopping = 1;
  close_handles(rt);
  uv_run(&rt->loop, UV_RUN_DEFAULT); /* runs the close callbacks */
  if (rt->reg) reg_node_free(rt->reg); /* before the DHT node it uses */
  rt->reg = NULL;
  dht_node_free(rt->dht);
  node_control_free(rt->ctl);
  node_store_close(rt->store);
  if (uv_loop_close(&rt->loop) < 0)
    node_log(DHT_LOG_WARN, "event loop closed with handles still open");
  nc_identity_wipe(&rt->ident);
}

int node_runtime_run(const node_opts *o) {
  node_runtime *rt = calloc(1, sizeof *rt);
  int rv;
  if (!rt || uv_loop_init(&rt->loop) < 0) {
    node_log(DHT_LOG_ERROR, "cannot start: out of memory");
    free(rt);
    return NODE_EXIT_FAILURE;
  }
  rt->opts = *o;
  rt->started_ns = uv_hrtime();
  init_handles(rt);
  rv = open_store(rt);
  if (rv == 0) rv = load_identity(rt);
  if (rv == 0) rv = start_dht(rt);
  if (rv == 0) rv = start_registry(rt);
  if (rv == 0) rv = open_sockets(rt);
  if (rv == 0) rv = start_control(rt);
  if (rv == 0) {
    start_periodic(rt);
    log_started(rt);
    uv_run(&rt->loop, UV_RUN_DEFAULT); /* until a signal closes everything */
  }
  teardown(rt);
  free(rt);
  node_log(rv == 0 ? DHT_LOG_INFO : DHT_LOG_ERROR, "%s",
           rv == 0 ? "stopped" : "could not start");
  return rv == 0 ? NODE_EXIT_OK : NODE_EXIT_FAILURE;
}

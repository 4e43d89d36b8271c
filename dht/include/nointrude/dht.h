/*
 * nointrude DHT: a sybil-aware Kademlia overlay as a sans-IO state machine.
 *
 * The library never touches a socket, a clock, a file or a thread. The
 * driver (the daemon in node/, the simulator in sim/, or a test) feeds it
 * three things and acts on what it hands back:
 *
 *   dht_node_handle_datagram(node, now, from, bytes)   a datagram arrived
 *   dht_node_next_datagram(node, &to, buf, cap, &len)  pull one to send,
 *                                                      until it returns 0
 *   dht_node_next_deadline(node) / handle_expiry(now)  arm one timer
 *
 * Randomness, logging and persistence are injected through dht_env. Time is
 * a parameter: dht_time is nanoseconds since the Unix epoch (wall clock, so
 * record expiry times mean the same thing on every node); drivers must pass
 * non-decreasing values. DHT_TIME_NONE means "no deadline".
 *
 * All state hangs off dht_node: one process can host many thousands.
 * Errors are negative DHT_ERR_* codes; bad input from the network is never
 * an error of the node: it is dropped and counted (dht_stats.dropped).
 *
 * The wire format is specified normatively in docs/PROTOCOL.md.
 */
#ifndef NOINTRUDE_DHT_H
#define NOINTRUDE_DHT_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/crypto.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t dht_time; /* ns since the Unix epoch */
#define DHT_TIME_NONE UINT64_MAX
#define DHT_MS ((dht_time)1000000)
#define DHT_SEC ((dht_time)1000000000)

#define DHT_ID_LEN NC_ID_LEN   /* node IDs and record keys share one space */
#define DHT_KEY_LEN NC_ID_LEN
#define DHT_MAX_DATAGRAM 1200  /* largest datagram we send or accept */
#define DHT_MAX_RECORD 1000    /* largest encoded record, any type */
#define DHT_K_MAX 16           /* largest k: a NODES reply must fit */
#define DHT_PATHS_MAX 8        /* largest number of disjoint lookup paths */
#define DHT_NOTE_NAME_MAX 64   /* bytes of a note's name */
#define DHT_NOTE_VALUE_MAX 700 /* bytes of a note's value */

/* ---- Errors ---------------------------------------------------------- */

#define DHT_ERRORS(X)                                                     \
  X(DHT_ERR_INVALID_ARGUMENT, -101, "invalid argument")                   \
  X(DHT_ERR_NOMEM, -102, "out of memory")                                 \
  X(DHT_ERR_MALFORMED, -103, "malformed encoding")                        \
  X(DHT_ERR_TOO_LARGE, -104, "exceeds a size limit")                      \
  X(DHT_ERR_BAD_SIGNATURE, -105, "signature does not verify")             \
  X(DHT_ERR_KEY_RULE, -106, "record key does not follow its type's rule") \
  X(DHT_ERR_EXPIRED, -107, "record has expired")                          \
  X(DHT_ERR_LIFETIME, -108, "record lifetime exceeds its type's maximum") \
  X(DHT_ERR_FUTURE, -109, "record created in the future")                 \
  X(DHT_ERR_STALE, -110, "record sequence number is not newer")           \
  X(DHT_ERR_QUOTA, -111, "storage quota exceeded")                        \
  X(DHT_ERR_PUZZLE, -112, "author identity fails the ID puzzle")          \
  X(DHT_ERR_UNKNOWN_TYPE, -113, "unknown record type")                    \
  X(DHT_ERR_BUSY, -114, "too many operations in progress")                \
  X(DHT_ERR_STORE, -115, "persistence hook failed")                       \
  X(DHT_ERR_NOT_FOUND, -116, "not found")                                 \
  X(DHT_ERR_TIMEOUT, -117, "no node answered in time")                    \
  X(DHT_ERR_VERSION, -118, "unsupported version")

enum dht_error {
#define DHT_ERR_ENUM(name, value, text) name = value,
  DHT_ERRORS(DHT_ERR_ENUM)
#undef DHT_ERR_ENUM
};

/* dht_strerror returns a static description of |err| (never NULL). */
const char *dht_strerror(int err);

/* Why a datagram was dropped; each has a counter in dht_stats. */
#define DHT_DROP_REASONS(X)                                          \
  X(DHT_DROP_SHORT, "short")             /* shorter than a header */  \
  X(DHT_DROP_OVERSIZE, "oversize")       /* > DHT_MAX_DATAGRAM */     \
  X(DHT_DROP_BAD_MAGIC, "bad_magic")                                  \
  X(DHT_DROP_BAD_VERSION, "bad_version")                              \
  X(DHT_DROP_BAD_KIND, "bad_kind")       /* unknown datagram kind */  \
  X(DHT_DROP_PUZZLE, "puzzle")           /* sender ID fails puzzle */ \
  X(DHT_DROP_BAD_KEY, "bad_key")         /* no shared key possible */ \
  X(DHT_DROP_DECRYPT, "decrypt")         /* AEAD tag mismatch */      \
  X(DHT_DROP_MALFORMED, "malformed")     /* body does not parse */    \
  X(DHT_DROP_REPLAY, "replay")           /* nonce seen before */      \
  X(DHT_DROP_STALE_TIME, "stale_time")   /* timestamp out of window */ \
  X(DHT_DROP_RATE_LIMIT, "rate_limit")   /* per-IP bucket empty */    \
  X(DHT_DROP_UNSOLICITED, "unsolicited") /* reply to no request */    \
  X(DHT_DROP_BAD_TOKEN, "bad_token")     /* STORE token invalid */    \
  X(DHT_DROP_MARTIAN, "martian")         /* impossible source addr */ \
  X(DHT_DROP_SELF, "self")               /* our own ID or key */      \
  X(DHT_DROP_BAD_RECORD, "bad_record")   /* record refused */         \
  X(DHT_DROP_QUEUE_FULL, "queue_full")   /* no room to answer */

enum dht_drop_reason {
#define DHT_DROP_ENUM(name, text) name,
  DHT_DROP_REASONS(DHT_DROP_ENUM)
#undef DHT_DROP_ENUM
  DHT_DROP_COUNT
};

/* dht_drop_reason_name returns the short name of |reason| ("replay"...). */
const char *dht_drop_reason_name(int reason);

/* ---- Addresses ------------------------------------------------------- */

typedef struct dht_addr {
  uint8_t family; /* 4 or 6 */
  uint8_t ip[16]; /* network order; IPv4 uses the first 4 bytes */
  uint16_t port;  /* host order */
} dht_addr;

/* dht_addr_equal returns 1 if |a| and |b| are the same family, IP and port. */
int dht_addr_equal(const dht_addr *a, const dht_addr *b);

/* dht_addr_format writes "1.2.3.4:5" or "[::1]:5" into |out| (>= 64
 * bytes). Returns |out|. */
char *dht_addr_format(char *out, size_t cap, const dht_addr *addr);

/* dht_addr_parse parses "HOST:PORT" where HOST is a numeric IPv4 address or
 * a bracketed numeric IPv6 address. Returns 0 or DHT_ERR_INVALID_ARGUMENT. */
int dht_addr_parse(dht_addr *out, const char *text);

/* ---- Records --------------------------------------------------------- */

/* Record types. The generic "note" is built in; other layers register
 * their types through dht_config.types. */
enum dht_record_type_id {
  DHT_RECORD_NOTE = 1,
};

#define DHT_RECORD_VERSION 1

/* A decoded record. |payload| points into the buffer it was decoded from
 * (or the caller's buffer when building one). */
typedef struct dht_record {
  uint8_t version;
  uint8_t type;
  uint8_t key[DHT_KEY_LEN];
  uint8_t author_pk[NC_PK_LEN];
  uint64_t author_nonce; /* ID puzzle nonce of the author */
  uint64_t created;      /* Unix seconds */
  uint64_t expires;      /* Unix seconds */
  uint64_t seq;          /* only increases for one (key, author) */
  const uint8_t *payload;
  size_t payload_len;
  uint8_t sig[NC_SIG_LEN];
} dht_record;

/* Per-type rules. The storer checks every rule on arrival. */
typedef struct dht_record_type {
  uint8_t type;
  const char *name;
  size_t max_payload;    /* bytes */
  uint64_t max_lifetime; /* seconds, expires - created */
  /* key_check returns 0 if |rec|'s key follows the type's rule, else a
   * negative DHT_ERR_* code (usually DHT_ERR_KEY_RULE). It is passed
   * |ctx| (the type's parameters, e.g. a network's proof-of-work bits),
   * which must outlive every node and store the type is given to. */
  int (*key_check)(const dht_record *rec, const void *ctx);
  const void *ctx;
  /* multi = 0: one record per (key, author), replaced only by a higher
   * seq. multi = 1: many records per (key, author), told apart by their
   * payload (slot = BLAKE2b-256(author_pk || payload)); seq is unused:
   * the same bytes again are a refresh, and a record with the same slot
   * but other bytes replaces the held one only if it expires later.
   * Per-author quotas count every slot. Opt-out inboxes and evidence
   * lists need the latter. */
  int multi;
  /* Multi types: the most records one author may hold under one key at
   * a storer (more are refused with DHT_ERR_QUOTA); 0 = no limit beyond
   * the per-author quota. Keeps one author from filling a key that many
   * authors share (the registry's index). */
  unsigned key_author_max;
} dht_record_type;

/* dht_record_encode writes the msgpack encoding of |rec| to |buf|.
 * Returns 0, DHT_ERR_TOO_LARGE (> cap or > DHT_MAX_RECORD) or
 * DHT_ERR_INVALID_ARGUMENT (NULL pointers). */
int dht_record_encode(const dht_record *rec, uint8_t *buf, size_t cap,
                      size_t *len);

/* dht_record_decode parses |len| bytes (strict: canonical msgpack, exact
 * field count, every length bounded, no trailing bytes). The payload
 * pointer refers into |buf|. Does not verify the signature.
 * Returns 0, DHT_ERR_MALFORMED, DHT_ERR_TOO_LARGE or DHT_ERR_VERSION. */
int dht_record_decode(dht_record *rec, const uint8_t *buf, size_t len);

/* dht_record_sign fills rec->sig by signing the signing input defined in
 * docs/PROTOCOL.md with |ident|'s key; also sets author_pk/author_nonce.
 * A payload over DHT_MAX_RECORD bytes gets an all-zero (invalid) sig. */
void dht_record_sign(dht_record *rec, const nc_identity *ident);

/* dht_record_verify checks, in this order: version, known type, payload size,
 * author puzzle at |difficulty|, lifetime, creation not after
 * |now_s| + 300, not expired at |now_s|, key rule, signature.
 * |types|/|n_types| are the extra types (the built-in note is always
 * known). Returns 0 or the first failing DHT_ERR_* code. */
int dht_record_verify(const dht_record *rec, uint64_t now_s,
                      unsigned difficulty, const dht_record_type *types,
                      size_t n_types);

/* dht_record_slot writes the slot that tells |rec| apart from the other
 * records under its key on a storer: a copy of author_pk when |multi| is
 * 0, BLAKE2b-256(author_pk || payload) when |multi| is 1 (pass the
 * record type's multi flag). */
void dht_record_slot(uint8_t slot[DHT_KEY_LEN], const dht_record *rec,
                     int multi);

/* dht_note_key computes a note's key: BLAKE2b-256("nointrude-note" ||
 * author_pk || name). */
void dht_note_key(uint8_t key[DHT_KEY_LEN], const uint8_t author_pk[NC_PK_LEN],
                  const uint8_t *name, size_t name_len);

/* dht_note_build builds and signs a note record. |payload_buf| (at least
 * DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8 bytes) receives the payload
 * the record points to. Returns 0, DHT_ERR_INVALID_ARGUMENT or
 * DHT_ERR_TOO_LARGE. */
int dht_note_build(dht_record *rec, uint8_t *payload_buf, size_t payload_cap,
                   const nc_identity *ident, const uint8_t *name,
                   size_t name_len, const uint8_t *value, size_t value_len,
                   uint64_t now_s, uint64_t ttl_s, uint64_t seq);

/* dht_note_parse splits a note payload into name and value (pointers into
 * the payload). Returns 0 or DHT_ERR_MALFORMED (also if |rec| is not a
 * note). */
int dht_note_parse(const dht_record *rec, const uint8_t **name,
                   size_t *name_len, const uint8_t **value, size_t *value_len);

/* ---- Contacts -------------------------------------------------------- */

typedef struct dht_contact {
  uint8_t id[DHT_ID_LEN];
  uint8_t pk[NC_PK_LEN];
  uint64_t nonce;
  dht_addr addr;
  dht_time first_seen; /* first authenticated reply */
  dht_time last_seen;  /* latest authenticated message */
  uint32_t rtt_ms;     /* smoothed round-trip time, 0 = unknown */
} dht_contact;

/* ---- Configuration and environment ------------------------------------ */

typedef struct dht_config {
  unsigned k;               /* bucket size and replication factor (16) */
  unsigned alpha;           /* parallel requests per lookup path (3) */
  unsigned disjoint_paths;  /* d, paths per lookup, 1..DHT_PATHS_MAX (1) */
  unsigned difficulty;      /* ID puzzle bits demanded of peers (16) */
  unsigned bucket_prefix_max; /* contacts per /24 (v4) or /48 (v6) in a
                                 bucket (2) */
  unsigned table_prefix_max;  /* contacts per /16 (v4) or /32 (v6) in the
                                 table (10) */
  dht_time request_timeout;   /* an unanswered request fails after (1 s) */
  dht_time refresh_interval;  /* idle bucket refresh (1 h) */
  dht_time replicate_interval; /* storer pushes records to the k closest
                                  (1 h) */
  dht_time republish_interval; /* author re-puts its own records (30 min) */
  dht_time clock_skew;        /* accepted |message time - now| (60 s) */
  uint32_t rate_per_ip;       /* requests per second per source prefix (50) */
  uint32_t burst_per_ip;      /* token bucket depth (100) */
  uint32_t author_max_records; /* per author on one storer (256) */
  uint32_t author_max_bytes;  /* per author on one storer (256 KiB) */
  uint64_t store_max_bytes;   /* all records on one storer (64 MiB) */
  uint32_t max_operations;    /* concurrent puts/gets/lookups (64) */
  const dht_record_type *types; /* extra record types, may be NULL */
  size_t n_types;
} dht_config;

/* dht_config_default fills |cfg| with the defaults shown above. */
void dht_config_default(dht_config *cfg);

/* Adversarial behaviour, for simulations only: a node given one runs the
 * same code with a twist in how it answers requests. NULL in dht_env =
 * honest (the daemon never sets it). Every member is optional. */
typedef struct dht_behaviour {
  void *user; /* passed to the hooks */
  /* nodes_reply chooses the contacts of a NODES reply (and of a VALUES
   * reply without records) for |target|: writes up to |cap| contacts to
   * |out| and returns how many (a routing adversary returns colluders
   * only), or returns a negative value to answer honestly. */
  int (*nodes_reply)(void *user, const uint8_t target[DHT_ID_LEN],
                     dht_contact *out, size_t cap);
  /* value_reply may replace the records of a VALUES reply for |key|:
   * writes one encoded record (<= DHT_MAX_RECORD bytes) to |buf| and
   * returns 1 (a stale or forged record), or returns 0 to answer as
   * configured below. */
  int (*value_reply)(void *user, const uint8_t key[DHT_KEY_LEN],
                     uint8_t buf[DHT_MAX_RECORD], size_t *len);
  int drop_stores;     /* acknowledge STOREs but keep nothing */
  int withhold_values; /* answer FIND_VALUE as if nothing were held */
} dht_behaviour;

enum dht_log_level { DHT_LOG_ERROR, DHT_LOG_WARN, DHT_LOG_INFO, DHT_LOG_DEBUG };

typedef struct dht_env {
  void *user; /* passed to every hook */
  /* random fills |len| bytes. Required. The daemon wires libsodium's
   * CSPRNG, the simulator a seeded generator. */
  void (*random)(void *user, uint8_t *buf, size_t len);
  /* log receives one line without a newline. NULL = silent. */
  void (*log)(void *user, int level, const char *line);
  /* Persistence hooks, NULL = memory only. A stored record is named by
   * (key, slot): |slot| (32 bytes) is dht_record_slot of the record, i.e.
   * the author's pk for ordinary types (one record per author under a
   * key, so nothing changed for notes) and BLAKE2b-256(author_pk ||
   * payload) for multi types. store_put is called when a record is
   * accepted (and before a put is acknowledged); a newer version of a
   * (key, slot) is handed to store_put and replaces the older one under
   * that pair (no store_del first). store_del is called when the record
   * of a (key, slot) expires. Return 0 or a negative value; a failing
   * store_put refuses the record. */
  int (*store_put)(void *user, const uint8_t key[DHT_KEY_LEN],
                   const uint8_t slot[DHT_KEY_LEN], const uint8_t *rec,
                   size_t len);
  int (*store_del)(void *user, const uint8_t key[DHT_KEY_LEN],
                   const uint8_t slot[DHT_KEY_LEN]);
  /* app_message receives the payload of an authenticated RELAY request
   * from |from| (its key proven by the datagram). Return 0 to acknowledge,
   * or a negative DHT_ERR_* code sent back to the peer. NULL = every
   * RELAY is refused with DHT_ERR_UNKNOWN_TYPE. The payload is valid only
   * during the call. The hook may call dht_node_send_app, dht_node_put and
   * the other operations on the node (never dht_node_free). The
   * registry's opt-out relaying rides on this. */
  int (*app_message)(void *user, dht_time now, const dht_contact *from,
                     const uint8_t *msg, size_t len);
  /* peer_key, NULL = derive (the daemon's choice): memoisation of pair
   * keys for a driver hosting many nodes. Called only after the peer's
   * (pk, nonce) passed the ID puzzle; must write exactly the key
   * nc_peer_key(our sk, our pk, |their_pk|) gives (the simulator computes
   * each pair once and hands the same 32 bytes to both ends) and return
   * 0, or return a negative value when no key exists (bad point). */
  int (*peer_key)(void *user, const uint8_t their_pk[NC_PK_LEN],
                  uint8_t key[NC_SHARED_LEN]);
  /* behaviour, NULL = honest; see dht_behaviour. Copied by pointer: it
   * must outlive the node. */
  const dht_behaviour *behaviour;
} dht_env;

/* ---- The node --------------------------------------------------------- */

typedef struct dht_node dht_node;

/* dht_node_new creates a node for |ident| (copied; its ID must meet
 * cfg->difficulty). |env| is copied. Returns 0, DHT_ERR_INVALID_ARGUMENT,
 * DHT_ERR_PUZZLE or DHT_ERR_NOMEM. */
int dht_node_new(dht_node **out, const dht_config *cfg, const dht_env *env,
                 const nc_identity *ident, dht_time now);

/* dht_node_free releases |node| and wipes its secret key. NULL is a no-op.
 * Pending operations are not completed. */
void dht_node_free(dht_node *node);

/* dht_node_id returns the node's 32-byte ID. */
const uint8_t *dht_node_id(const dht_node *node);

/* dht_node_handle_datagram processes one received datagram. Bad datagrams
 * are dropped and counted; nothing is returned because nothing about a
 * remote peer's input is the caller's business. Operation callbacks may
 * run from inside this call. */
void dht_node_handle_datagram(dht_node *node, dht_time now,
                              const dht_addr *from, const uint8_t *buf,
                              size_t len);

/* dht_node_next_datagram moves the oldest queued outgoing datagram into
 * |buf| (|cap| >= DHT_MAX_DATAGRAM) and its destination into |to|.
 * Returns 1 if one was written, 0 if the queue is empty. */
int dht_node_next_datagram(dht_node *node, dht_addr *to, uint8_t *buf,
                           size_t cap, size_t *len);

/* dht_node_next_deadline returns when dht_node_handle_expiry must next be
 * called, or DHT_TIME_NONE. */
dht_time dht_node_next_deadline(const dht_node *node);

/* dht_node_handle_expiry runs every timer due at |now|: request timeouts,
 * lookup progress, bucket refresh, replication, republishing, expiry of
 * records, token secret rotation. Operation callbacks may run from here. */
void dht_node_handle_expiry(dht_node *node, dht_time now);

/* dht_node_bootstrap asks the node at |addr| (whose key we do not know)
 * for its identity and joins through it: once it answers, the node looks
 * up its own ID. Returns 0, DHT_ERR_INVALID_ARGUMENT or DHT_ERR_BUSY. */
int dht_node_bootstrap(dht_node *node, dht_time now, const dht_addr *addr);

/* dht_node_add_hint proposes a contact whose key we believe (a routing
 * table snapshot). It is pinged and admitted only if it answers with that
 * key. Returns 0, DHT_ERR_PUZZLE, DHT_ERR_INVALID_ARGUMENT,
 * DHT_ERR_BUSY (too many requests outstanding, or the outgoing queue is
 * full) or DHT_ERR_NOMEM. */
int dht_node_add_hint(dht_node *node, dht_time now, const uint8_t pk[NC_PK_LEN],
                      uint64_t nonce, const dht_addr *addr);

/* Lookup statistics handed to completion callbacks. */
typedef struct dht_lookup_stats {
  unsigned hops;       /* longest chain of replies that led to the result */
  unsigned queried;    /* requests sent */
  unsigned responded;  /* authenticated replies received */
  unsigned timeouts;   /* requests that timed out */
  dht_time duration;   /* ns from start to completion */
  /* get_all: the offset to continue from with dht_node_get_all_from so
   * that no node's records are skipped: the least position reached at a
   * node that reported more than it sent (ahead of the start); start +
   * max_records when none did. 0 for other operations. */
  uint32_t resume_offset;
} dht_lookup_stats;

/* Completion callbacks; |status| is 0 or a negative DHT_ERR_* code. Each
 * runs exactly once per accepted operation, unless the node is freed. */
typedef void (*dht_lookup_cb)(void *arg, int status,
                              const dht_contact *closest, size_t n,
                              const dht_lookup_stats *stats);
typedef void (*dht_put_cb)(void *arg, int status, unsigned stored,
                           const dht_lookup_stats *stats);
/* |rec| and |bytes| are valid only during the call; NULL with status
 * DHT_ERR_NOT_FOUND when no valid record exists. For several authors
 * under one key the highest-seq record of the first author found is
 * given; use dht_node_local_* to see all. */
typedef void (*dht_get_cb)(void *arg, int status, const dht_record *rec,
                           const uint8_t *bytes, size_t len,
                           const dht_lookup_stats *stats);

/* dht_node_lookup finds the k closest live nodes to |target| over
 * cfg->disjoint_paths paths. Returns 0, DHT_ERR_BUSY or DHT_ERR_NOMEM. */
int dht_node_lookup(dht_node *node, dht_time now,
                    const uint8_t target[DHT_ID_LEN], dht_lookup_cb cb,
                    void *arg);

/* dht_node_lookup_paths is dht_node_lookup over |paths| disjoint paths
 * (1..DHT_PATHS_MAX) instead of cfg->disjoint_paths, for experiments that
 * compare path counts on one network. Returns 0,
 * DHT_ERR_INVALID_ARGUMENT, DHT_ERR_BUSY or DHT_ERR_NOMEM. */
int dht_node_lookup_paths(dht_node *node, dht_time now,
                          const uint8_t target[DHT_ID_LEN], unsigned paths,
                          dht_lookup_cb cb, void *arg);

/* dht_node_put verifies the encoded, signed record |rec|, stores it
 * locally, keeps it as one of our own (republished until it expires) and
 * sends STORE to the k closest nodes to its key. |cb| gets the number of
 * storers that acknowledged, and status 0 if at least one did, else
 * DHT_ERR_TIMEOUT if a storer did not answer, else the first refusal a
 * storer answered (e.g. DHT_ERR_QUOTA). Returns 0 or a DHT_ERR_* code from
 * verification, DHT_ERR_BUSY, DHT_ERR_NOMEM. */
int dht_node_put(dht_node *node, dht_time now, const uint8_t *rec, size_t len,
                 dht_put_cb cb, void *arg);

/* dht_node_get finds the newest valid record under |key| (FIND_VALUE over
 * the disjoint paths, each asking on until 3 storers answered with a valid
 * record; the local store answers first if it holds one).
 * Returns 0, DHT_ERR_BUSY or DHT_ERR_NOMEM. */
int dht_node_get(dht_node *node, dht_time now, const uint8_t key[DHT_KEY_LEN],
                 dht_get_cb cb, void *arg);

/* Largest application payload in one RELAY request. */
#define DHT_APP_MAX 1000

/* Completion of dht_node_send_app: 0 when the peer acknowledged, the
 * peer's negative DHT_ERR_* answer, or DHT_ERR_TIMEOUT. */
typedef void (*dht_send_cb)(void *arg, int status);

/* dht_node_send_app sends |msg| (1..DHT_APP_MAX bytes) to |to| in a sealed
 * RELAY request (rate-limited at the receiver like any request). |to|
 * needs pk, nonce and addr (id is ignored: it is derived from pk and
 * nonce, whose puzzle is checked before any key is derived). No PROBE,
 * no retry. |cb| (may be NULL) runs once, from handle_datagram or
 * handle_expiry; until then the message counts as one operation against
 * max_operations. May be called from inside env.app_message (to forward
 * a message). Returns 0, DHT_ERR_INVALID_ARGUMENT (NULL, empty, |to| is
 * this node or has no usable address), DHT_ERR_TOO_LARGE, DHT_ERR_PUZZLE,
 * DHT_ERR_BUSY or DHT_ERR_NOMEM. */
int dht_node_send_app(dht_node *node, dht_time now, const dht_contact *to,
                      const uint8_t *msg, size_t len, dht_send_cb cb,
                      void *arg);

/* dht_node_random_contacts copies up to |n| distinct routing-table
 * contacts chosen uniformly with env->random (the same generator state
 * gives the same choice). Returns the number copied: min(n, contacts),
 * 0 for a NULL argument or when out of memory. */
size_t dht_node_random_contacts(dht_node *node, dht_contact *out, size_t n);

/* Visitor for dht_node_get_all: one call per distinct valid record (per
 * slot, the newest version seen: highest seq, for multi types the latest
 * expiry), in ascending order of slot. |rec| and |bytes| are valid only
 * during the call. */
typedef void (*dht_get_all_visit_cb)(void *arg, const dht_record *rec,
                                     const uint8_t *bytes, size_t len);
/* Completion of dht_node_get_all, after the last visit: status 0 (even
 * when nothing was found), or DHT_ERR_TIMEOUT when nodes were asked, none
 * answered and nothing was found; |found| records were visited. */
typedef void (*dht_get_all_done_cb)(void *arg, int status, unsigned found,
                                    const dht_lookup_stats *stats);

/* dht_node_get_all collects every record under |key| (many authors, or
 * many slots of a multi type): a node lookup of the key, then FIND_VALUE
 * to each of the k closest nodes, paging with offsets through what each
 * holds; local records are merged too. Every record is verified (refused
 * ones count in dht_stats.records_refused and are never visited). Stops
 * after |max_records| distinct records. The records are kept until the
 * end (at most |max_records| x DHT_MAX_RECORD bytes), then |visit| runs
 * once per record and |done| (may be NULL) once. Returns 0,
 * DHT_ERR_INVALID_ARGUMENT (NULL node, key or visit, max_records 0),
 * DHT_ERR_BUSY or DHT_ERR_NOMEM. */
int dht_node_get_all(dht_node *node, dht_time now,
                     const uint8_t key[DHT_KEY_LEN], unsigned max_records,
                     dht_get_all_visit_cb visit, dht_get_all_done_cb done,
                     void *arg);

/* dht_node_get_all_from is dht_node_get_all reading every node's records
 * (and our own) from the |offset|-th on, in the order nodes serve them
 * (by slot, the same at every honest node): collections from offsets 0,
 * max_records, 2 max_records, ... page through a key that holds more
 * records than one collection keeps; continuing from the stats'
 * resume_offset instead skips nothing even where nodes hold different
 * records. Same returns, and DHT_ERR_INVALID_ARGUMENT when offset +
 * max_records would pass 2^32 - 1. */
int dht_node_get_all_from(dht_node *node, dht_time now,
                          const uint8_t key[DHT_KEY_LEN], uint32_t offset,
                          unsigned max_records, dht_get_all_visit_cb visit,
                          dht_get_all_done_cb done, void *arg);

/* dht_node_restore_record re-admits a record read back from persistent
 * storage (hostile: fully verified again; expired ones are refused).
 * Does not call store_put. Returns 0 or a DHT_ERR_* code. */
int dht_node_restore_record(dht_node *node, dht_time now, const uint8_t *rec,
                            size_t len, int own);

/* Visitor over locally stored records; return nonzero to stop. */
typedef int (*dht_record_visit_cb)(void *arg, const dht_record *rec,
                                   const uint8_t *bytes, size_t len);

/* dht_node_local_get visits the records stored locally under |key|.
 * Returns the number visited. */
size_t dht_node_local_get(const dht_node *node, const uint8_t key[DHT_KEY_LEN],
                          dht_record_visit_cb cb, void *arg);

/* dht_node_contacts copies up to |max| routing-table contacts, closest
 * buckets last. Returns the number copied. */
size_t dht_node_contacts(const dht_node *node, dht_contact *out, size_t max);

typedef struct dht_stats {
  uint64_t rx_datagrams, rx_bytes;
  uint64_t tx_datagrams, tx_bytes;
  uint64_t dropped[DHT_DROP_COUNT];
  uint64_t requests_in;        /* requests answered */
  uint64_t records_accepted;   /* STOREs and restores accepted */
  uint64_t records_refused;    /* records failing verification or quota */
  uint64_t records_expired;
  uint64_t lookups_ok, lookups_failed; /* operations ended with status 0 /
                                          an error, internal ones
                                          (joins, refreshes, republishes)
                                          included */
  size_t contacts;             /* in the routing table */
  size_t records;              /* stored locally */
  size_t record_bytes;
  size_t own_records;          /* republished by us */
  size_t operations;           /* in progress */
} dht_stats;

void dht_node_stats(const dht_node *node, dht_stats *out);

/* dht_node_mem returns the bytes |node| holds on the heap (its object and
 * every table, record, queued datagram and operation, by their sizes and
 * capacities, without the allocator's overhead): a deterministic figure
 * for tests and simulations (0 for NULL). */
size_t dht_node_mem(const dht_node *node);

#ifdef __cplusplus
}
#endif

#endif /* NOINTRUDE_DHT_H */

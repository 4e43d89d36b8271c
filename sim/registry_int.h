/*
 * Internal to the simulator's registry hosting (registry.c) and its
 * experiments (reg_observe.c, reg_flood.c, reg_planted.c): the parsed
 * [registry] section, the world-level registry state, and the functions
 * those files share. Only sim/registry*.c and sim/reg_*.c include it.
 *
 * The registry is driven only through nointrude/registry.h and dht.h, as
 * the daemon drives it; the observers read what a node's hooks see (app
 * messages and accepted records), which is what a colluding or curious
 * node could log too.
 */
#ifndef NOINTRUDE_SIM_REGISTRY_INT_H
#define NOINTRUDE_SIM_REGISTRY_INT_H

#include <stdint.h>

#include <nointrude/registry.h>

#include "registry.h"
#include "world_int.h"

#define SREG_NO_HOST UINT32_MAX
#define SREG_COLLUDE_MAX 16   /* colluder fractions in one sweep */
#define SREG_MODES_MAX 8      /* flood modes in one run */
/* Sender keys (genuine, flooder, ...): the genuine one and up to 512
 * flooder keys, as many as it takes to fill a reader's 4096 index records
 * per window at 8 per author (REG_INDEX_READ_MAX / REG_INDEX_PER_AUTHOR).
 * Each key is mined at the DHT difficulty when the world is built; sender
 * look-ups by key (sreg_sender_of) scan them. */
#define SREG_SENDERS_MAX 513
#define SREG_TYPES_MAX 8      /* record types the DHT is given */
#define SREG_DIGEST_LEN 16    /* digests that follow sealed opt-outs */
#define SREG_SIGHTINGS_MAX (1u << 24) /* app-message sightings logged */
#define SREG_MSGS_MAX (1u << 22)      /* distinct sealed opt-outs followed */
#define SREG_RECORDS_MAX (1u << 23)   /* distinct records remembered */

enum sreg_experiment { SREG_ANONYMITY, SREG_FLOOD, SREG_PLANTED };

/* What a host does in an experiment besides running the registry. */
enum sreg_role {
  SREG_ROLE_NONE = 0,
  SREG_ROLE_PROTECTOR, /* protects `addresses` addresses */
  SREG_ROLE_PUBLISHER, /* the genuine sender's node */
  SREG_ROLE_FLOODER,   /* publishes fake batches (flood) */
  SREG_ROLE_ATTACKER,  /* the planted-target attacker's node */
  SREG_ROLE_FORGER,    /* its second node, serving forged records */
  SREG_ROLE_BYSTANDER, /* the innocent bystander's node */
};

/* Flood modes (reg_flood.c). */
enum sreg_flood_mode {
  SREG_FLOOD_JUNK,    /* valid batches of random entries, minimum PoW */
  SREG_FLOOD_LOWPOW,  /* valid form, proof of work below the minimum */
  SREG_FLOOD_MISSING, /* manifest and index only, no chunk published */
  SREG_FLOOD_GARBLED, /* data chunks whose content is not what the key
                         names (the key rule refuses them) */
  SREG_FLOOD_INDEX,   /* bare index records naming batches that do not
                         exist */
  SREG_FLOOD_NMODES
};

/* Planted-target vectors (reg_planted.c), a bit each. */
enum sreg_vector {
  SREG_V_CLAIM = 1 << 0,    /* forged manifest "by" the bystander key */
  SREG_V_WRONGKEY = 1 << 1, /* own manifest filed under the bystander's
                               namespace */
  SREG_V_REPLAY = 1 << 2,   /* bystander's genuine records replayed, its
                               manifest re-signed by the attacker */
  SREG_V_LISTS = 1 << 3,    /* attacker's batch lists protected addresses,
                               the bystander's own among them */
  SREG_V_ESCALATE = 1 << 4, /* a second batch after the grace period */
  SREG_V_JUNK = 1 << 5,     /* junk opt-outs and evidence put straight
                               under the bystander's keys */
};

/* The [registry] section. */
typedef struct sreg_cfg {
  int experiment;
  reg_config rc;            /* every reg_node's configuration */
  uint32_t protectors;      /* honest hosts protecting addresses */
  uint32_t addresses;       /* addresses each of them protects */
  uint32_t batch_size;      /* entries of a genuine batch (>= protected) */
  uint32_t batches;         /* genuine batches (anonymity) */
  uint32_t publisher;       /* host of the genuine sender */
  dht_time publish_at;      /* first genuine batch, ns after t0 */
  dht_time batch_gap;       /* between genuine batches */
  uint64_t batch_ttl_s;     /* lifetime of every batch */
  dht_time read_at;         /* the senders read their inboxes */
  uint32_t read_max;        /* records read per inbox */
  double collude[SREG_COLLUDE_MAX];
  unsigned n_collude;
  /* flood */
  uint32_t flooder;
  int modes[SREG_MODES_MAX];
  unsigned n_modes;
  uint32_t flood_batches;   /* fake batches per batch mode */
  uint32_t flood_entries;   /* entries per fake batch */
  uint32_t flood_index;     /* bare index records (index mode) */
  uint32_t final_index;     /* bare index records in the final burst */
  uint32_t flood_keys;      /* flooder sender keys (index records rotate) */
  uint32_t index_grind;     /* leading zero bits ground into the storage
                               slot of each bare index record */
  unsigned flood_pow_deficit; /* bits below the minimum (lowpow mode) */
  uint32_t flood_inflight;  /* flooder's puts in flight */
  dht_time flood_start;     /* first mode slot begins (after baseline and
                               genuine slots) */
  dht_time flood_slot;      /* length of every slot */
  /* planted */
  uint32_t attacker, forger, bystander;
  uint32_t bystander_addresses;
  unsigned vectors;         /* enum sreg_vector bits */
  dht_time attack_at, second_at;
  uint32_t junk_records;    /* junk opt-outs and evidence (each) */
} sreg_cfg;

/* A sender key the simulation holds (it can open its inbox). */
typedef struct sreg_sender {
  nc_identity id;
  uint32_t host;  /* node that publishes its batches */
  uint8_t role;   /* enum sreg_role of that node's owner */
} sreg_sender;

/* An opt-out a batch should receive: a protected address it lists. */
typedef struct sreg_expect {
  uint8_t full[REG_FULL_HASH_LEN];
  uint32_t owner;   /* protecting host */
  uint32_t copies;  /* opened opt-out records carrying it */
  dht_time first_at; /* when the first of them was stored */
  uint8_t read;     /* found by the sender's inbox read */
} sreg_expect;

/* SREG_B_OTHER: built but not published as such (no inbox read). */
enum sreg_batch_kind { SREG_B_GENUINE, SREG_B_ATTACKER, SREG_B_BYSTANDER,
                       SREG_B_OTHER };

/* A batch the simulation built (genuine, attacker's, bystander's). */
typedef struct sreg_batch {
  uint8_t sender_pk[NC_PK_LEN];
  uint8_t id[REG_BATCH_ID_LEN];
  uint8_t inbox[DHT_KEY_LEN];
  int sender;           /* index in senders */
  uint8_t kind;         /* enum sreg_batch_kind */
  char label[32];
  uint64_t count;       /* entries */
  size_t records;       /* signed records */
  uint64_t pow_hashes;  /* nonce + 1 */
  dht_time published_at;
  int pub_done, pub_status;
  size_t published, failed;
  sreg_expect *exp;     /* sorted by full hash */
  size_t n_exp;
  uint64_t optout_records, opened, unopened, misfiled;
  uint64_t by_honest, by_attacker; /* OPTOUT records by author */
  int read_done, read_status;
  unsigned read_records, read_opened, read_unopened;
} sreg_batch;

/* One sealed opt-out followed along its path by its digest. */
typedef struct sreg_msg {
  uint8_t digest[SREG_DIGEST_LEN];
  uint32_t first_pred; /* predecessor at its first sighting */
  uint32_t origin;     /* protector of the opened address, or NO_HOST */
  uint32_t sightings;
  uint32_t stored;     /* distinct OPTOUT records holding it */
  int32_t batch;       /* index in batches, -1 unknown */
} sreg_msg;

/* A relay received a sealed opt-out from |pred|. */
typedef struct sreg_sight {
  uint32_t msg, receiver, pred;
} sreg_sight;

/* Record counters of the store hook, per record type (index = type). */
typedef struct sreg_recstats {
  uint64_t distinct[SREG_TYPES_MAX]; /* distinct records accepted */
  uint64_t copies[SREG_TYPES_MAX];   /* accepted at any storer */
} sreg_recstats;

/* Under a sender's own keys (inbox of any batch id, evidence key). */
typedef struct sreg_keystats {
  uint64_t optout_honest, optout_attacker, optout_opened;
  uint64_t evidence_honest, evidence_attacker;
} sreg_keystats;

/* The scripted put queue (registry.c): records the flooder and the
 * attacker put, in order, flood_inflight at a time; accounted per tag. */
#define SREG_TAGS_MAX 16
typedef struct sreg_qput {
  uint8_t *bytes;
  size_t len;
  uint32_t host;
  int tag;
} sreg_qput;

typedef struct sreg_putq {
  sreg_qput *items;
  size_t n, cap, next;
  unsigned inflight;
  int armed; /* a retry event is queued */
} sreg_putq;

typedef struct sreg_putstat {
  uint64_t puts;            /* handed to dht_node_put */
  uint64_t acked;           /* at least one storer acknowledged */
  uint64_t stored_sum;      /* storers that acknowledged, summed */
  uint64_t not_stored;      /* no storer acknowledged */
  uint64_t refused_locally; /* the putting node refused it itself */
} sreg_putstat;

struct sreg_flood;
struct sreg_planted;

/* A DHT or registry callback argument; all live until the world ends. */
typedef struct sreg_op {
  struct sreg_op *next;
  struct sim_world *w;
  uint32_t host;
  int kind;   /* what the callback does */
  int index;  /* batch, mode or record index */
} sreg_op;

typedef struct sim_reg {
  sreg_cfg cfg;
  reg_types types;                             /* as registered */
  dht_record_type lax_types[REG_RECORD_TYPES]; /* no key rule, no cap */
  dht_config lax_cfg; /* flooder and attacker: their own node files any
                         record they sign (a modified node) */
  sim_rng rng;        /* batch salts and ids, choices, junk */
  uint8_t *role;      /* per host, enum sreg_role */
  uint32_t n_roles;   /* hosts */
  uint32_t *protector_hosts;
  uint32_t n_protectors;
  dht_time *expired_at; /* per host: time of its last expiry call */
  uint32_t *app_rx;   /* per host: app messages received */
  uint32_t *pk_index; /* open addressing: host + 1 by node public key */
  size_t pk_mask;
  uint8_t (*host_pk)[NC_PK_LEN]; /* per host, once started */
  sreg_sender senders[SREG_SENDERS_MAX];
  size_t n_senders;
  sreg_batch *batches;
  size_t n_batches, cap_batches;
  sreg_msg *msgs;
  size_t n_msgs, cap_msgs;
  uint32_t *msg_index; /* open addressing: msg + 1 by digest */
  size_t msg_mask;
  sreg_sight *sights;
  size_t n_sights, cap_sights;
  uint64_t sights_dropped; /* beyond SREG_SIGHTINGS_MAX */
  uint8_t (*rec_set)[SREG_DIGEST_LEN]; /* distinct records seen */
  uint8_t *rec_used;
  size_t rec_mask, n_recs;
  sreg_recstats rec;
  sreg_keystats keys[SREG_SENDERS_MAX];
  uint64_t optouts_in_signer_inbox, optouts_elsewhere, optouts_unopened;
  uint64_t origin_mismatch;  /* opened origin != first predecessor */
  uint64_t optout_pow_hashes; /* not observable: origins' cost (model) */
  sreg_op *ops;
  sreg_putq putq;
  sreg_putstat putstat[SREG_TAGS_MAX];
  struct sreg_flood *flood;
  struct sreg_planted *planted;
  double cpu_s;       /* CPU seconds spent building batches (host) */
  int error;
} sim_reg;

/* ---- reg_config.c ---- */

/* sreg_cfg_parse reads the [registry] section of |sc| into |c| (defaults
 * first, then every key, then values that depend on the rest of the
 * scenario). Writes a message to |err| on failure. Returns 0 or
 * SIM_ERR_SCENARIO. */
int sreg_cfg_parse(const sim_scenario *sc, sreg_cfg *c, char *err,
                   size_t cap);
/* sreg_experiment_name / sreg_mode_name: the names used in scenarios. */
const char *sreg_experiment_name(int e);
const char *sreg_mode_name(int m);

/* ---- registry.c ---- */

/* sreg_op_new allocates a callback argument kept until the world ends.
 * Returns NULL when out of memory (w->error set). */
sreg_op *sreg_op_new(struct sim_world *w, uint32_t host, int kind, int index);
/* sreg_host_of returns the host whose node key is |pk|, or NO_HOST. */
uint32_t sreg_host_of(const sim_reg *r, const uint8_t pk[NC_PK_LEN]);
/* sreg_sender_of returns the index of the sender key |pk|, or -1. */
int sreg_sender_of(const sim_reg *r, const uint8_t pk[NC_PK_LEN]);
/* sreg_batch_find returns the index of batch (|pk|, |id|), or -1. */
int sreg_batch_find(const sim_reg *r, const uint8_t pk[NC_PK_LEN],
                    const uint8_t id[REG_BATCH_ID_LEN]);
/* sreg_address writes host |h|'s |j|-th protected address. */
void sreg_address(char *out, size_t cap, uint32_t h, uint32_t j);
/* sreg_protects returns how many addresses host |h| protects. */
uint32_t sreg_protects(const sim_reg *r, uint32_t h);
/* What sreg_build builds: a batch of |n| canonical addresses signed by
 * sender |sender|, recorded as |kind| called |label|, whose expected
 * opt-outs are the protected addresses of |hosts|. */
typedef struct sreg_build_args {
  int sender;
  uint8_t kind;
  const char *label;
  char **addrs;
  size_t n;
  unsigned pow_base;  /* batch proof-of-work base bits */
  const uint32_t *hosts;
  size_t n_hosts;
} sreg_build_args;
/* sreg_build builds the batch (now, for batch_ttl) and records it. Returns
 * the batch index (|*out| the built batch, the caller frees it) or a
 * negative SIM_ERR_* code. */
int sreg_build(struct sim_world *w, const sreg_build_args *a,
               reg_batch **out);
/* sreg_batch_unlisted marks batch |bi| as not published as such (its
 * inbox is not read, it expects no opt-out). */
void sreg_batch_unlisted(sim_reg *r, int bi);
/* sreg_publish_genuine builds and publishes a batch of the genuine sender
 * (sender 0) listing every protector's addresses plus filler up to
 * batch_size. Returns 0 or a negative code. */
int sreg_publish_genuine(struct sim_world *w, const char *label);
/* sreg_addrs returns |total| canonical addresses (malloc'ed, free with
 * sreg_free_addrs): the protected addresses of |hosts|, then filler
 * addresses "fN@|filler_domain|". */
char **sreg_addrs(const sim_reg *r, const uint32_t *hosts, size_t n_hosts,
                  const char *filler_domain, size_t total, size_t *n_out);
void sreg_free_addrs(char **a, size_t n);
/* sreg_publish hands batch |b| (index |bi|) to host |host|'s reg_node as
 * a batch file (reg_node_publish_batch). Returns 0 or a negative code. */
int sreg_publish(struct sim_world *w, uint32_t host, int bi,
                 const reg_batch *b);
/* sreg_read_inbox starts the sender's read of batch |bi|'s inbox from
 * |host| (dht_node_get_all, opened with the sender key). */
void sreg_read_inbox(struct sim_world *w, uint32_t host, int bi);
/* sreg_putq_add queues record |rec| to be put from |host|, accounted
 * under |tag| (< SREG_TAGS_MAX). Returns 0 or SIM_ERR_NOMEM. */
int sreg_putq_add(struct sim_world *w, uint32_t host, const uint8_t *rec,
                  size_t len, int tag);
/* sreg_putq_kick starts queued puts as far as the in-flight bound allows. */
void sreg_putq_kick(struct sim_world *w);
/* sreg_rng_fill is sim_rng_fill as a reg_batch_build random hook (|user|
 * is a sim_rng). */
void sreg_rng_fill(void *user, uint8_t *buf, size_t len);
/* sreg_push queues a registry action |act| with argument |arg| at |t|. */
void sreg_push(struct sim_world *w, dht_time t, uint32_t act, uint32_t arg);
/* sreg_cpu_now returns the process CPU time in seconds (host figure). */
double sreg_cpu_now(void);

/* Registry actions (SIM_EV_REGISTRY aux >> 32). */
enum sreg_action {
  SREG_ACT_PUBLISH,  /* genuine batch number arg */
  SREG_ACT_READ,     /* every sender reads its inboxes */
  SREG_ACT_FLOOD,    /* reg_flood.c: arg = step */
  SREG_ACT_PLANTED,  /* reg_planted.c: arg = step */
  SREG_ACT_PUMP,     /* the put queue's retry */
};

/* ---- reg_observe.c ---- */

/* Hooks set in every registry host's dht_env (user = the sim_host). */
int sreg_app_hook(void *user, dht_time now, const dht_contact *from,
                  const uint8_t *msg, size_t len);
int sreg_store_hook(void *user, const uint8_t key[DHT_KEY_LEN],
                    const uint8_t slot[DHT_KEY_LEN], const uint8_t *rec,
                    size_t len);
/* sreg_open_optout opens an OPTOUT record payload with the sender key it
 * names if the simulation holds it. Returns 1 and fills |o| if it opens,
 * 0 otherwise; *sender gets the sender index or -1. */
int sreg_open_optout(const sim_reg *r, const reg_optout_record *x,
                     reg_optout *o, int *sender);
/* sreg_expect_find returns the expected opt-out of batch |b| for |full|,
 * or NULL. */
sreg_expect *sreg_expect_find(sreg_batch *b,
                              const uint8_t full[REG_FULL_HASH_LEN]);
/* sreg_anonymity_json analyses the sightings (the predecessor attack for
 * every colluder fraction) into a JSON object. */
json_t *sreg_anonymity_json(struct sim_world *w);
/* sreg_anonymity_csv writes the same table as CSV. Returns 0 or -1. */
int sreg_anonymity_csv(struct sim_world *w, FILE *out);
/* sreg_observe_json returns the record and message counters. */
json_t *sreg_observe_json(struct sim_world *w);
void sreg_observe_free(sim_reg *r);

/* ---- reg_flood.c ---- */

int sreg_flood_assign(struct sim_world *w);
void sreg_flood_on_event(struct sim_world *w, uint32_t step);
json_t *sreg_flood_json(struct sim_world *w);
/* sreg_flood_cpu_json: CPU seconds per mode (a host figure). */
json_t *sreg_flood_cpu_json(struct sim_world *w);
void sreg_flood_free(sim_reg *r);

/* ---- reg_planted.c ---- */

int sreg_planted_assign(struct sim_world *w);
void sreg_planted_on_event(struct sim_world *w, uint32_t step);
json_t *sreg_planted_json(struct sim_world *w);
void sreg_planted_free(sim_reg *r);

#endif /* NOINTRUDE_SIM_REGISTRY_INT_H */

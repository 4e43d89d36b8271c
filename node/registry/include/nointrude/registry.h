/*
 * nointrude registry: the do-not-intrude list on top of the DHT.
 *
 * Two parts, both sans-IO (no sockets, clocks, files or threads; like
 * dht/, time and randomness come in as parameters):
 *
 *  - formats and algorithms (pure functions): canonical addresses, salted
 *    entry hashes, batches (manifest, content-addressed chunks, the chunk
 *    hash tree, proof of work), the batch file, matching (interpolation
 *    search and sort-merge), sealed opt-outs, evidence, and the record
 *    types the DHT must know (reg_types_init);
 *  - the registry node (reg_node): a state machine beside a dht_node that
 *    learns of new batches, fetches and verifies them, matches the node's
 *    protected addresses, relays opt-outs Crowds-style, stores them in
 *    the batch's inbox, and escalates against senders who ignore them.
 *
 * docs/PROTOCOL.md ("Registry") is the normative description.
 * Prefix reg_; errors are negative REG_ERR_* codes or DHT_ERR_* codes
 * passed through from the DHT.
 */
#ifndef NOINTRUDE_REGISTRY_H
#define NOINTRUDE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/crypto.h>
#include <nointrude/dht.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REG_ADDRESS_MAX 254     /* bytes of a canonical address */
#define REG_SALT_LEN 32         /* batch salt = BLAKE2b key */
#define REG_BATCH_ID_LEN 16     /* random per batch */
#define REG_FULL_HASH_LEN 32    /* BLAKE2b-256(key = salt, canonical addr) */
#define REG_ENTRY_LEN 8         /* entry = first 8 bytes of the full hash */
/* Chunk sizes: a chunk record (envelope <= 160 bytes + payload 5 + 832)
 * must fit DHT_MAX_RECORD (1000), so 104 entries / 26 keys, not 112 / 28
 * (896 + 165 > 1000). */
#define REG_CHUNK_ENTRIES 104   /* entries per data chunk (832 bytes) */
#define REG_TREE_FANOUT 26      /* chunk keys per hash-list chunk (832) */
#define REG_ROOTS_MAX 16        /* top-level chunk keys in a manifest */
#define REG_BATCH_MAX_ENTRIES 100000000ull /* hard cap, 800 MB */
#define REG_MAX_LIFETIME_S (30 * 86400ull) /* every registry record type */
#define REG_INDEX_WINDOW_S 3600ull  /* index window = floor(created / this) */
#define REG_CHUNK_PAYLOAD_MAX 837   /* [kind, bin 832] */
#define REG_MANIFEST_PAYLOAD_MAX 623 /* largest encoded manifest */
#define REG_OPTOUT_SEALED_MIN 104   /* smallest plaintext (56) + 48 */

/* Record types registered with the DHT (dht_record_type.type). */
enum reg_record_type_id {
  REG_RECORD_BATCH = 2,    /* manifest, key H(sender, batch id) */
  REG_RECORD_CHUNK = 3,    /* content-addressed data or hash-list chunk */
  REG_RECORD_INDEX = 4,    /* a sender's batch announced in a time window */
  REG_RECORD_OPTOUT = 5,   /* sealed opt-out in a batch's inbox (multi) */
  REG_RECORD_EVIDENCE = 6, /* signed non-compliance evidence (multi) */
};

#define REG_ERRORS(X)                                                      \
  X(REG_ERR_INVALID_ARGUMENT, -201, "invalid argument")                    \
  X(REG_ERR_NOMEM, -202, "out of memory")                                  \
  X(REG_ERR_ADDRESS, -203, "not a valid e-mail address")                   \
  X(REG_ERR_MALFORMED, -204, "malformed encoding")                         \
  X(REG_ERR_TRUNCATED, -205, "truncated input")                            \
  X(REG_ERR_CHUNK_HASH, -206, "chunk content does not match its hash")     \
  X(REG_ERR_MANIFEST, -207, "manifest signature or fields invalid")        \
  X(REG_ERR_POW, -208, "not enough proof of work")                         \
  X(REG_ERR_TOO_LARGE, -209, "exceeds a size limit")                       \
  X(REG_ERR_NOT_SORTED, -210, "entries not strictly increasing")           \
  X(REG_ERR_DECRYPT, -211, "sealed opt-out does not open with this key")   \
  X(REG_ERR_WRONG_BATCH, -212, "opt-out names another batch")              \
  X(REG_ERR_EXPIRED, -213, "batch has expired")                            \
  X(REG_ERR_DUPLICATE, -214, "already present")                            \
  X(REG_ERR_STALE, -215,                                                   \
    "announced in an index window that running nodes no longer read")

enum reg_error {
#define REG_ERR_ENUM(name, value, text) name = value,
  REG_ERRORS(REG_ERR_ENUM)
#undef REG_ERR_ENUM
};

/* reg_strerror describes a REG_ERR_* or DHT_ERR_* code (never NULL). */
const char *reg_strerror(int err);

/* ---- Addresses and entries ----------------------------------------- */

/* reg_address_canonical writes the canonical form of |in| (|len| bytes):
 * ASCII whitespace trimmed at both ends, ASCII letters lower-cased, must
 * hold exactly one '@' with a non-empty local part and domain, no
 * whitespace or control bytes inside, at most REG_ADDRESS_MAX bytes.
 * |out| gets a NUL-terminated string; *out_len its length.
 * Returns 0 or REG_ERR_ADDRESS. */
int reg_address_canonical(char out[REG_ADDRESS_MAX + 1], size_t *out_len,
                          const char *in, size_t len);

/* reg_address_hash computes the full keyed hash of a canonical address. */
void reg_address_hash(uint8_t full[REG_FULL_HASH_LEN],
                      const uint8_t salt[REG_SALT_LEN], const char *canon,
                      size_t len);

/* reg_entry_of returns the entry value of a full hash: its first 8 bytes
 * read big-endian (so byte order and numeric order agree). */
uint64_t reg_entry_of(const uint8_t full[REG_FULL_HASH_LEN]);

/* reg_entries_hash writes out[i] = reg_entry_of(reg_address_hash(salt,
 * canon[i], len[i])) for |n| canonical addresses (len NULL: strlen; a
 * length must be 1..REG_ADDRESS_MAX, 0 gives entry 0). Same results as
 * one reg_address_hash per address, several times faster: the salt's key
 * block is hashed once and four addresses share each compression. */
void reg_entries_hash(uint64_t *out, const uint8_t salt[REG_SALT_LEN],
                      const char *const *canon, const size_t *len, size_t n);

/* ---- Keys of the registry's records --------------------------------- */

void reg_manifest_key(uint8_t key[DHT_KEY_LEN],
                      const uint8_t sender_pk[NC_PK_LEN],
                      const uint8_t batch_id[REG_BATCH_ID_LEN]);
/* reg_chunk_key hashes a chunk record's whole |len|-byte payload (the
 * msgpack [kind, content], so the kind is bound too):
 * BLAKE2b-256("nointrude-chunk" || payload). */
void reg_chunk_key(uint8_t key[DHT_KEY_LEN], const uint8_t *content,
                   size_t len);
/* reg_chunk_keys computes keys[i] = reg_chunk_key(payload[i], len[i]) for
 * |n| payloads (any lengths), about 1.7x faster on AVX2 CPUs: four
 * payloads share each compression, in vector lanes. */
void reg_chunk_keys(uint8_t (*keys)[DHT_KEY_LEN], const uint8_t *const *payload,
                    const size_t *len, size_t n);
/* reg_index_window returns floor(|created_s| / REG_INDEX_WINDOW_S). */
uint64_t reg_index_window(uint64_t created_s);
void reg_index_key(uint8_t key[DHT_KEY_LEN], uint64_t window);
void reg_inbox_key(uint8_t key[DHT_KEY_LEN], const uint8_t sender_pk[NC_PK_LEN],
                   const uint8_t batch_id[REG_BATCH_ID_LEN]);
void reg_evidence_key(uint8_t key[DHT_KEY_LEN],
                      const uint8_t sender_pk[NC_PK_LEN]);

/* The DHT record types of the registry on one network (for
 * dht_config.types: rt.t and REG_RECORD_TYPES). The index type's key rule
 * checks the index proof of work at the network's batch_pow_base_bits and
 * at most REG_INDEX_PER_AUTHOR index records of one author are held per
 * window (PROTOCOL.md 11.3, 11.7). Each type's ctx points back into the
 * struct: it must not move after reg_types_init and must outlive the
 * nodes, stores and checks it is given to. */
#define REG_RECORD_TYPES 5
#define REG_INDEX_PER_AUTHOR 8
typedef struct reg_types {
  dht_record_type t[REG_RECORD_TYPES];
  unsigned pow_base_bits;
} reg_types;
void reg_types_init(reg_types *rt, unsigned pow_base_bits);

/* reg_record_make builds, signs with |author| and encodes a record of
 * |type| under |key| with |plen| bytes of |payload| into |out| (|cap|
 * bytes, DHT_MAX_RECORD is always enough); *len gets its length.
 * Returns 0, REG_ERR_INVALID_ARGUMENT or REG_ERR_TOO_LARGE. */
int reg_record_make(uint8_t *out, size_t cap, size_t *len, uint8_t type,
                    const uint8_t key[DHT_KEY_LEN], const uint8_t *payload,
                    size_t plen, const nc_identity *author, uint64_t created,
                    uint64_t expires, uint64_t seq);

/* Payload of an INDEX record: a sender's batch announced in a window,
 * with a proof of work of its own (reg_index_pow_mine). */
typedef struct reg_index {
  uint64_t window;                    /* reg_index_window(created) */
  uint8_t batch_id[REG_BATCH_ID_LEN];
  uint64_t count;                     /* entries, 1..REG_BATCH_MAX_ENTRIES */
  uint64_t pow_nonce;
} reg_index;

/* Payload of an OPTOUT record (and what a relay forwards): the inbox it
 * belongs in and the sealed opt-out. |sealed| points into the decoded
 * buffer. */
typedef struct reg_optout_record {
  uint8_t sender_pk[NC_PK_LEN];
  uint8_t batch_id[REG_BATCH_ID_LEN];
  const uint8_t *sealed;
  size_t sealed_len; /* REG_OPTOUT_SEALED_MIN..REG_OPTOUT_SEALED_MAX */
} reg_optout_record;

/* Payload of an EVIDENCE record: a later batch by |sender_pk| still held
 * an address that had opted out of an earlier one. */
typedef struct reg_evidence {
  uint8_t sender_pk[NC_PK_LEN];
  uint8_t optout_batch[REG_BATCH_ID_LEN]; /* batch the opt-out answered */
  uint8_t later_batch[REG_BATCH_ID_LEN];  /* batch that still held it */
  uint64_t optout_time;                   /* Unix s, in the opt-out */
  uint64_t entry;                         /* the entry in later_batch */
} reg_evidence;

#define REG_INDEX_PAYLOAD_MAX 42         /* largest encoded payloads */
#define REG_OPTOUT_RECORD_PAYLOAD_MAX 215
#define REG_EVIDENCE_PAYLOAD_MAX 89

/* Payload codecs (canonical msgpack, PROTOCOL.md "Registry formats").
 * Encoders write into |buf| (|cap| bytes) and return 0 or
 * REG_ERR_TOO_LARGE (or REG_ERR_INVALID_ARGUMENT for out-of-range
 * fields); decoders are strict and return 0 or REG_ERR_MALFORMED. */
int reg_index_encode(const reg_index *x, uint8_t *buf, size_t cap,
                     size_t *len);
int reg_index_decode(reg_index *x, const uint8_t *buf, size_t len);

/* The index proof of work (PROTOCOL.md 11.7): the first |bits| bits of
 * BLAKE2b-256("nointrude-index-pow" || author_pk || le64 window ||
 * batch_id || le64 count || le64 pow_nonce) are zero, |bits| being the
 * network's batch_pow_base_bits. reg_index_pow_mine sets x->pow_nonce to
 * the smallest nonce that holds (about 2^bits hashes; bits <= 64, else
 * REG_ERR_INVALID_ARGUMENT); reg_index_pow_ok returns 1 if it holds. */
int reg_index_pow_mine(reg_index *x, const uint8_t author_pk[NC_PK_LEN],
                       unsigned bits);
int reg_index_pow_ok(const reg_index *x, const uint8_t author_pk[NC_PK_LEN],
                     unsigned bits);
int reg_optout_record_encode(const reg_optout_record *x, uint8_t *buf,
                             size_t cap, size_t *len);
int reg_optout_record_decode(reg_optout_record *x, const uint8_t *buf,
                             size_t len);
int reg_evidence_encode(const reg_evidence *x, uint8_t *buf, size_t cap,
                        size_t *len);
int reg_evidence_decode(reg_evidence *x, const uint8_t *buf, size_t len);

/* ---- Batches --------------------------------------------------------- */

/* A decoded manifest (the payload of a REG_RECORD_BATCH record). */
typedef struct reg_manifest {
  uint8_t batch_id[REG_BATCH_ID_LEN];
  uint8_t salt[REG_SALT_LEN];
  uint64_t count;          /* entries */
  uint32_t entry_width;    /* REG_ENTRY_LEN */
  uint32_t chunk_entries;  /* REG_CHUNK_ENTRIES */
  uint32_t fanout;         /* REG_TREE_FANOUT */
  uint32_t depth;          /* hash-list levels between roots and data */
  uint8_t roots[REG_ROOTS_MAX][DHT_KEY_LEN];
  uint32_t n_roots;
  uint64_t pow_nonce;
} reg_manifest;

/* reg_manifest_encode / reg_manifest_decode: the manifest payload codec
 * (strict; the decoder also checks the fixed fields and that depth and
 * n_roots are those of the tree of |count| entries). Return 0,
 * REG_ERR_TOO_LARGE / REG_ERR_INVALID_ARGUMENT (encode) or
 * REG_ERR_MALFORMED (decode). */
int reg_manifest_encode(const reg_manifest *m, uint8_t *buf, size_t cap,
                        size_t *len);
int reg_manifest_decode(reg_manifest *m, const uint8_t *buf, size_t len);

/* reg_manifest_check checks a BATCH record whose envelope already passed
 * dht_record_verify: type, payload, key = reg_manifest_key(author,
 * batch_id), count <= REG_BATCH_MAX_ENTRIES and the proof of work at
 * |pow_base_bits|. Fills |out| (may be NULL). Returns 0, REG_ERR_MANIFEST,
 * REG_ERR_TOO_LARGE or REG_ERR_POW. */
int reg_manifest_check(const dht_record *rec, unsigned pow_base_bits,
                       reg_manifest *out);

/* reg_batch_pow_bits is the proof of work a batch of |count| entries must
 * carry: |base_bits| + ceil(log2(ceil(count / 10000))) for count > 10000,
 * else |base_bits| (the cost doubles with the size: linear per entry). */
unsigned reg_batch_pow_bits(uint64_t count, unsigned base_bits);

/* A batch in memory: manifest, sorted entries and every signed record
 * (manifest, index, hash-list and data chunks) ready to publish. */
typedef struct reg_batch reg_batch;

/* reg_batch_build hashes |n| canonical addresses with a fresh salt and
 * batch id from |random|, sorts and de-duplicates the entries, chunks
 * them, builds the hash tree, mines the proof of work at |pow_base_bits|
 * and signs every record with |sender| (whose ID must meet the DHT
 * difficulty), valid from |now_s| for |ttl_s| seconds.
 * Returns 0, REG_ERR_INVALID_ARGUMENT, REG_ERR_TOO_LARGE or
 * REG_ERR_NOMEM. */
int reg_batch_build(reg_batch **out, const char *const *canon, size_t n,
                    const nc_identity *sender, uint64_t now_s, uint64_t ttl_s,
                    unsigned pow_base_bits,
                    void (*random)(void *user, uint8_t *buf, size_t len),
                    void *random_user);

void reg_batch_free(reg_batch *b);

const reg_manifest *reg_batch_manifest(const reg_batch *b);
const uint8_t *reg_batch_sender(const reg_batch *b); /* NC_PK_LEN bytes */
const uint64_t *reg_batch_entries(const reg_batch *b, size_t *n);
/* reg_batch_record returns the |i|-th signed record (0 = manifest,
 * 1 = index, then hash-list chunks, then data chunks) or NULL. */
const uint8_t *reg_batch_record(const reg_batch *b, size_t i, size_t *len);
size_t reg_batch_record_count(const reg_batch *b);

/* reg_batch_announced returns the index window that |b|'s index record
 * announces it in. reg_batch_stale says whether that window is older
 * than the one before |now_s|'s: nodes already running read only the
 * current and the previous window at each poll (PROTOCOL.md 12.1), so a
 * batch published with such an index would be found only by nodes that
 * start later. */
uint64_t reg_batch_announced(const reg_batch *b);
int reg_batch_stale(const reg_batch *b, uint64_t now_s);

/* reg_batch_reannounce replaces |b|'s index record by one created at
 * |now_s| (its window, a new index proof of work at |pow_base_bits|, the
 * same expiry), signed by |sender|, which must be the batch's key. The
 * other records are unchanged. Returns 0, REG_ERR_INVALID_ARGUMENT (NULL,
 * or another key), REG_ERR_EXPIRED (|now_s| at or past the expiry) or
 * REG_ERR_NOMEM. */
int reg_batch_reannounce(reg_batch *b, const nc_identity *sender,
                         uint64_t now_s, unsigned pow_base_bits);

/* reg_batch_file_encode serialises |b| into a newly allocated buffer
 * (the batch file, see PROTOCOL.md). Returns 0 or REG_ERR_NOMEM. */
int reg_batch_file_encode(const reg_batch *b, uint8_t **buf, size_t *len);

/* reg_batch_file_decode parses and fully verifies a batch file: every
 * record's envelope (dht_record_verify at |difficulty| and |now_s|), the
 * manifest's proof of work at |pow_base_bits|, every chunk against the
 * tree, entries strictly increasing and equal to the count.
 * Returns 0 or REG_ERR_* (TRUNCATED, MALFORMED, MANIFEST, POW,
 * CHUNK_HASH, NOT_SORTED, TOO_LARGE, EXPIRED) or a DHT_ERR_* code. */
int reg_batch_file_decode(reg_batch **out, const uint8_t *buf, size_t len,
                          unsigned difficulty, unsigned pow_base_bits,
                          uint64_t now_s);

/* Incremental verification while fetching from the DHT: the manifest
 * gives the roots; hash-list chunks reveal further keys; data chunks are
 * checked against the key that named them. reg_fetch tracks which keys
 * are still needed and assembles the entries. */
typedef struct reg_fetch reg_fetch;

/* reg_fetch_new starts from a verified manifest record (|rec| already
 * passed dht_record_verify). Returns 0, REG_ERR_MANIFEST, REG_ERR_POW,
 * REG_ERR_TOO_LARGE or REG_ERR_NOMEM. */
int reg_fetch_new(reg_fetch **out, const dht_record *manifest_rec,
                  unsigned pow_base_bits);
void reg_fetch_free(reg_fetch *f);
/* reg_fetch_wanted copies up to |max| keys still wanted, in tree order
 * (roots, hash-list chunks level by level, then data chunks). Returns
 * the number copied (0 when complete). */
size_t reg_fetch_wanted(const reg_fetch *f, uint8_t (*keys)[DHT_KEY_LEN],
                        size_t max);
/* reg_fetch_wanted_from is reg_fetch_wanted starting at tree position
 * *pos (0 at first); *pos is advanced past the last key copied, so a
 * caller can issue each key once. Returns the number copied. */
size_t reg_fetch_wanted_from(const reg_fetch *f, size_t *pos,
                             uint8_t (*keys)[DHT_KEY_LEN], size_t max);
/* reg_fetch_missing returns the number of chunks not yet added (known or
 * not yet revealed by their hash-list parent). */
size_t reg_fetch_missing(const reg_fetch *f);
/* reg_fetch_add offers the payload of a chunk record fetched under |key|.
 * Every error leaves |f| unchanged. Returns 0, REG_ERR_CHUNK_HASH
 * (content does not hash to a wanted key: fetch it again from another
 * storer), REG_ERR_DUPLICATE (that chunk was already added: ignore), or,
 * for content that does hash to a wanted key, i.e. the batch's signer
 * built a bad tree (give the batch up): REG_ERR_NOT_SORTED or
 * REG_ERR_MALFORMED. */
int reg_fetch_add(reg_fetch *f, const uint8_t key[DHT_KEY_LEN],
                  const uint8_t *payload, size_t len);
/* reg_fetch_add_digest is reg_fetch_add for callers that hash chunks on
 * several threads: |digest| must be reg_chunk_key(payload, len), computed
 * by the caller (never taken from a storer). Same results. */
int reg_fetch_add_digest(reg_fetch *f, const uint8_t digest[DHT_KEY_LEN],
                         const uint8_t *payload, size_t len);
int reg_fetch_complete(const reg_fetch *f);
/* Sorted entries once complete (NULL before). */
const uint64_t *reg_fetch_entries(const reg_fetch *f, size_t *n);
const reg_manifest *reg_fetch_manifest(const reg_fetch *f);

/* ---- Matching ------------------------------------------------------- */

/* reg_entries_sort sorts |n| entries ascending (MSD radix sort; needs n
 * more words of scratch). Returns 0, REG_ERR_INVALID_ARGUMENT (v NULL)
 * or REG_ERR_NOMEM. */
int reg_entries_sort(uint64_t *v, size_t n);

/* reg_match_few looks each of |nq| query entries up in the sorted
 * |entries| by interpolation search (entries are uniform), writing 1 or 0
 * to hit[i]. Returns the number of hits. For a few queries. */
size_t reg_match_few(const uint64_t *entries, size_t n, const uint64_t *queries,
                     size_t nq, uint8_t *hit);

/* reg_match_merge finds the hits of the sorted |queries| in the sorted
 * |entries| in one merge pass, writing 1 or 0 to hit[i]. Returns the
 * number of hits. For many queries (a mail provider's node). */
size_t reg_match_merge(const uint64_t *entries, size_t n,
                       const uint64_t *queries, size_t nq, uint8_t *hit);

/* Many protected addresses against one batch: hash them under the batch's
 * salt (reg_entries_hash), sort the entries remembering which address
 * each came from (reg_entries_sort's algorithm), then one merge pass
 * (reg_match_merge's) names the addresses the batch holds. The set needs
 * only the salt, so it can be prepared while the batch's chunks are still
 * being fetched and verified. A caller with threads may hash distinct
 * ranges of addresses, and match distinct parts of the entries, on
 * several threads at once; everything else takes one thread. */
typedef struct reg_queries reg_queries;

/* reg_queries_new makes a set for the caller's addresses 0 .. n - 1
 * (n <= UINT32_MAX) under |salt|. Returns 0, REG_ERR_INVALID_ARGUMENT or
 * REG_ERR_NOMEM. */
int reg_queries_new(reg_queries **out, const uint8_t salt[REG_SALT_LEN],
                    size_t n);
void reg_queries_free(reg_queries *q);
/* reg_queries_hash hashes the canonical addresses first .. first +
 * count - 1 (canon[0] and len[0] are address |first|'s; len NULL:
 * strlen). Distinct ranges may be hashed on different threads at once.
 * Returns 0 or REG_ERR_INVALID_ARGUMENT (range past the set). */
int reg_queries_hash(reg_queries *q, size_t first, const char *const *canon,
                     const size_t *len, size_t count);
/* reg_queries_sort sorts the set once every address is hashed (needs 12
 * bytes of scratch per address). Returns 0, REG_ERR_INVALID_ARGUMENT
 * (some address not hashed) or REG_ERR_NOMEM (the set is unchanged). */
int reg_queries_sort(reg_queries *q);
/* reg_queries_count returns the number of addresses in the set. */
size_t reg_queries_count(const reg_queries *q);
/* reg_queries_match writes to hits[] the numbers of the addresses whose
 * entry is among the |n| sorted |entries| and returns how many (hits has
 * room for reg_queries_count). A sorted set takes one merge pass, hits in
 * entry order; an unsorted one, worth it for a few addresses, is searched
 * address by address (reg_match_few's). Returns 0 while some address is
 * not hashed. */
size_t reg_queries_match(const reg_queries *q, const uint64_t *entries,
                         size_t n, uint32_t *hits);
/* reg_queries_match_part is reg_queries_match over entries[from .. to)
 * only, so that threads can share the entries: the parts of a partition
 * of [0, n) together give exactly reg_queries_match's hits. */
size_t reg_queries_match_part(const reg_queries *q, const uint64_t *entries,
                              size_t from, size_t to, uint32_t *hits);

/* ---- Opt-outs ------------------------------------------------------- */

#define REG_OPTOUT_SEALED_MAX 160 /* bytes of a sealed opt-out */

typedef struct reg_optout {
  uint8_t batch_id[REG_BATCH_ID_LEN];
  uint8_t full_hash[REG_FULL_HASH_LEN];
  uint64_t time_s;
  uint64_t pow_nonce;
} reg_optout;

/* reg_optout_seal mines the opt-out's proof of work at |pow_bits| (sets
 * o->pow_nonce) and seals it to |sender_pk|. |out| holds
 * REG_OPTOUT_SEALED_MAX bytes. Returns 0 or REG_ERR_INVALID_ARGUMENT. */
int reg_optout_seal(uint8_t out[REG_OPTOUT_SEALED_MAX], size_t *len,
                    reg_optout *o, const uint8_t sender_pk[NC_PK_LEN],
                    unsigned pow_bits);

/* reg_optout_open opens a sealed opt-out with the sender's key pair and
 * checks its proof of work. Returns 0, REG_ERR_DECRYPT, REG_ERR_MALFORMED
 * or REG_ERR_POW. */
int reg_optout_open(reg_optout *o, const uint8_t *sealed, size_t len,
                    const uint8_t pk[NC_PK_LEN], const uint8_t sk[NC_SK_LEN],
                    unsigned pow_bits);

/* ---- The registry node ----------------------------------------------- */

typedef struct reg_config {
  uint32_t forward_permille;   /* Crowds p_f x 1000 (750) */
  unsigned optout_pow_bits;    /* (12) */
  unsigned batch_pow_base_bits; /* network parameter (16; tests lower) */
  dht_time grace;              /* before a later batch counts as ignoring
                                  an opt-out (3 days) */
  dht_time index_poll_interval; /* how often index windows are read (5 min) */
  dht_time index_window;       /* length of an index window (1 h) */
  unsigned index_lookback;     /* windows read at start (168 = 7 days) */
  unsigned index_read_max;     /* index records read per window and read
                                  (4096; 1..65536); a window that fills it
                                  is read on at the next poll */
  unsigned escalation_levels;  /* 2x, 4x, 8x: 3 */
  dht_time escalation_spacing; /* between escalation levels (1 day) */
  uint32_t max_protected;      /* protected addresses (10,000,000) */
} reg_config;

void reg_config_default(reg_config *cfg);

typedef struct reg_env {
  void *user;
  void (*random)(void *user, uint8_t *buf, size_t len);
  void (*log)(void *user, int level, const char *line); /* may be NULL */
  /* Local state persistence (protected addresses, opt-out history,
   * batches seen). Keys and values are opaque bytes; NULL = memory only.
   * Return 0 or a negative value. */
  int (*state_put)(void *user, const uint8_t *key, size_t klen,
                   const uint8_t *val, size_t vlen);
  int (*state_del)(void *user, const uint8_t *key, size_t klen);
} reg_env;

typedef struct reg_node reg_node;

/* reg_node_new attaches a registry to |dht| (not owned; it must outlive
 * the registry) acting as |ident|. |cfg->index_window| must be 1 h and
 * |cfg->forward_permille| below 1000. Returns 0, REG_ERR_INVALID_ARGUMENT
 * or REG_ERR_NOMEM. */
int reg_node_new(reg_node **out, const reg_config *cfg, const reg_env *env,
                 dht_node *dht, const nc_identity *ident, dht_time now);
/* reg_node_free releases |r|. DHT operations it started hold pointers
 * into it: free it right before its dht_node (or stop driving the DHT),
 * never keep the DHT running without it. NULL is a no-op. */
void reg_node_free(reg_node *r);

/* reg_node_restore_state feeds back one key/value written by state_put
 * (hostile: parsed strictly, bad entries refused). Returns 0,
 * REG_ERR_MALFORMED, REG_ERR_DUPLICATE, REG_ERR_TOO_LARGE or
 * REG_ERR_NOMEM. */
int reg_node_restore_state(reg_node *r, dht_time now, const uint8_t *key,
                           size_t klen, const uint8_t *val, size_t vlen);

/* reg_node_next_deadline returns when reg_node_handle_expiry must next be
 * called (DHT_TIME_NONE: never). DHT callbacks run registry code, so
 * read it again after every call into the registry or its dht_node. */
dht_time reg_node_next_deadline(const reg_node *r);
void reg_node_handle_expiry(reg_node *r, dht_time now);

/* reg_node_handle_app_message is what the driver's dht_env.app_message
 * hook calls: an opt-out being relayed. It never calls the DHT (the
 * message is queued; the next deadline is then |now|). Returns 0
 * (acknowledge), DHT_ERR_MALFORMED or DHT_ERR_BUSY (rate limit or queue
 * full: the peer tries another relay). */
int reg_node_handle_app_message(reg_node *r, dht_time now,
                                const dht_contact *from, const uint8_t *msg,
                                size_t len);

/* Protected addresses (never leave the node except inside an opt-out
 * sealed to a batch's sender). Adding one checks it against the live
 * batches already known. Return 0, REG_ERR_ADDRESS, REG_ERR_DUPLICATE,
 * REG_ERR_TOO_LARGE or DHT_ERR_NOT_FOUND (remove). */
int reg_node_protect_add(reg_node *r, dht_time now, const char *address);
int reg_node_protect_remove(reg_node *r, dht_time now, const char *address);
typedef int (*reg_address_visit_cb)(void *arg, const char *canon);
size_t reg_node_protect_list(const reg_node *r, reg_address_visit_cb cb,
                             void *arg);

/* reg_node_publish_batch verifies a batch file and puts all its records
 * into the DHT; |cb| reports how many records were stored. Returns 0 or a
 * verification error. */
typedef void (*reg_publish_cb)(void *arg, int status, size_t published,
                               size_t failed);
int reg_node_publish_batch(reg_node *r, dht_time now, const uint8_t *file,
                           size_t len, reg_publish_cb cb, void *arg);

typedef struct reg_stats {
  uint64_t batches_seen, batches_fetched, batches_refused;
  uint64_t chunks_refetched;      /* bad chunk, asked another storer */
  uint64_t matches, optouts_sent, optouts_relayed, optouts_stored;
  uint64_t relays_refused;
  uint64_t evidence_published, escalations_sent;
  size_t protected_addresses, live_batches;
} reg_stats;

void reg_node_stats(const reg_node *r, reg_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* NOINTRUDE_REGISTRY_H */

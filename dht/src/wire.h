/*
 * Internal: the DHT wire format. Outer datagram framing (clear probes and
 * sealed messages) and the msgpack message bodies inside sealed datagrams.
 * docs/PROTOCOL.md is the normative description; this header mirrors it.
 *
 * Datagram layout (all integers little-endian unless said otherwise):
 *
 *   0  2  magic "NI"
 *   2  1  version (1)
 *   3  1  kind: 1 PROBE, 2 PROBE_REPLY, 3 SEALED
 *   PROBE / PROBE_REPLY (clear, exactly DHT_PROBE_LEN bytes):
 *   4  32 sender Ed25519 public key
 *   36 8  sender ID puzzle nonce (LE)
 *   44 8  cookie (echoed by PROBE_REPLY)
 *   SEALED:
 *   4  32 sender Ed25519 public key
 *   36 8  sender ID puzzle nonce (LE)
 *   44 24 XChaCha20-Poly1305 nonce (random)
 *   68 .. ciphertext of the msgpack body, then a 16-byte tag; the
 *         associated data is bytes 0..43.
 */
#ifndef NOINTRUDE_DHT_WIRE_H
#define NOINTRUDE_DHT_WIRE_H

#include <nointrude/dht.h>

#define DHT_WIRE_VERSION 1
#define DHT_WIRE_HEADER_LEN 4
#define DHT_PROBE_LEN 52
#define DHT_SEALED_AD_LEN 44
#define DHT_SEALED_PREFIX_LEN 68
#define DHT_SEALED_OVERHEAD (DHT_SEALED_PREFIX_LEN + NC_AEAD_TAG_LEN)
#define DHT_BODY_MAX (DHT_MAX_DATAGRAM - DHT_SEALED_OVERHEAD)
#define DHT_TOKEN_LEN 16
#define DHT_VALUES_MAX 8 /* records in one VALUES reply */
#define DHT_STATUS_MIN (-1000) /* STORED / RELAYED status: -1000..0 */

enum dht_kind {
  DHT_KIND_PROBE = 1,
  DHT_KIND_PROBE_REPLY = 2,
  DHT_KIND_SEALED = 3,
};

/* A parsed outer datagram. Pointers refer into the parsed buffer. */
typedef struct dht_frame {
  uint8_t kind;
  const uint8_t *pk;        /* sender public key (32 bytes) */
  uint64_t nonce;           /* sender ID puzzle nonce */
  uint64_t cookie;          /* PROBE / PROBE_REPLY only */
  const uint8_t *ad;        /* SEALED: associated data, DHT_SEALED_AD_LEN */
  const uint8_t *aead_nonce; /* SEALED: 24 bytes */
  const uint8_t *cipher;    /* SEALED: body ciphertext + tag */
  size_t cipher_len;
} dht_frame;

/* dht_frame_parse checks the header and lengths of |len| bytes. On
 * failure it returns -1 and sets *drop to a DHT_DROP_* reason (SHORT,
 * OVERSIZE, BAD_MAGIC, BAD_VERSION, BAD_KIND; MALFORMED for a probe longer
 * than DHT_PROBE_LEN). Returns 0 on success (*drop untouched). */
int dht_frame_parse(dht_frame *f, const uint8_t *buf, size_t len, int *drop);

/* dht_frame_write_probe writes a PROBE or PROBE_REPLY (DHT_PROBE_LEN
 * bytes) into |buf|. */
void dht_frame_write_probe(uint8_t buf[DHT_PROBE_LEN], uint8_t kind,
                           const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                           uint64_t cookie);

/* dht_frame_seal writes a SEALED datagram carrying |body| (not
 * overlapping |buf|) encrypted under |key|. Returns 0, DHT_ERR_TOO_LARGE
 * (cap or DHT_MAX_DATAGRAM) or DHT_ERR_INVALID_ARGUMENT (NULL body). */
int dht_frame_seal(uint8_t *buf, size_t cap, size_t *len,
                   const uint8_t pk[NC_PK_LEN], uint64_t nonce,
                   const uint8_t aead_nonce[NC_AEAD_NONCE_LEN],
                   const uint8_t key[NC_SHARED_LEN], const uint8_t *body,
                   size_t body_len);

/* dht_frame_open decrypts a parsed SEALED frame into |body| (capacity
 * DHT_BODY_MAX). Returns 0 or -1 (authentication failed). */
int dht_frame_open(const dht_frame *f, const uint8_t key[NC_SHARED_LEN],
                   uint8_t *body, size_t *body_len);

/* Message types inside a sealed body. Requests are odd, replies even. */
enum dht_msg_type {
  DHT_MSG_PING = 1,
  DHT_MSG_PONG = 2,
  DHT_MSG_FIND_NODE = 3,
  DHT_MSG_NODES = 4,
  DHT_MSG_FIND_VALUE = 5,
  DHT_MSG_VALUES = 6,
  DHT_MSG_STORE = 7,
  DHT_MSG_STORED = 8,
  DHT_MSG_RELAY = 9,   /* an application message (dht_node_send_app) */
  DHT_MSG_RELAYED = 10,
};

/* A contact as it travels: identity and address, nothing learnt locally. */
typedef struct dht_wire_contact {
  uint8_t pk[NC_PK_LEN];
  uint64_t nonce;
  dht_addr addr;
} dht_wire_contact;

/* A decoded or to-be-encoded message body. Which fields are meaningful
 * depends on |type|; pointers refer into the decoded buffer.
 *
 *   every body:  [type, txid, ts_ms, ...]
 *   PING        []
 *   PONG        []
 *   FIND_NODE   [target]
 *   NODES       [token, [contact...]]
 *   FIND_VALUE  [key=target, offset]
 *   VALUES      [token, total, [record...], [contact...]]
 *   STORE       [token, record]
 *   STORED      [status]
 *   RELAY       [payload bin 1..DHT_APP_MAX]
 *   RELAYED     [status]
 *   contact:    [pk bin32, nonce uint, ip bin4|bin16, port uint16]
 */
typedef struct dht_msg {
  uint8_t type;
  uint32_t txid;   /* request id, echoed by the reply */
  uint64_t ts_ms;  /* sender's clock, ms since the Unix epoch */
  uint8_t target[DHT_ID_LEN];   /* FIND_NODE target, FIND_VALUE key */
  uint32_t offset;              /* FIND_VALUE: records to skip */
  uint8_t token[DHT_TOKEN_LEN]; /* NODES, VALUES, STORE */
  dht_wire_contact contacts[DHT_K_MAX]; /* NODES, VALUES */
  size_t n_contacts;
  uint32_t total;                          /* VALUES: records under key */
  const uint8_t *records[DHT_VALUES_MAX];  /* VALUES */
  size_t record_lens[DHT_VALUES_MAX];
  size_t n_records;
  const uint8_t *record; /* STORE */
  size_t record_len;
  const uint8_t *payload; /* RELAY */
  size_t payload_len;
  int32_t status; /* STORED, RELAYED: 0 or a negative DHT_ERR_* code,
                     >= DHT_STATUS_MIN */
} dht_msg;

/* dht_msg_encode writes |m| as msgpack into |buf|. Returns 0,
 * DHT_ERR_INVALID_ARGUMENT (bad type, counts, contact address, status or
 * an empty or NULL RELAY payload) or DHT_ERR_TOO_LARGE (> cap, >
 * DHT_BODY_MAX, a record over DHT_MAX_RECORD or a payload over
 * DHT_APP_MAX). */
int dht_msg_encode(const dht_msg *m, uint8_t *buf, size_t cap, size_t *len);

/* dht_msg_decode parses a body strictly: known type, exact element
 * count, right types, every length bounded (contacts <= DHT_K_MAX,
 * records <= DHT_VALUES_MAX and <= DHT_MAX_RECORD each, RELAY payload
 * 1..DHT_APP_MAX), no trailing bytes. Returns 0 or DHT_ERR_MALFORMED. */
int dht_msg_decode(dht_msg *m, const uint8_t *buf, size_t len);

#endif /* NOINTRUDE_DHT_WIRE_H */

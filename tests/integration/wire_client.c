/*
 * wire_client: a test tool that speaks the DHT wire protocol to one running
 * node over a blocking UDP socket, to send it what honest nodes never send.
 *
 *   wire_client [--difficulty BITS] [--bind IP] HOST:PORT MODE
 *
 * It makes a fresh identity at BITS (default 8), PROBEs the node to learn
 * its key, then per MODE:
 *   tamper    FIND_NODE for a token, then STORE of a signed note with one
 *             payload byte flipped after signing
 *   wrongkey  the same with a note signed correctly whose key is not
 *             dht_note_key(author, name)
 *   store:FILE  FIND_NODE for a token, then STORE of the record whose
 *             hex encoding FILE holds (a record crafted by a test, e.g.
 *             an opt-out sealed to the wrong key)
 *   garbage   short, truncated, oversized (< 64 KiB), bad magic / version /
 *             kind, undecryptable, stale, puzzle-failing and replayed
 *             datagrams, bracketed by PINGs that must be answered
 * Output is "word value" lines on stdout (key HEX, status N, sent NAME LEN,
 * pong N, replay_answered N, alive N). Exit 0 when the node replied as
 * needed (the STORED reply, or both PONGs), 1 otherwise, 2 on usage errors.
 * Test tool: it blocks, reads the clock and prints; none of that is
 * allowed in dht/ itself.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nointrude/crypto.h>
#include <nointrude/dht.h>

/* By relative path rather than with dht/src on the include path, so that
 * no private header of the engine can ever shadow a system header here
 * (a dht/src/limits.h once shadowed <limits.h>). */
#include "../../dht/src/wire.h"

#define ATTEMPTS 4        /* tries per request */
#define ATTEMPT_MS 800    /* wait per try */
#define RECV_CAP 65536    /* we may be answered with anything */
#define NOTE_TTL_S 3600

typedef struct client {
  int fd;
  struct sockaddr_in peer;
  unsigned difficulty;
  nc_identity me;
  uint8_t peer_pk[NC_PK_LEN];
  uint64_t peer_nonce;
  uint8_t key[NC_SHARED_LEN]; /* nc_peer_key(me, peer) */
} client;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t random_u32(void) {
  uint32_t v;
  randombytes_buf(&v, sizeof v);
  return v;
}

/* Parses "A.B.C.D:PORT" into |sa|. Returns 0 or -1. */
static int parse_v4(struct sockaddr_in *sa, const char *text) {
  char host[64];
  const char *colon = strrchr(text, ':');
  if (colon == NULL || (size_t)(colon - text) >= sizeof host)
    return -1;
  memcpy(host, text, (size_t)(colon - text));
  host[colon - text] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  if (*end != '\0' || port <= 0 || port > 65535 ||
      inet_pton(AF_INET, host, &sa->sin_addr) != 1)
    return -1;
  return 0;
}

static int open_socket(client *c, const char *bind_ip) {
  c->fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (c->fd < 0)
    return -1;
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  if (inet_pton(AF_INET, bind_ip, &local.sin_addr) != 1)
    return -1;
  return bind(c->fd, (struct sockaddr *)&local, sizeof local);
}

static void send_raw(const client *c, const uint8_t *buf, size_t len) {
  if (sendto(c->fd, buf, len, 0, (const struct sockaddr *)&c->peer,
             sizeof c->peer) < 0)
    fprintf(stderr, "sendto (%zu bytes): %s\n", len, strerror(errno));
}

/* Waits up to |ms| for a datagram from the peer. Returns its length, or
 * -1 on timeout. Datagrams from other addresses are skipped. */
static long recv_from_peer(const client *c, uint8_t *buf, size_t cap,
                           uint64_t deadline_ms) {
  for (;;) {
    uint64_t now = now_ms();
    if (now >= deadline_ms)
      return -1;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, (int)(deadline_ms - now)) <= 0)
      continue;
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(c->fd, buf, cap, 0, (struct sockaddr *)&from, &flen);
    if (n >= 0 && from.sin_addr.s_addr == c->peer.sin_addr.s_addr &&
        from.sin_port == c->peer.sin_port)
      return (long)n;
  }
}

/* Accepts a PROBE_REPLY echoing |cookie|; sets the peer identity and key. */
static int take_probe_reply(client *c, const uint8_t *buf, size_t len,
                            uint64_t cookie) {
  dht_frame f;
  int drop;
  uint8_t id[NC_ID_LEN];
  if (dht_frame_parse(&f, buf, len, &drop) != 0 ||
      f.kind != DHT_KIND_PROBE_REPLY || f.cookie != cookie)
    return -1;
  if (nc_id_verify(id, f.pk, f.nonce, c->difficulty) != 0) {
    fprintf(stderr, "node identity fails the puzzle at %u bits\n",
            c->difficulty);
    return -1;
  }
  memcpy(c->peer_pk, f.pk, NC_PK_LEN);
  c->peer_nonce = f.nonce;
  if (nc_peer_key(c->key, c->me.sk, c->me.pk, c->peer_pk) != 0)
    return -1;
  char hex[2 * NC_ID_LEN + 1];
  nc_hex_encode(hex, id, NC_ID_LEN);
  printf("node_id %s\n", hex);
  return 0;
}

static int probe(client *c) {
  uint8_t out[DHT_PROBE_LEN];
  static uint8_t in[RECV_CAP];
  for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
    uint64_t cookie;
    randombytes_buf(&cookie, sizeof cookie);
    dht_frame_write_probe(out, DHT_KIND_PROBE, c->me.pk, c->me.nonce, cookie);
    send_raw(c, out, sizeof out);
    uint64_t deadline = now_ms() + ATTEMPT_MS;
    long n;
    while ((n = recv_from_peer(c, in, sizeof in, deadline)) >= 0) {
      if (take_probe_reply(c, in, (size_t)n, cookie) == 0)
        return 0;
    }
  }
  fprintf(stderr, "no PROBE_REPLY\n");
  return -1;
}

/* Encodes |m| and seals it with an explicit AEAD nonce under |key| as
 * sender |ident|. Returns 0 or -1. */
static int seal_as(uint8_t *out, size_t cap, size_t *len, const dht_msg *m,
                   const nc_identity *ident, const uint8_t *key) {
  uint8_t body[DHT_BODY_MAX];
  size_t blen;
  uint8_t aead_nonce[NC_AEAD_NONCE_LEN];
  randombytes_buf(aead_nonce, sizeof aead_nonce);
  if (dht_msg_encode(m, body, sizeof body, &blen) != 0) {
    fprintf(stderr, "dht_msg_encode failed for type %u\n", m->type);
    return -1;
  }
  if (dht_frame_seal(out, cap, len, ident->pk, ident->nonce, aead_nonce, key,
                     body, blen) != 0) {
    fprintf(stderr, "dht_frame_seal failed\n");
    return -1;
  }
  return 0;
}

/* Decodes |buf| as a sealed message from the peer into |m| (the body
 * lives in |body|). Returns 0 or -1. */
static int open_from_peer(const client *c, const uint8_t *buf, size_t len,
                          dht_msg *m, uint8_t body[DHT_BODY_MAX]) {
  dht_frame f;
  int drop;
  size_t blen;
  if (dht_frame_parse(&f, buf, len, &drop) != 0 || f.kind != DHT_KIND_SEALED ||
      memcmp(f.pk, c->peer_pk, NC_PK_LEN) != 0)
    return -1;
  if (dht_frame_open(&f, c->key, body, &blen) != 0)
    return -1;
  return dht_msg_decode(m, body, blen) == 0 ? 0 : -1;
}

/* Waits until |deadline| for a reply of |type| to |txid|. */
static int await_reply(const client *c, uint8_t type, uint32_t txid,
                       uint64_t deadline, dht_msg *reply) {
  static uint8_t in[RECV_CAP];
  static uint8_t body[DHT_BODY_MAX];
  long n;
  while ((n = recv_from_peer(c, in, sizeof in, deadline)) >= 0) {
    if (open_from_peer(c, in, (size_t)n, reply, body) == 0 &&
        reply->type == type && reply->txid == txid)
      return 0;
  }
  return -1;
}

/* Sends |m| (fresh ts and AEAD nonce per try) until a reply of |type|
 * arrives. Returns 0 or -1. */
static int request(const client *c, dht_msg *m, uint8_t type, dht_msg *reply) {
  uint8_t out[DHT_MAX_DATAGRAM];
  size_t len;
  for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
    m->ts_ms = now_ms();
    if (seal_as(out, sizeof out, &len, m, &c->me, c->key) != 0)
      return -1;
    send_raw(c, out, len);
    if (await_reply(c, type, m->txid, now_ms() + ATTEMPT_MS, reply) == 0)
      return 0;
  }
  return -1;
}

static int get_token(const client *c, const uint8_t target[DHT_ID_LEN],
                     uint8_t token[DHT_TOKEN_LEN]) {
  static dht_msg m, reply;
  memset(&m, 0, sizeof m);
  m.type = DHT_MSG_FIND_NODE;
  m.txid = random_u32();
  memcpy(m.target, target, DHT_ID_LEN);
  if (request(c, &m, DHT_MSG_NODES, &reply) != 0) {
    fprintf(stderr, "no NODES reply to FIND_NODE\n");
    return -1;
  }
  memcpy(token, reply.token, DHT_TOKEN_LEN);
  return 0;
}

/* Builds the refused note for |mode| into |out|; its key goes to |key|. */
static int build_bad_note(const client *c, const char *mode, uint8_t *out,
                          size_t cap, size_t *len, uint8_t key[DHT_KEY_LEN]) {
  static uint8_t payload[DHT_NOTE_NAME_MAX + DHT_NOTE_VALUE_MAX + 8];
  char name[48];
  const char *value = "integration test: this record must be refused";
  dht_record rec;
  snprintf(name, sizeof name, "it-%s-%08x", mode, random_u32());
  uint64_t now_s = now_ms() / 1000u;
  if (dht_note_build(&rec, payload, sizeof payload, &c->me,
                     (const uint8_t *)name, strlen(name),
                     (const uint8_t *)value, strlen(value), now_s, NOTE_TTL_S,
                     1) != 0) {
    fprintf(stderr, "dht_note_build failed\n");
    return -1;
  }
  if (strcmp(mode, "tamper") == 0) {
    /* The last payload byte is the value's last byte: the key rule still
     * holds, only the signature can catch it. */
    size_t at = (size_t)(rec.payload - payload) + rec.payload_len - 1;
    if (rec.payload < payload || at >= sizeof payload)
      return -1;
    payload[at] ^= 0x01;
  } else {
    const char *other = "not-the-name-that-was-signed";
    dht_note_key(rec.key, c->me.pk, (const uint8_t *)other, strlen(other));
    dht_record_sign(&rec, &c->me);
  }
  memcpy(key, rec.key, DHT_KEY_LEN);
  return dht_record_encode(&rec, out, cap, len) == 0 ? 0 : -1;
}

/* Reads the hex-encoded record in |path| into |out|; its key to |key|. */
static int read_record_file(const char *path, uint8_t *out, size_t cap,
                            size_t *len, uint8_t key[DHT_KEY_LEN]) {
  static char hex[2 * DHT_MAX_RECORD + 2];
  dht_record rec;
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(hex, 1, sizeof hex - 1, f) : 0;
  if (f)
    fclose(f);
  while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
    n--;
  hex[n] = '\0';
  if (n == 0 || n % 2 != 0 || n / 2 > cap ||
      nc_hex_decode(out, n / 2, hex) != 0 ||
      dht_record_decode(&rec, out, n / 2) != 0) {
    fprintf(stderr, "%s: not a hex-encoded record\n", path);
    return -1;
  }
  memcpy(key, rec.key, DHT_KEY_LEN);
  *len = n / 2;
  return 0;
}

static int run_store(client *c, const char *mode) {
  static uint8_t rec[DHT_MAX_RECORD];
  size_t rec_len;
  uint8_t key[DHT_KEY_LEN];
  uint8_t token[DHT_TOKEN_LEN];
  char hex[2 * DHT_KEY_LEN + 1];
  static dht_msg m, reply;
  int rv = strncmp(mode, "store:", 6) == 0
               ? read_record_file(mode + 6, rec, sizeof rec, &rec_len, key)
               : build_bad_note(c, mode, rec, sizeof rec, &rec_len, key);
  if (rv != 0)
    return 1;
  nc_hex_encode(hex, key, DHT_KEY_LEN);
  printf("key %s\n", hex);
  if (get_token(c, key, token) != 0)
    return 1;
  memset(&m, 0, sizeof m);
  m.type = DHT_MSG_STORE;
  m.txid = random_u32();
  memcpy(m.token, token, DHT_TOKEN_LEN);
  m.record = rec;
  m.record_len = rec_len;
  if (request(c, &m, DHT_MSG_STORED, &reply) != 0) {
    fprintf(stderr, "no STORED reply\n");
    return 1;
  }
  printf("status %d\n", (int)reply.status);
  return 0;
}

/* ---- garbage mode ---------------------------------------------------- */

static void send_named(const client *c, const char *name, const uint8_t *buf,
                       size_t len) {
  send_raw(c, buf, len);
  printf("sent %s %zu\n", name, len);
}

static void ping_msg(dht_msg *m, uint64_t ts_ms) {
  memset(m, 0, sizeof *m);
  m->type = DHT_MSG_PING;
  m->txid = random_u32();
  m->ts_ms = ts_ms;
}

/* Sends a PING and waits for its PONG. Returns 1 if answered. */
static int ping(const client *c) {
  static dht_msg m, reply;
  ping_msg(&m, now_ms());
  return request(c, &m, DHT_MSG_PONG, &reply) == 0;
}

/* Framing errors: every one is caught before any cryptography. */
static void send_framing_garbage(const client *c) {
  static uint8_t big[60000];
  uint8_t probe_buf[DHT_PROBE_LEN];
  dht_frame_write_probe(probe_buf, DHT_KIND_PROBE, c->me.pk, c->me.nonce, 7);
  send_named(c, "short", probe_buf, 3);
  send_named(c, "truncated_probe", probe_buf, 30);
  memcpy(big, probe_buf, 4);
  big[3] = DHT_KIND_SEALED;
  randombytes_buf(big + 4, sizeof big - 4);
  send_named(c, "truncated_sealed", big, DHT_SEALED_PREFIX_LEN - 8);
  send_named(c, "oversize", big, DHT_MAX_DATAGRAM + 1);
  send_named(c, "oversize", big, 1500);
  send_named(c, "oversize", big, sizeof big);
  uint8_t bad[DHT_PROBE_LEN];
  memcpy(bad, probe_buf, sizeof bad);
  bad[0] = 'X';
  send_named(c, "bad_magic", bad, sizeof bad);
  memcpy(bad, probe_buf, sizeof bad);
  bad[2] = 9;
  send_named(c, "bad_version", bad, sizeof bad);
  memcpy(bad, probe_buf, sizeof bad);
  bad[3] = 77;
  send_named(c, "bad_kind", bad, sizeof bad);
}

/* A sealed PING whose tag no longer verifies, and one far out of time. */
static void send_crypto_garbage(const client *c) {
  static dht_msg m;
  uint8_t out[DHT_MAX_DATAGRAM];
  size_t len;
  ping_msg(&m, now_ms());
  if (seal_as(out, sizeof out, &len, &m, &c->me, c->key) == 0) {
    out[len - 1] ^= 0x80;
    send_named(c, "decrypt", out, len);
  }
  ping_msg(&m, now_ms() - 3600u * 1000u);
  if (seal_as(out, sizeof out, &len, &m, &c->me, c->key) == 0)
    send_named(c, "stale_time", out, len);
}

/* A sealed PING from a key whose ID fails the puzzle: the node must drop
 * it without deriving a key (we seal under a random one). */
static void send_puzzle_garbage(const client *c) {
  static dht_msg m;
  nc_identity weak;
  uint8_t id[NC_ID_LEN], key[NC_SHARED_LEN], out[DHT_MAX_DATAGRAM];
  size_t len;
  if (c->difficulty == 0)
    return;
  crypto_sign_keypair(weak.pk, weak.sk);
  for (weak.nonce = 0;; weak.nonce++) {
    nc_node_id(id, weak.pk, weak.nonce);
    if (nc_id_puzzle_bits(id) < c->difficulty)
      break;
  }
  randombytes_buf(key, sizeof key);
  ping_msg(&m, now_ms());
  if (seal_as(out, sizeof out, &len, &m, &weak, key) == 0)
    send_named(c, "puzzle", out, len);
  nc_identity_wipe(&weak);
}

/* Sends one sealed PING, waits for the PONG, sends the identical bytes
 * again and watches whether that copy is answered too. Returns 1 if the
 * first copy was answered. */
static int send_replay(const client *c) {
  static dht_msg m, reply;
  uint8_t out[DHT_MAX_DATAGRAM];
  size_t len;
  ping_msg(&m, now_ms());
  if (seal_as(out, sizeof out, &len, &m, &c->me, c->key) != 0)
    return 0;
  send_raw(c, out, len);
  int first = await_reply(c, DHT_MSG_PONG, m.txid, now_ms() + 2000, &reply);
  printf("pong %d\n", first == 0);
  send_named(c, "replay", out, len);
  int again = await_reply(c, DHT_MSG_PONG, m.txid, now_ms() + 1000, &reply);
  printf("replay_answered %d\n", again == 0);
  return first == 0;
}

static int run_garbage(client *c) {
  int answered = ping(c);
  printf("pong %d\n", answered);
  send_framing_garbage(c);
  send_crypto_garbage(c);
  send_puzzle_garbage(c);
  int replay_ok = send_replay(c);
  int alive = ping(c);
  printf("alive %d\n", alive);
  return answered && replay_ok && alive ? 0 : 1;
}

/* ---- main ------------------------------------------------------------ */

static int usage(void) {
  fprintf(stderr, "usage: wire_client [--difficulty BITS] [--bind IP] "
                  "HOST:PORT tamper|wrongkey|garbage|store:FILE\n");
  return 2;
}

int main(int argc, char **argv) {
  static client c;
  const char *bind_ip = "127.0.0.1";
  c.difficulty = 8;
  int i = 1;
  for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
    if (strcmp(argv[i], "--difficulty") == 0)
      c.difficulty = (unsigned)strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--bind") == 0)
      bind_ip = argv[i + 1];
    else
      return usage();
  }
  if (argc - i != 2 || parse_v4(&c.peer, argv[i]) != 0)
    return usage();
  const char *mode = argv[i + 1];
  int store_mode = strcmp(mode, "tamper") == 0 ||
                   strcmp(mode, "wrongkey") == 0 ||
                   strncmp(mode, "store:", 6) == 0;
  if (!store_mode && strcmp(mode, "garbage") != 0)
    return usage();
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (nc_init() != 0 || nc_identity_generate(&c.me, c.difficulty) != 0 ||
      open_socket(&c, bind_ip) != 0) {
    fprintf(stderr, "setup failed: %s\n", strerror(errno));
    return 1;
  }
  int rc = probe(&c) != 0 ? 1 : store_mode ? run_store(&c, mode)
                                           : run_garbage(&c);
  nc_identity_wipe(&c.me);
  sodium_memzero(c.key, sizeof c.key);
  close(c.fd);
  return rc;
}

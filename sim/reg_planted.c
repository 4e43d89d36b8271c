/*
 * The planted-target attack: an attacker tries to turn the network on an
 * innocent bystander, a node (the bystander's node) whose owner is also a
 * sender (the bystander key, with a batch of its own that lists nobody's
 * protected address) and who protects addresses of its own.
 *
 * The attacker holds its own sender key, a node that files whatever it
 * signs without checking key rules (a modified node), and a second node
 * (the forger: the host whose ID is closest to the bystander's manifest
 * key, so it stores that manifest and every lookup of it ends there)
 * that answers reads of the bystander's manifest with a forged record
 * (dht_behaviour.value_reply). Vectors, each switchable:
 *
 *   claim     a manifest listing protected addresses "by" the bystander
 *             key, with the bystander's batch id; the attacker cannot sign
 *             as the bystander, so it is signed with its own key: served
 *             by the forger for the bystander's manifest key and also put
 *             from the attacker's node;
 *   wrongkey  the attacker's own batch (protected addresses) whose
 *             manifest is filed under the bystander's namespace
 *             H(bystander, id), with a valid index record;
 *   replay    the bystander's genuine manifest and index record put again
 *             from the attacker's node, and its manifest payload re-signed
 *             by the attacker (key H(attacker, id)) with an index record;
 *   lists     the attacker's batch lists protected addresses, the
 *             bystander's own among them;
 *   escalate  a second batch with the same addresses after the grace
 *             period, so that escalation starts;
 *   junk      junk OPTOUT records under the bystander's inbox and junk
 *             EVIDENCE records against the bystander key, put directly
 *             (signed by the attacker's node).
 *
 * What must hold: no record written by an honest node lands under any of
 * the bystander key's inboxes or its evidence key; every opt-out opens in
 * the inbox of the key that signed the batch it names; the bystander's
 * node receives no more app messages than an ordinary relay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"
#include "sim.h"

#define TAG_BASE 8 /* put-queue tags: TAG_BASE + vector bit index */
#define JUNK_SEALED_LEN 120

enum { PL_BYSTANDER, PL_ATTACK, PL_SECOND };
enum { V_CLAIM, V_WRONGKEY, V_REPLAY, V_LISTS, V_ESCALATE, V_JUNK, V_N };
static const char *const vector_names[V_N] = {"claim",  "wrongkey", "replay",
                                              "lists",  "escalate", "junk"};

typedef struct forged {
  uint8_t key[DHT_KEY_LEN];
  uint8_t rec[DHT_MAX_RECORD];
  size_t len;
} forged;

typedef struct sreg_planted {
  dht_behaviour *beh;         /* per host; only the forger's hook answers */
  uint32_t forger;
  int bystander_batch;        /* index in batches */
  forged manifest;            /* claim: forged bystander manifest */
  uint64_t served_manifest;
  uint8_t bystander_records[2][DHT_MAX_RECORD]; /* its manifest, index */
  size_t bystander_len[2];
} sreg_planted;

static int tag(int v) { return TAG_BASE + v; }

static int on(const sim_reg *r, int v) { return (r->cfg.vectors >> v) & 1; }

/* ---- The forger ------------------------------------------------------------ */

static int forge_reply(void *user, const uint8_t key[DHT_KEY_LEN],
                       uint8_t buf[DHT_MAX_RECORD], size_t *len) {
  sim_host *h = user;
  sreg_planted *p = h->world->reg->planted;
  if (h->index != p->forger)
    return 0;
  if (p->manifest.len && memcmp(key, p->manifest.key, DHT_KEY_LEN) == 0) {
    memcpy(buf, p->manifest.rec, p->manifest.len);
    *len = p->manifest.len;
    p->served_manifest++;
    return 1;
  }
  return 0;
}

static int closer(const uint8_t a[DHT_ID_LEN], const uint8_t b[DHT_ID_LEN],
                  const uint8_t target[DHT_ID_LEN]) {
  for (int i = 0; i < DHT_ID_LEN; i++) {
    uint8_t x = a[i] ^ target[i], y = b[i] ^ target[i];
    if (x != y)
      return x < y;
  }
  return 0;
}

/* pick_forger turns the role-less host closest to |key| into the forger. */
static void pick_forger(sim_world *w, const uint8_t key[DHT_KEY_LEN]) {
  sim_reg *r = w->reg;
  uint32_t best = SREG_NO_HOST;
  for (uint32_t h = 0; h < w->n_honest; h++)
    if (r->role[h] == SREG_ROLE_NONE && w->hosts[h].state == SIM_HOST_UP &&
        (best == SREG_NO_HOST ||
         closer(w->hosts[h].ident.id, w->hosts[best].ident.id, key)))
      best = h;
  r->planted->forger = best;
  if (best != SREG_NO_HOST)
    r->role[best] = SREG_ROLE_FORGER;
}

/* ---- Records the attacker makes ------------------------------------------- */

/* forge_manifest writes a manifest record claiming author |victim| with
 * batch id |id| (the claim batch's fields otherwise), signed by |signer|
 * (the only key the attacker has): it fails signature verification. */
static int forge_manifest(forged *out, const reg_batch *claim,
                          const nc_identity *victim,
                          const uint8_t id[REG_BATCH_ID_LEN],
                          const nc_identity *signer, uint64_t now_s,
                          uint64_t ttl) {
  reg_manifest m = *reg_batch_manifest(claim);
  uint8_t payload[REG_MANIFEST_PAYLOAD_MAX];
  size_t plen;
  dht_record rec;
  memcpy(m.batch_id, id, REG_BATCH_ID_LEN);
  if (reg_manifest_encode(&m, payload, sizeof payload, &plen) != 0)
    return -1;
  memset(&rec, 0, sizeof rec);
  rec.version = DHT_RECORD_VERSION;
  rec.type = REG_RECORD_BATCH;
  reg_manifest_key(rec.key, victim->pk, id);
  rec.created = now_s;
  rec.expires = now_s + ttl;
  rec.payload = payload;
  rec.payload_len = plen;
  dht_record_sign(&rec, signer);
  memcpy(rec.author_pk, victim->pk, NC_PK_LEN);
  rec.author_nonce = victim->nonce;
  memcpy(out->key, rec.key, DHT_KEY_LEN);
  return dht_record_encode(&rec, out->rec, sizeof out->rec, &out->len);
}

/* attacker_batch builds a batch of the attacker key listing every
 * protector's and the bystander's addresses. Returns its index. */
static int attacker_batch(sim_world *w, const char *label, reg_batch **out) {
  sim_reg *r = w->reg;
  uint32_t *hosts = malloc((r->n_protectors + 1) * sizeof *hosts);
  size_t n = 0;
  if (hosts == NULL)
    return SIM_ERR_NOMEM;
  memcpy(hosts, r->protector_hosts, r->n_protectors * sizeof *hosts);
  hosts[r->n_protectors] = r->cfg.bystander;
  char **addrs = sreg_addrs(r, hosts, r->n_protectors + 1, "attacker.test",
                            r->cfg.batch_size, &n);
  int bi = SIM_ERR_NOMEM;
  if (addrs != NULL) {
    sreg_build_args a = {.sender = 1, .kind = SREG_B_ATTACKER,
                         .label = label, .addrs = addrs, .n = n,
                         .pow_base = r->cfg.rc.batch_pow_base_bits,
                         .hosts = hosts, .n_hosts = r->n_protectors + 1};
    bi = sreg_build(w, &a, out);
  }
  sreg_free_addrs(addrs, n);
  free(hosts);
  return bi;
}

/* ---- Vectors ------------------------------------------------------------- */

/* The bystander publishes its clean batch; the forger is chosen next to
 * its manifest key and armed with the claim vector's forgeries. */
static void bystander_publish(sim_world *w) {
  sim_reg *r = w->reg;
  sreg_planted *p = r->planted;
  size_t n = 0, len;
  reg_batch *b = NULL, *claim = NULL;
  char **addrs = sreg_addrs(r, NULL, 0, "bystander-list.test",
                            r->cfg.batch_size, &n);
  sreg_build_args a = {.sender = 0, .kind = SREG_B_BYSTANDER,
                       .label = "bystander", .addrs = addrs, .n = n,
                       .pow_base = r->cfg.rc.batch_pow_base_bits};
  int bi = addrs ? sreg_build(w, &a, &b) : SIM_ERR_NOMEM;
  sreg_free_addrs(addrs, n);
  if (bi < 0) {
    w->error = bi;
    return;
  }
  p->bystander_batch = bi;
  for (int i = 0; i < 2; i++) {
    const uint8_t *rec = reg_batch_record(b, (size_t)i, &len);
    memcpy(p->bystander_records[i], rec, len);
    p->bystander_len[i] = len;
  }
  sreg_publish(w, r->cfg.bystander, bi, b);
  if (on(r, V_CLAIM)) {
    uint8_t key[DHT_KEY_LEN];
    reg_manifest_key(key, r->senders[0].id.pk, r->batches[bi].id);
    pick_forger(w, key);
    int ci = attacker_batch(w, "claim (never published)", &claim);
    if (ci >= 0) {
      sreg_batch_unlisted(r, ci); /* never published */
      forge_manifest(&p->manifest, claim, &r->senders[0].id,
                     r->batches[bi].id, &r->senders[1].id,
                     w->q.now / DHT_SEC, r->cfg.batch_ttl_s);
      sreg_putq_add(w, r->cfg.attacker, p->manifest.rec, p->manifest.len,
                    tag(V_CLAIM));
    }
    reg_batch_free(claim);
  }
  reg_batch_free(b);
  sreg_putq_kick(w);
}

/* wrong_key: the attacker's batch with its manifest re-filed under the
 * bystander's namespace (all other records as built). */
static void wrong_key(sim_world *w) {
  sim_reg *r = w->reg;
  reg_batch *b = NULL;
  size_t len;
  int bi = attacker_batch(w, "wrongkey (own batch, bystander's key)", &b);
  if (bi < 0)
    return;
  sreg_batch_unlisted(r, bi); /* its manifest cannot be found */
  for (size_t i = 0; i < reg_batch_record_count(b); i++) {
    const uint8_t *rec = reg_batch_record(b, i, &len);
    dht_record x;
    uint8_t out[DHT_MAX_RECORD];
    size_t olen;
    if (i != 0 || dht_record_decode(&x, rec, len) != 0) {
      sreg_putq_add(w, r->cfg.attacker, rec, len, tag(V_WRONGKEY));
      continue;
    }
    uint8_t key[DHT_KEY_LEN];
    reg_manifest_key(key, r->senders[0].id.pk, r->batches[bi].id);
    if (reg_record_make(out, sizeof out, &olen, REG_RECORD_BATCH, key,
                        x.payload, x.payload_len, &r->senders[1].id,
                        x.created, x.expires, 0) == 0)
      sreg_putq_add(w, r->cfg.attacker, out, olen, tag(V_WRONGKEY));
  }
  reg_batch_free(b);
}

/* replay: the bystander's own manifest and index again, and its manifest
 * payload re-signed by the attacker (with an index record naming it). */
static void replay(sim_world *w) {
  sim_reg *r = w->reg;
  sreg_planted *p = r->planted;
  const sreg_batch *by = &r->batches[p->bystander_batch];
  uint8_t out[DHT_MAX_RECORD], key[DHT_KEY_LEN];
  uint8_t ipay[REG_INDEX_PAYLOAD_MAX];
  size_t olen, ilen;
  dht_record x;
  uint64_t now_s = w->q.now / DHT_SEC;
  for (int i = 0; i < 2; i++)
    sreg_putq_add(w, r->cfg.attacker, p->bystander_records[i],
                  p->bystander_len[i], tag(V_REPLAY));
  if (dht_record_decode(&x, p->bystander_records[0], p->bystander_len[0]))
    return;
  reg_manifest_key(key, r->senders[1].id.pk, by->id);
  if (reg_record_make(out, sizeof out, &olen, REG_RECORD_BATCH, key,
                      x.payload, x.payload_len, &r->senders[1].id, now_s,
                      now_s + r->cfg.batch_ttl_s, 0) == 0)
    sreg_putq_add(w, r->cfg.attacker, out, olen, tag(V_REPLAY));
  reg_index ix = {.window = reg_index_window(now_s), .count = by->count};
  memcpy(ix.batch_id, by->id, REG_BATCH_ID_LEN);
  reg_index_key(key, ix.window);
  if (reg_index_pow_mine(&ix, r->senders[1].id.pk,
                         r->cfg.rc.batch_pow_base_bits) == 0 &&
      reg_index_encode(&ix, ipay, sizeof ipay, &ilen) == 0 &&
      reg_record_make(out, sizeof out, &olen, REG_RECORD_INDEX, key, ipay,
                      ilen, &r->senders[1].id, now_s,
                      now_s + r->cfg.batch_ttl_s, 0) == 0)
    sreg_putq_add(w, r->cfg.attacker, out, olen, tag(V_REPLAY));
}

/* lists: the attacker publishes a proper batch of its own, through its
 * node's registry like any sender. */
static void lists(sim_world *w, const char *label) {
  sim_reg *r = w->reg;
  reg_batch *b = NULL;
  int bi = attacker_batch(w, label, &b);
  if (bi < 0)
    return;
  sreg_publish(w, r->cfg.attacker, bi, b);
  reg_batch_free(b);
}

/* junk: OPTOUT records of random bytes in the bystander's inbox and
 * EVIDENCE records accusing the bystander key, signed by the attacker's
 * node and put directly. */
static void junk(sim_world *w) {
  sim_reg *r = w->reg;
  const sreg_batch *by = &r->batches[r->planted->bystander_batch];
  const nc_identity *node = &w->hosts[r->cfg.attacker].ident;
  uint64_t now_s = w->q.now / DHT_SEC;
  for (uint32_t i = 0; i < r->cfg.junk_records; i++) {
    uint8_t sealed[JUNK_SEALED_LEN], pay[REG_OPTOUT_RECORD_PAYLOAD_MAX];
    uint8_t out[DHT_MAX_RECORD], key[DHT_KEY_LEN];
    size_t plen, olen;
    sim_rng_fill(&r->rng, sealed, sizeof sealed);
    reg_optout_record x = {.sealed = sealed, .sealed_len = sizeof sealed};
    memcpy(x.sender_pk, by->sender_pk, NC_PK_LEN);
    memcpy(x.batch_id, by->id, REG_BATCH_ID_LEN);
    if (reg_optout_record_encode(&x, pay, sizeof pay, &plen) == 0 &&
        reg_record_make(out, sizeof out, &olen, REG_RECORD_OPTOUT, by->inbox,
                        pay, plen, node, now_s, now_s + r->cfg.batch_ttl_s,
                        0) == 0)
      sreg_putq_add(w, r->cfg.attacker, out, olen, tag(V_JUNK));
    reg_evidence e = {.optout_time = now_s - 86400,
                      .entry = sim_rng_next(&r->rng)};
    memcpy(e.sender_pk, by->sender_pk, NC_PK_LEN);
    memcpy(e.optout_batch, by->id, REG_BATCH_ID_LEN);
    sim_rng_fill(&r->rng, e.later_batch, sizeof e.later_batch);
    reg_evidence_key(key, by->sender_pk);
    if (reg_evidence_encode(&e, pay, sizeof pay, &plen) == 0 &&
        reg_record_make(out, sizeof out, &olen, REG_RECORD_EVIDENCE, key, pay,
                        plen, node, now_s, now_s + r->cfg.batch_ttl_s, 0) == 0)
      sreg_putq_add(w, r->cfg.attacker, out, olen, tag(V_JUNK));
  }
}

static void attack(sim_world *w) {
  sim_reg *r = w->reg;
  if (r->planted->bystander_batch < 0)
    return;
  if (on(r, V_LISTS) || on(r, V_ESCALATE))
    lists(w, "attacker-1");
  if (on(r, V_WRONGKEY))
    wrong_key(w);
  if (on(r, V_REPLAY))
    replay(w);
  if (on(r, V_JUNK))
    junk(w);
  sreg_putq_kick(w);
}

void sreg_planted_on_event(sim_world *w, uint32_t arg) {
  if (arg == PL_BYSTANDER)
    bystander_publish(w);
  else if (arg == PL_ATTACK)
    attack(w);
  else if (on(w->reg, V_ESCALATE))
    lists(w, "attacker-2 (after grace)");
}

int sreg_planted_assign(sim_world *w) {
  sim_reg *r = w->reg;
  const sreg_cfg *c = &r->cfg;
  sreg_planted *p = calloc(1, sizeof *p);
  if (p == NULL || (p->beh = calloc(w->n_hosts, sizeof *p->beh)) == NULL) {
    free(p);
    return SIM_ERR_NOMEM;
  }
  r->planted = p;
  p->forger = SREG_NO_HOST;
  p->bystander_batch = -1;
  for (uint32_t i = 0; i < w->n_hosts; i++) {
    p->beh[i].user = &w->hosts[i];
    p->beh[i].value_reply = forge_reply;
    w->hosts[i].behaviour = &p->beh[i];
  }
  w->hosts[c->attacker].cfg = &r->lax_cfg;
  sreg_push(w, w->t0 + c->publish_at, SREG_ACT_PLANTED, PL_BYSTANDER);
  sreg_push(w, w->t0 + c->attack_at, SREG_ACT_PLANTED, PL_ATTACK);
  sreg_push(w, w->t0 + c->second_at, SREG_ACT_PLANTED, PL_SECOND);
  return 0;
}

/* ---- Figures ------------------------------------------------------------- */

static json_t *vectors_json(const sim_reg *r) {
  json_t *o = json_object();
  for (int v = 0; o != NULL && v < V_N; v++) {
    if (!on(r, v) || v == V_LISTS || v == V_ESCALATE)
      continue; /* published as batches: see "batches" */
    const sreg_putstat *s = &r->putstat[tag(v)];
    json_object_set_new(
        o, vector_names[v],
        json_pack("{s:I, s:I, s:I, s:I}", "puts", (json_int_t)s->puts,
                  "refused_by_own_node", (json_int_t)s->refused_locally,
                  "acknowledged", (json_int_t)s->acked, "stored_nowhere",
                  (json_int_t)s->not_stored));
  }
  return o;
}

#define NEIGHBOURS 10 /* hosts joined just before or after the bystander */

/* node_json compares the bystander's node with the honest relays: app
 * messages and datagrams received, over all of them and over the ones
 * that joined within NEIGHBOURS places of it (a relay's share follows how
 * many routing tables hold it, which grows with its age). */
static json_t *node_json(sim_world *w) {
  sim_reg *r = w->reg;
  sim_values app = {0}, rx = {0}, near = {0};
  double by_app = 0, by_rx = 0;
  uint32_t by = r->cfg.bystander;
  for (uint32_t h = 0; h < w->n_honest; h++) {
    dht_stats st;
    if (w->hosts[h].state != SIM_HOST_UP)
      continue;
    dht_node_stats(w->hosts[h].node, &st);
    if (h == by) {
      by_app = r->app_rx[h];
      by_rx = (double)st.rx_datagrams;
    } else if (r->role[h] == SREG_ROLE_NONE ||
               r->role[h] == SREG_ROLE_PROTECTOR) {
      sim_values_add(&app, r->app_rx[h]);
      sim_values_add(&rx, (double)st.rx_datagrams);
      if (h + NEIGHBOURS >= by && h <= by + NEIGHBOURS)
        sim_values_add(&near, r->app_rx[h]);
    }
  }
  json_t *o = json_pack(
      "{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
      "neighbours_app_messages_p50", sim_values_percentile(&near, 50),
      "neighbours_app_messages_max", sim_values_percentile(&near, 100),
      "bystander_app_messages",
      by_app, "honest_app_messages_p50", sim_values_percentile(&app, 50),
      "honest_app_messages_p90", sim_values_percentile(&app, 90),
      "honest_app_messages_max", sim_values_percentile(&app, 100),
      "bystander_rx_datagrams", by_rx, "honest_rx_datagrams_p50",
      sim_values_percentile(&rx, 50), "honest_rx_datagrams_p90",
      sim_values_percentile(&rx, 90), "honest_rx_datagrams_max",
      sim_values_percentile(&rx, 100));
  sim_values_free(&app);
  sim_values_free(&rx);
  sim_values_free(&near);
  return o;
}

json_t *sreg_planted_json(sim_world *w) {
  sim_reg *r = w->reg;
  sreg_planted *p = r->planted;
  const sreg_keystats *by = &r->keys[0], *at = &r->keys[1];
  reg_stats rs = {0};
  sim_host *bh = &w->hosts[r->cfg.bystander];
  if (bh->reg != NULL)
    reg_node_stats(bh->reg, &rs);
  return json_pack(
      "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
      "s:o}",
      "bystander_host", (json_int_t)r->cfg.bystander, "attacker_host",
      (json_int_t)r->cfg.attacker, "forger_host",
      (json_int_t)(p->forger == SREG_NO_HOST ? -1 : (json_int_t)p->forger),
      "forged_manifest_served", (json_int_t)p->served_manifest,
      "bystander_key_optouts_by_honest", (json_int_t)by->optout_honest,
      "bystander_key_optouts_by_attacker", (json_int_t)by->optout_attacker,
      "bystander_key_optouts_opened", (json_int_t)by->optout_opened,
      "bystander_key_evidence_by_honest", (json_int_t)by->evidence_honest,
      "bystander_key_evidence_by_attacker", (json_int_t)by->evidence_attacker,
      "attacker_key_optouts_by_honest", (json_int_t)at->optout_honest,
      "attacker_key_evidence_by_honest", (json_int_t)at->evidence_honest,
      "bystander_node_optouts_sent", (json_int_t)rs.optouts_sent,
      "vectors", vectors_json(r), "bystander_node", node_json(w));
}

void sreg_planted_free(sim_reg *r) {
  if (r->planted == NULL)
    return;
  free(r->planted->beh);
  free(r->planted);
  r->planted = NULL;
}

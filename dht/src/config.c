/*
 * dht_config defaults (the values documented in dht.h) and the checks a
 * configuration must pass before a node is created with it.
 */
#include <string.h>

#include "node.h"

void dht_config_default(dht_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->k = 16;
  cfg->alpha = 3;
  cfg->disjoint_paths = 1;
  cfg->difficulty = 16;
  cfg->bucket_prefix_max = 2;
  cfg->table_prefix_max = 10;
  cfg->request_timeout = 1 * DHT_SEC;
  cfg->refresh_interval = 60 * 60 * DHT_SEC;
  cfg->replicate_interval = 60 * 60 * DHT_SEC;
  cfg->republish_interval = 30 * 60 * DHT_SEC;
  cfg->clock_skew = 60 * DHT_SEC;
  cfg->rate_per_ip = 50;
  cfg->burst_per_ip = 100;
  cfg->author_max_records = 256;
  cfg->author_max_bytes = 256 * 1024;
  cfg->store_max_bytes = 64u * 1024 * 1024;
  cfg->max_operations = 64;
  cfg->types = NULL;
  cfg->n_types = 0;
}

/* Intervals must be positive: a zero period would spin the timers. */
static int intervals_ok(const dht_config *cfg) {
  return cfg->request_timeout >= DHT_MS && cfg->refresh_interval >= DHT_MS &&
         cfg->replicate_interval >= DHT_MS &&
         cfg->republish_interval >= DHT_MS && cfg->clock_skew >= DHT_MS;
}

int dht_config_check(const dht_config *cfg) {
  if (!cfg || cfg->k == 0 || cfg->k > DHT_K_MAX) return DHT_ERR_INVALID_ARGUMENT;
  if (cfg->alpha == 0 || cfg->alpha > DHT_K_MAX) return DHT_ERR_INVALID_ARGUMENT;
  if (cfg->disjoint_paths == 0 || cfg->disjoint_paths > DHT_PATHS_MAX)
    return DHT_ERR_INVALID_ARGUMENT;
  if (cfg->difficulty > NC_ID_DIFFICULTY_MAX) return DHT_ERR_INVALID_ARGUMENT;
  if (cfg->bucket_prefix_max == 0 || cfg->table_prefix_max == 0)
    return DHT_ERR_INVALID_ARGUMENT;
  if (!intervals_ok(cfg) || cfg->max_operations == 0)
    return DHT_ERR_INVALID_ARGUMENT;
  if (cfg->n_types && !cfg->types) return DHT_ERR_INVALID_ARGUMENT;
  return 0;
}

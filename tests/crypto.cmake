# tests for crypto (owned by whoever builds crypto)

# tests for dht (owned by whoever builds dht)

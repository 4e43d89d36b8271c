# tests for node (owned by whoever builds node)

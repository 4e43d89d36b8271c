# tests for fuzz (owned by whoever builds fuzz)

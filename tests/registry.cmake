# registry tests: formats and matching (registry_*_test.c), engine (reg_node_*_test.c)

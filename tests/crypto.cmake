# Crypto tests: identities and the ID puzzle, peer keys, AEAD, sealed
# boxes, hex and errors (crypto_test); ECVRF against RFC 9381's vectors,
# read at run time from tests/vectors/, plus hostile proofs (vrf_test).
ni_add_test(crypto_test SOURCES crypto_test.c LIBS nointrude::crypto)

# vrf_test checks encode_to_curve's intermediate H through crypto's private
# header, hence the extra include directory.
ni_add_test(vrf_test SOURCES vrf_test.c LIBS nointrude::crypto
  INCLUDES ${PROJECT_SOURCE_DIR}/crypto/src)
target_compile_definitions(vrf_test PRIVATE
  NI_VRF_VECTORS="${CMAKE_CURRENT_SOURCE_DIR}/vectors/rfc9381-ecvrf-edwards25519-sha512-tai.txt")

# Key-agreement context and puzzle-only check: keys equal nc_peer_key's,
# derivation refuses exactly the keys point validation refuses.
ni_add_test(crypto_kx_test SOURCES crypto_kx_test.c LIBS nointrude::crypto)

/* ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381): being written. */
#include <nointrude/crypto.h>

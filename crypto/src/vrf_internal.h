/*
 * Internal ECVRF helpers exposed to the tests (not part of the public API:
 * this header sits on crypto's PRIVATE include path). They let the test
 * suite check RFC 9381's intermediate values, not just the final proof.
 */
#ifndef NOINTRUDE_VRF_INTERNAL_H
#define NOINTRUDE_VRF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <nointrude/crypto.h>

#define NC_VRF_POINT_LEN 32 /* encoded edwards25519 point */

/* nc_vrf_encode_to_curve runs RFC 9381 section 5.4.1.1 (try-and-increment)
 * for public key |pk| and |alpha| (|alpha_len| bytes, may be NULL when 0),
 * writing the point H to |h| and the counter that produced it to |ctr| (may
 * be NULL). Returns 0, NC_ERR_INVALID_ARGUMENT, or NC_ERR_NOT_FOUND when no
 * counter in 0..255 gives a point (probability about 2^-256). */
int nc_vrf_encode_to_curve(uint8_t h[NC_VRF_POINT_LEN], unsigned *ctr,
                           const uint8_t pk[NC_PK_LEN], const uint8_t *alpha,
                           size_t alpha_len);

#endif /* NOINTRUDE_VRF_INTERNAL_H */

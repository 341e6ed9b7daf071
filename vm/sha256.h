/* sha256.h - HMAC-SHA256 on the CPU's SHA instructions, where it has them.
 *
 * The result is the HMAC libsodium computes from the same keyed state;
 * the caller falls back to libsodium when vm_hmac_sha256_hw() says no.
 */
#ifndef SCRUB_SHA256_H
#define SCRUB_SHA256_H

#include <stddef.h>
#include <sodium.h>

/* Does this CPU have the SHA extensions (and the SSE levels they need)? */
int vm_sha256_available(void);

/* HMAC-SHA256 of `domain` with its NUL (when not NULL), then `len` bytes
 * of `s`, under the key of `key`: a state from crypto_auth_hmacsha256_init
 * and never updated. 0 with mac set, or -1 (no SHA extensions, or a
 * state that is not freshly keyed) with mac untouched. */
int vm_hmac_sha256_hw(const crypto_auth_hmacsha256_state *key,
		      const char *domain, const char *s, size_t len,
		      unsigned char mac[32]);

#endif

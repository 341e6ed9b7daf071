/* sha256.c - HMAC-SHA256 with the CPU's SHA instructions (see sha256.h).
 *
 * libsodium's SHA-256 is portable C: on the reference job, hashing the
 * pseudonymized values is about a seventh of all the work when every event
 * is kept. x86 CPUs with the SHA extensions do a 64-byte block in a
 * fraction of that. Only the block function is new: the key schedule
 * (the inner and outer states after the padded key) stays libsodium's,
 * read from its public state structure, and where the instructions are
 * missing the caller uses libsodium for everything.
 */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of
 * the cube roots of the first 64 primes. */
static const uint32_t k256[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Run `n` 64-byte blocks through the compression function. The SHA
 * instructions keep the state as ABEF and CDGH; each group of four rounds
 * takes four schedule words, W[g % 4], which sha256msg1/msg2 extend from
 * the previous ones (Intel's SHA extensions reference, 2013). */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
					     0x0405060700010203ULL);
	__m128i s0, s1, t, w[4];

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]),
			      0xB1);
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]),
			       0x1B);
	s0 = _mm_alignr_epi8(t, s1, 8);
	s1 = _mm_blend_epi16(s1, t, 0xF0);

	for (; n > 0; n--, p += 64) {
		__m128i abef = s0, cdgh = s1;

		for (int g = 0; g < 16; g++) {
			__m128i m;

			if (g < 4)
				w[g] = _mm_shuffle_epi8(_mm_loadu_si128(
					(const __m128i *)(p + 16 * g)), bswap);
			m = _mm_add_epi32(w[g % 4], _mm_load_si128(
				(const __m128i *)&k256[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, m);
			if (g >= 3 && g <= 14) {
				t = _mm_alignr_epi8(w[g % 4], w[(g + 3) % 4],
						    4);
				w[(g + 1) % 4] = _mm_sha256msg2_epu32(
					_mm_add_epi32(w[(g + 1) % 4], t),
					w[g % 4]);
			}
			s0 = _mm_sha256rnds2_epu32(s0, s1,
						   _mm_shuffle_epi32(m, 0x0E));
			if (g >= 1 && g <= 12)
				w[(g + 3) % 4] = _mm_sha256msg1_epu32(
					w[(g + 3) % 4], w[g % 4]);
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}

	t = _mm_shuffle_epi32(s0, 0x1B);
	s1 = _mm_shuffle_epi32(s1, 0xB1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));
}

/* A SHA-256 computation resumed after whole blocks. */
struct stream {
	uint32_t h[8];
	unsigned char buf[64];
	size_t n;		/* bytes in buf */
	uint64_t total;		/* bytes hashed, the key block included */
};

static void feed(struct stream *s, const unsigned char *p, size_t len)
{
	s->total += len;
	if (s->n > 0) {
		size_t k = 64 - s->n < len ? 64 - s->n : len;

		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		len -= k;
		if (s->n < 64)
			return;
		blocks(s->h, s->buf, 1);
		s->n = 0;
	}
	if (len >= 64)
		blocks(s->h, p, len / 64);
	p += len / 64 * 64;
	s->n = len % 64;
	memcpy(s->buf, p, s->n);
}

/* FIPS 180-4 section 5.1.1: 0x80, zeros, the length in bits. */
static void finish(struct stream *s, unsigned char out[32])
{
	uint64_t bits = s->total * 8;

	s->buf[s->n++] = 0x80;
	if (s->n > 56) {
		memset(s->buf + s->n, 0, 64 - s->n);
		blocks(s->h, s->buf, 1);
		s->n = 0;
	}
	memset(s->buf + s->n, 0, 56 - s->n);
	for (int i = 0; i < 8; i++)
		s->buf[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	blocks(s->h, s->buf, 1);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}

int vm_sha256_available(void)
{
	return __builtin_cpu_supports("sha") &&
	       __builtin_cpu_supports("sse4.1") &&
	       __builtin_cpu_supports("ssse3");
}

int vm_hmac_sha256_hw(const crypto_auth_hmacsha256_state *key,
		      const char *domain, const char *s, size_t len,
		      unsigned char mac[32])
{
	struct stream in, out;
	unsigned char inner[32];

	/* Only a freshly keyed state: one block (the padded key) each, in
	 * bits as libsodium counts. */
	if (key->ictx.count != 512 || key->octx.count != 512 ||
	    !vm_sha256_available())
		return -1;
	memcpy(in.h, key->ictx.state, sizeof in.h);
	in.n = 0;
	in.total = 64;
	if (domain)
		feed(&in, (const unsigned char *)domain, strlen(domain) + 1);
	feed(&in, (const unsigned char *)s, len);
	finish(&in, inner);

	memcpy(out.h, key->octx.state, sizeof out.h);
	out.n = 0;
	out.total = 64;
	feed(&out, inner, sizeof inner);
	finish(&out, mac);
	return 0;
}

#else

int vm_sha256_available(void)
{
	return 0;
}

int vm_hmac_sha256_hw(const crypto_auth_hmacsha256_state *key,
		      const char *domain, const char *s, size_t len,
		      unsigned char mac[32])
{
	(void)key;
	(void)domain;
	(void)s;
	(void)len;
	(void)mac;
	return -1;
}

#endif

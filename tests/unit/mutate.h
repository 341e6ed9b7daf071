/* mutate.h - damage a valid bytecode file in ways a disk, a network or an
 * attacker might, and reseal it (body size and checksum in the header) so
 * the loader has to look past the header to refuse it. Shared by the
 * mutation test (check_loader.c) and the bytecode fuzz target. */
#ifndef SCRUB_TEST_MUTATE_H
#define SCRUB_TEST_MUTATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <xxhash.h>

#include "../../vm/bytecode.h"

/* Make the header agree with the body again: size and XXH3 checksum. */
static inline void mutate_reseal(unsigned char *b, size_t len)
{
	uint64_t sum;
	uint32_t size;

	if (len < VM_HEADER_SIZE)
		return;
	size = (uint32_t)(len - VM_HEADER_SIZE);
	sum = XXH3_64bits(b + VM_HEADER_SIZE, size);
	for (int i = 0; i < 4; i++)
		b[12 + i] = (unsigned char)(size >> (8 * i));
	for (int i = 0; i < 8; i++)
		b[16 + i] = (unsigned char)(sum >> (8 * i));
}

/* A small deterministic generator (xorshift64*): the same mutants on
 * every run and every machine. */
static inline uint64_t mutate_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

enum mutation {
	MUT_FLIP,	/* xor one byte with a mask */
	MUT_TRUNCATE,	/* cut the body short */
	MUT_INSERT,	/* insert one byte */
	MUT_DELETE,	/* remove one byte */
	MUT_SWAP,	/* swap two 4-byte words */
	MUT_WORD,	/* overwrite a 4-byte word with a boundary value */
	MUT__COUNT,
};

/* Apply mutation `kind` at body position `at` (taken modulo the body)
 * to the `len` bytes in b, which has room for len + 1. Returns the new
 * length; the result is resealed. */
static inline size_t mutate(unsigned char *b, size_t len, enum mutation kind,
			    size_t at, uint64_t *rng)
{
	static const uint32_t words[] = {
		0, 1, 2, 0x7f, 0xff, 0xffff, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff,
	};
	size_t body = len - VM_HEADER_SIZE;
	size_t pos = VM_HEADER_SIZE + at % body, other;
	uint32_t w;

	switch (kind) {
	case MUT_FLIP:
		b[pos] ^= (unsigned char)(1 + mutate_rand(rng) % 255);
		break;
	case MUT_TRUNCATE:
		len = pos;
		break;
	case MUT_INSERT:
		memmove(b + pos + 1, b + pos, len - pos);
		b[pos] = (unsigned char)mutate_rand(rng);
		len++;
		break;
	case MUT_DELETE:
		memmove(b + pos, b + pos + 1, len - pos - 1);
		len--;
		break;
	case MUT_SWAP:
		other = VM_HEADER_SIZE + mutate_rand(rng) % body;
		if (pos + 4 <= len && other + 4 <= len) {
			unsigned char t[4];

			memcpy(t, b + pos, 4);
			memmove(b + pos, b + other, 4);
			memcpy(b + other, t, 4);
		}
		break;
	case MUT_WORD:
		if (pos + 4 <= len) {
			w = words[mutate_rand(rng) % (sizeof words /
						      sizeof *words)];
			for (int i = 0; i < 4; i++)
				b[pos + i] = (unsigned char)(w >> (8 * i));
		}
		break;
	case MUT__COUNT:
		break;
	}
	mutate_reseal(b, len);
	return len;
}

#endif

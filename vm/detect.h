/* detect.h - built-in detectors: find personal data and secrets in text.
 *
 * Each detector finds spans of one kind (an email address, a card number,
 * an AWS key...) and validates every candidate where a check exists (Luhn,
 * mod-97, SSA rules...). A detector set is any combination of them; it is
 * compiled once into a single PCRE2 pattern, an alternation with one branch
 * per detector and a callout at the end of each branch that runs the
 * validator, so every detector of the set runs in one pass over the text
 * and only candidates are ever validated. A candidate the validator refuses
 * makes the regex engine backtrack: a shorter form of the same detector, or
 * the next detector, or the next position is tried.
 *
 * Detectors are named by a bit each in a 32-bit set (detector i is bit i).
 * The order of the table in detect.c is therefore part of the bytecode
 * format: new detectors go at the end.
 *
 * Ownership: a compiled set (vm_dset) is immutable and may be shared by
 * any number of threads; a scanner (vm_dscan) belongs to one thread.
 */
#ifndef SCRUB_DETECT_H
#define SCRUB_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Names: detectors and the groups pii, secrets and all. */
uint32_t vm_detect_count(void);
const char *vm_detect_name(uint32_t i);		/* "credit_card" */
const char *vm_detect_label(uint32_t i);	/* "CREDIT_CARD" */
uint32_t vm_detect_all(void);			/* every detector's bit */

/* The set a detector or group name stands for; 0 when it is unknown. */
uint32_t vm_detect_lookup(const char *name, size_t len);

/* Every detector and group name, NULL-terminated: for "did you mean". */
const char *const *vm_detect_words(void);

/* The names of the detectors in `set`, comma-separated, in table order. */
void vm_detect_describe(uint32_t set, struct buf *out);

/* One detector set, compiled. NULL on failure with `err` filled. */
struct vm_dset;
struct vm_dset *vm_dset_new(uint32_t set, char *err, size_t errlen);
void vm_dset_free(struct vm_dset *d);
uint32_t vm_dset_set(const struct vm_dset *d);

/* A scanner: match data, match context and JIT stack for one thread. */
struct vm_dscan;
struct vm_dscan *vm_dscan_new(void);
void vm_dscan_free(struct vm_dscan *s);

/* One finding: bytes [start, end) of the text, found by detector `det`. */
struct vm_finding {
	size_t start, end;
	uint32_t det;
};

/* Called for each finding, left to right; nonzero stops the scan and is
 * returned by vm_detect_scan. */
typedef int (*vm_finding_fn)(void *ctx, const struct vm_finding *f);

/* The match limit of a scan (the patterns stay far below it). */
#define VM_DETECT_MATCH_LIMIT 100000000u

/* Find the non-overlapping findings of set `d` in `len` bytes of `s`
 * (any bytes: the detectors look at ASCII only). A finding starts at the
 * leftmost position where some detector of the set has a valid match;
 * where several do, the one earlier in the table wins. Returns 0, the
 * callback's nonzero value, or a PCRE2 error code (< 0) if the engine
 * gave up (its match limit). *work, when not NULL, is increased by the
 * validations run. */
int vm_detect_scan(const struct vm_dset *d, struct vm_dscan *s,
		   const char *text, size_t len, vm_finding_fn fn, void *ctx,
		   uint64_t *work);

#endif

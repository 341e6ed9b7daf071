/* alloc.h - the one place scrub's own code allocates memory.
 *
 * Every allocation in dsl/, compiler/, vm/ and runtime/ goes through these
 * wrappers so that tests can make the Nth allocation fail and check that
 * each failure path is handled (no crash, no leak, nothing emitted
 * unscrubbed). Outside tests they are plain malloc/realloc/calloc.
 */
#ifndef SCRUB_ALLOC_H
#define SCRUB_ALLOC_H

#include <stddef.h>

void *scrub_malloc(size_t n);
void *scrub_calloc(size_t count, size_t size);
void *scrub_realloc(void *p, size_t n);
char *scrub_strndup(const char *s, size_t n);

/* Test hook: make allocation number `n` (counting from 1 after this call)
 * and every later one fail; 0 turns injection off. Returns how many
 * allocations were made since the previous call. */
unsigned long scrub_alloc_fail_after(unsigned long n);

#endif

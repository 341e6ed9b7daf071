/* alloc.c - allocation wrappers with an opt-in failure injector. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Both counters are only ever non-zero in tests; atomics keep the
 * injector safe when a test runs worker threads. */
static atomic_ulong alloc_count;
static atomic_ulong alloc_fail_at;

static int should_fail(void)
{
	unsigned long at = atomic_load_explicit(&alloc_fail_at,
						memory_order_relaxed);
	unsigned long n = atomic_fetch_add_explicit(&alloc_count, 1,
						    memory_order_relaxed) + 1;

	return at != 0 && n >= at;
}

void *scrub_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *scrub_calloc(size_t count, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
}

void *scrub_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

char *scrub_strndup(const char *s, size_t n)
{
	char *p = scrub_malloc(n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

unsigned long scrub_alloc_fail_after(unsigned long n)
{
	unsigned long made = atomic_exchange(&alloc_count, 0);

	atomic_store(&alloc_fail_at, n);
	return made;
}

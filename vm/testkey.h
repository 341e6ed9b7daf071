/* testkey.h - the fixed pseudonymization key of policy tests.
 *
 * `scrubc test` and `scrubc explain` key pseudonyms with this public
 * string, so that a test's expected pseudonyms are the same on every
 * machine and never depend on a secret. Because it is public, the hosts
 * that scrub real events (`scrub run`, the Lambda) refuse it as a key:
 * a production run can never end up keyed like a test.
 */
#ifndef SCRUB_TESTKEY_H
#define SCRUB_TESTKEY_H

#include <stddef.h>
#include <string.h>

#define VM_TEST_KEY "scrubc-test-key: public, for policy tests only"

static inline int vm_key_is_test(const void *key, size_t len)
{
	return len == sizeof VM_TEST_KEY - 1 &&
	       memcmp(key, VM_TEST_KEY, len) == 0;
}

#endif

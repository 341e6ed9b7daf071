/* key.h - the pseudonymization key a host reads (`scrub run`, the
 * Lambda): from a file or from an environment variable, never both.
 *
 * The library never prints: vm_key_load says what went wrong, and the
 * host words it in its own terms (--key-file or SCRUB_KEY_FILE).
 */
#ifndef SCRUB_KEY_H
#define SCRUB_KEY_H

#include "buf.h"

/* Keys shorter than this are weak for HMAC-SHA256 (below 128 bits even
 * when random): hosts warn about them, they do not refuse them. */
#define VM_KEY_WARN_BYTES 16

/* vm_key_load's results. */
enum vm_key_status {
	VM_KEY_NONE,	/* neither a file nor the variable: no key */
	VM_KEY_OK,	/* the key is in the buffer */
	VM_KEY_BOTH,	/* both given: which would win is not guessed */
	VM_KEY_OPEN,	/* the file cannot be opened: errno */
	VM_KEY_READ,	/* the file cannot be read: errno (EFBIG past the
			 * buffer's limit, buf_failed then true) */
	VM_KEY_EMPTY,	/* the key has no bytes */
	VM_KEY_TEST,	/* it is scrubc test's public key (testkey.h) */
};

/* Put the key into `key`: the bytes of file `file`, without one trailing
 * "\n" or "\r\n", or else `env`, the variable's value. Either may be NULL.
 * The caller wipes `key` (it may hold a key whatever the result). */
enum vm_key_status vm_key_load(const char *file, const char *env,
			       struct buf *key);

#endif

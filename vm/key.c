/* key.c - the pseudonymization key a host reads (see key.h). */
#include "key.h"

#include "file.h"
#include "testkey.h"

enum vm_key_status vm_key_load(const char *file, const char *env,
			       struct buf *key)
{
	int rc;

	if (file != NULL && env != NULL)
		return VM_KEY_BOTH;
	if (file == NULL && env == NULL)
		return VM_KEY_NONE;
	if (env != NULL) {
		buf_puts(key, env);
	} else {
		rc = vm_file_read(file, 0, key);
		if (rc != 0)
			return rc == VM_FILE_OPEN ? VM_KEY_OPEN : VM_KEY_READ;
		/* An editor's (or echo's) line end is not part of the key:
		 * the same bytes in a file and in the variable. */
		if (key->len && key->data[key->len - 1] == '\n')
			key->len--;
		if (key->len && key->data[key->len - 1] == '\r')
			key->len--;
	}
	if (key->len == 0)
		return VM_KEY_EMPTY;
	return vm_key_is_test(key->data, key->len) ? VM_KEY_TEST : VM_KEY_OK;
}

/* internal.h - what the files of libscrub share, behind scrub.h. */
#ifndef SCRUB_RUNTIME_INTERNAL_H
#define SCRUB_RUNTIME_INTERNAL_H

#include <stddef.h>

#include "../vm/program.h"

struct scrub_program {
	struct vm_program *vm;
};

/* Format an error message into the caller's buffer, if it gave one. */
void scrub_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

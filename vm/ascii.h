/* ascii.h - character classes that never depend on the locale.
 *
 * <ctype.h> answers by the process's locale and is undefined for
 * negative chars; event bytes must be classified the same on every
 * host, so the VM uses these.
 */
#ifndef SCRUB_ASCII_H
#define SCRUB_ASCII_H

static inline int vm_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

#endif

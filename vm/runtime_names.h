/* runtime_names.h - names shared by the compiler and the hosts.
 *
 * Hosts without a command line (the Lambda) take a policy parameter NAME
 * from the environment variable SCRUB_<NAME in upper case>. The hosts' own
 * settings live in the same namespace, so a parameter may not take one of
 * their names: the compiler refuses it.
 */
#ifndef SCRUB_RUNTIME_NAMES_H
#define SCRUB_RUNTIME_NAMES_H

#include <stddef.h>
#include <strings.h>

static const char *const scrub_runtime_settings[] = {
	"KEY", "KEY_FILE", "POLICY", "ON_REJECT", "MAX_BATCH", "LOG_LEVEL",
	"MAX_DEPTH", "MAX_VALUES", "MAX_MEMORY", "MAX_OUTPUT", "MAX_STEPS",
	"MAX_RESPONSE", NULL,
};

/* The setting a parameter named `name` would collide with, or NULL. */
static inline const char *scrub_runtime_name(const char *name)
{
	for (size_t i = 0; scrub_runtime_settings[i]; i++)
		if (strcasecmp(name, scrub_runtime_settings[i]) == 0)
			return scrub_runtime_settings[i];
	return NULL;
}

#endif

/* fields.h - the field report: what a policy does to each field.
 *
 * Without a schema the fields are those the policy's actions name, plus
 * "every other field". With a schema they are the fields the schema
 * describes (arrays as [*]), plus those the policy adds. Each gets a
 * class, computed statement by statement the way the policy runs:
 *
 *   passes       reaches the output unchanged, and nothing said so
 *   kept         reaches it unchanged, on a keep allowlist
 *   transformed  set to a constant, moved or copied by the policy, or
 *                cut short (truncate to N: the first N characters stay)
 *   redacted     masked, pseudonymized, tokenized, truncated to a network
 *                prefix, replaced, generalized (round, bucket), shifted,
 *                or scanned by a redact that names the field
 *   removed      deleted, or off a keep allowlist
 *   dropped      no event of the schema gets through the policy
 *
 * A rule's condition is decided from the schema where it can be (its
 * source, detail-type and other fixed values, and which fields exist);
 * where it cannot, the rule's effects are conditional: `best` is the
 * class when they happen, `worst` when they do not. What can leak is
 * `worst`. Where a path may or may not reach a field (an index, a
 * wildcard the report cannot decide), the field's class is left alone
 * and a note says "maybe". A redact or a regex replace through a
 * wildcard (and round or bucket there, on a field that may be a string)
 * only changes what it finds: a note says "filtered", the class stays.
 */
#ifndef SCRUB_CC_FIELDS_H
#define SCRUB_CC_FIELDS_H

#include <stddef.h>

#include "cc.h"
#include "schema.h"

enum cc_fclass {
	CC_F_PASSES,
	CC_F_KEPT,
	CC_F_TRANSFORMED,
	CC_F_REDACTED,
	CC_F_REMOVED,
	CC_F_DROPPED,
};

struct cc_field {
	struct dsl_path *path;	/* where it is in the output; NULL for
				 * "every other field" */
	unsigned types;		/* from the schema: CC_T_*; 0: unknown */
	enum cc_fclass best, worst;
	struct buf how;		/* what the policy does to it, joined
				 * by "; " */
	int added;		/* made by the policy (set, copy) */
};

struct cc_fields {
	struct cc_field *v;
	size_t n, cap;
	struct dsl_arena arena;
	const struct cc_schema *schema;
	int failed;		/* out of memory */
};

/* The report of checked policy `c` for `schema` (or NULL). Returns 0, or
 * -1 when out of memory. Free with cc_fields_free() either way. */
int cc_fields(struct cc *c, const struct cc_schema *schema,
	      struct cc_fields *out);
void cc_fields_free(struct cc_fields *f);

const char *cc_fclass_name(enum cc_fclass k);

#endif

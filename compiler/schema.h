/* schema.h - the shape of an event type, for checking a policy's paths
 * and for the field report.
 *
 * A schema comes from a JSON Schema document or from an EventBridge
 * schema-registry export (OpenAPI 3: the event is
 * components.schemas.AWSEvent, its detail a $ref to another schema).
 * Either becomes one tree of fields. References are resolved, allOf,
 * anyOf and oneOf merged, so a tool only ever walks the tree.
 *
 * An object that lists its properties is taken to have exactly those
 * fields, unless it says `additionalProperties` (true or a schema) or has
 * `patternProperties`: a schema documents the event, and a path it does
 * not know is most likely a typo. An object without `properties` may
 * hold anything.
 *
 * Ownership: everything lives in the schema's arena; cc_schema_free()
 * releases it.
 */
#ifndef SCRUB_CC_SCHEMA_H
#define SCRUB_CC_SCHEMA_H

#include <stddef.h>

#include "../dsl/ast.h"

/* JSON types a field may have; 0 means any. */
enum {
	CC_T_NULL = 1,
	CC_T_BOOL = 2,
	CC_T_NUMBER = 4,
	CC_T_STRING = 8,
	CC_T_ARRAY = 16,
	CC_T_OBJECT = 32,
};

struct cc_snode {
	const char *name;	/* member name, decoded; NULL for the root
				 * and for array items */
	size_t len;
	unsigned types;		/* CC_T_*; 0: the schema does not say */
	int open;		/* object: may have members not listed */
	struct cc_snode *members;	/* object: listed members, in order */
	struct cc_snode *next;		/* next member of the parent */
	struct cc_snode *items;		/* array: its elements */
	const char **values;	/* the only strings it can be (const, enum,
				 * x-amazon-events-*), or NULL */
	size_t nvalues;
};

struct cc_schema {
	char *file;
	struct dsl_arena arena;
	struct cc_snode *root;
	size_t nnodes;
};

/* Load `path`. Returns 0, or -1 with `err` saying why (with position). */
int cc_schema_load(const char *path, struct cc_schema **out, char *err,
		   size_t errlen);
void cc_schema_free(struct cc_schema *s);

/* Where a path leads in a schema. */
enum cc_slook {
	CC_S_MISSING,		/* no event of the schema has it */
	CC_S_OPEN,		/* beyond what the schema describes */
	CC_S_FOUND,
};

struct cc_slookup {
	enum cc_slook status;
	size_t seg;		/* MISSING: the first segment not there */
	const struct cc_snode *node;	/* FOUND: the field; MISSING: the
					 * object that lacks segment `seg` */
};

/* Look up the first `nsegs` segments of `p`. With `through_arrays`, a
 * name applied to an array looks inside its elements, the way event
 * patterns read arrays of objects. Wildcards find the best of their
 * branches. */
void cc_schema_lookup(const struct cc_schema *s, const struct dsl_seg *segs,
		      size_t nsegs, int through_arrays,
		      struct cc_slookup *out);

/* The member of `n` named closest to name[0..len), for a hint. */
const char *cc_schema_nearest(const struct cc_snode *n, const char *name,
			      size_t len);

#endif

/* check_loader.c - the bytecode file format and the verifier: every kind
 * of malformed program is refused with a message saying where and why,
 * and no mutation of a valid program crashes the loader or the VM. */
#include <check.h>
#include <glob.h>
#include <xxhash.h>

#include "../../compiler/emit.h"
#include "../../vm/program.h"
#include "../../vm/vm.h"
#include "helpers.h"
#include "mutate.h"

/* A tiny assembler: a program with a string, a number, a plain path and
 * a pattern path, whose code the test writes. */
struct asm_prog {
	struct cc_emit e;
	uint32_t str, num, path, ppath, deep, plist;
};

static void asm_begin(struct asm_prog *a)
{
	static const char *const keys[] = { "k" };
	static const size_t lens[] = { 1 };
	struct dsl_seg seg = { SEG_KEY, "k", 1, 0, { 0, 0, 0 } };
	struct dsl_seg deep = { SEG_DEEP, NULL, 0, 0, { 0, 0, 0 } };
	struct dsl_path p = { &seg, 1, { 0, 0, 0 } };
	struct dsl_path d = { &deep, 1, { 0, 0, 0 } };

	cc_emit_init(&a->e);
	a->e.name = cc_string(&a->e, "asm", 3);
	a->e.file = cc_file(&a->e, "asm.scrub");
	a->e.line = 1;
	a->str = cc_string(&a->e, "reason", 6);
	a->num = cc_const(&a->e, VM_K_NUMBER, "5", 1);
	a->path = cc_path(&a->e, &p, VM_PATH_PLAIN);
	a->ppath = cc_pattern_path(&a->e, keys, lens, 1);
	a->deep = cc_path(&a->e, &d, VM_PATH_PLAIN);
	a->plist = cc_words(&a->e, VM_K_PATHLIST, &a->path, 1);
}

/* Finish, load, and return the loader's message ("" when it loaded). */
static const char *asm_load(struct asm_prog *a, char *msg, size_t n)
{
	struct buf out;
	struct vm_error err;
	struct vm_program *p;

	buf_init(&out, 8u << 20);
	ck_assert_int_eq(cc_emit_write(&a->e, &out), 0);
	p = vm_load(out.data, out.len, &err);
	snprintf(msg, n, "%s", p ? "" : err.msg);
	vm_program_free(p);
	buf_free(&out);
	cc_emit_free(&a->e);
	return msg;
}

static void raw(struct asm_prog *a, const void *bytes, size_t n)
{
	buf_put(&a->e.code, bytes, n);
}

START_TEST(test_minimal_program_loads)
{
	struct asm_prog a;
	char msg[256];

	asm_begin(&a);
	cc_op(&a.e, OP_HALT);
	ck_assert_str_eq(asm_load(&a, msg, sizeof msg), "");
}
END_TEST

/* Regression: constants were interned by scanning the table, so a policy
 * with 200,000 values in an `in` list took 40 s to compile. They are found
 * by hash now; what is shared, and each index, must stay as before. */
START_TEST(test_constants_interned)
{
	enum { N = 100000 };
	struct cc_emit e;
	char s[16];
	uint32_t mine, empty;

	cc_emit_init(&e);
	for (uint32_t i = 0; i < N; i++) {
		int n = snprintf(s, sizeof s, "v%u", i);

		ck_assert_uint_eq(cc_string(&e, s, (size_t)n), i);
	}
	for (uint32_t i = 0; i < N; i += 997) {
		int n = snprintf(s, sizeof s, "v%u", i);

		ck_assert_uint_eq(cc_string(&e, s, (size_t)n), i);
	}
	/* The same bytes as another kind are another constant. */
	ck_assert_uint_eq(cc_const(&e, VM_K_NUMBER, "v7", 2), N);
	ck_assert_uint_eq(cc_const(&e, VM_K_NUMBER, "v7", 2), N);
	/* A parameter's own constant is never shared, either way. */
	mine = cc_const_unique(&e, VM_K_STRING, "v8", 2);
	ck_assert_uint_eq(mine, N + 1);
	ck_assert_uint_eq(cc_string(&e, "v8", 2), 8);
	ck_assert_uint_eq(cc_const_unique(&e, VM_K_STRING, "v8", 2), N + 2);
	empty = cc_string(&e, "", 0);
	ck_assert_uint_eq(empty, N + 3);
	ck_assert_uint_eq(cc_string(&e, "", 0), empty);
	ck_assert_uint_eq(e.nconsts, N + 4);
	ck_assert_int_eq(e.failed, 0);
	cc_emit_free(&e);
}
END_TEST

/* Each builds code that the verifier must refuse with this message. */
static void v_unknown(struct asm_prog *a)
{
	raw(a, "\xee", 1);
}

static void v_truncated(struct asm_prog *a)
{
	raw(a, (char[]){ OP_DROP, 0, 0 }, 3);
}

static void v_path_range(struct asm_prog *a)
{
	cc_op(&a->e, OP_EXISTS, 99u);
	cc_op(&a->e, OP_HALT);
}

static void v_const_kind(struct asm_prog *a)
{
	cc_op(&a->e, OP_DROP, a->num);
}

static void v_const_range(struct asm_prog *a)
{
	cc_op(&a->e, OP_PUSH, 1000u);
	cc_op(&a->e, OP_HALT);
}

static void v_jump_range(struct asm_prog *a)
{
	cc_op(&a->e, OP_JUMP, 0xfffffff0u);
	cc_op(&a->e, OP_HALT);
}

static void v_jump_middle(struct asm_prog *a)
{
	cc_op(&a->e, OP_JUMP, 2u);
	cc_op(&a->e, OP_DROP, a->str);
	cc_op(&a->e, OP_HALT);
}

static void v_underflow(struct asm_prog *a)
{
	cc_op(&a->e, OP_EQ);
	cc_op(&a->e, OP_HALT);
}

static void v_overflow(struct asm_prog *a)
{
	for (int i = 0; i < 65; i++)
		cc_op(&a->e, OP_BOOL, 1u);
	cc_op(&a->e, OP_HALT);
}

static void v_slot_type(struct asm_prog *a)
{
	cc_op(&a->e, OP_LOAD, a->path);
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_action_stack(struct asm_prog *a)
{
	cc_op(&a->e, OP_BOOL, 1u);
	cc_op(&a->e, OP_DELETE, a->plist);
	cc_op(&a->e, OP_HALT);
}

static void v_unreachable(struct asm_prog *a)
{
	cc_op(&a->e, OP_DROP, a->str);
	cc_op(&a->e, OP_HALT);
}

static void v_off_end(struct asm_prog *a)
{
	cc_op(&a->e, OP_DELETE, a->plist);
}

/* DELETE takes its paths as a list now: a path index is refused. */
static void v_delete_path(struct asm_prog *a)
{
	cc_op(&a->e, OP_DELETE, a->path);
	cc_op(&a->e, OP_HALT);
}

static void v_merge(struct asm_prog *a)
{
	/* The jump reaches pc 20 with one slot, the fall-through two. */
	cc_op(&a->e, OP_BOOL, 1u);
	cc_op(&a->e, OP_JUMP_TRUE_KEEP, 10u);
	cc_op(&a->e, OP_BOOL, 0u);
	cc_op(&a->e, OP_BOOL, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_match_path(struct asm_prog *a)
{
	uint32_t w[4] = { VM_MATCH_EXISTS, 1, VM_NONE, VM_NONE };

	cc_op(&a->e, OP_MATCH, a->path, cc_words(&a->e, VM_K_MATCHER, w, 1));
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_set_deep(struct asm_prog *a)
{
	cc_op(&a->e, OP_SET, a->deep, a->num);
	cc_op(&a->e, OP_HALT);
}

static void v_pseudo_len(struct asm_prog *a)
{
	cc_op(&a->e, OP_PSEUDONYMIZE, a->path, 0u, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_else_mode(struct asm_prog *a)
{
	cc_op(&a->e, OP_PSEUDONYMIZE, a->path, 8u, 7u);
	cc_op(&a->e, OP_HALT);
}

static void v_bad_matcher(struct asm_prog *a)
{
	uint32_t w[4] = { 99, 0, 0, 0 };

	cc_op(&a->e, OP_MATCH, a->ppath, cc_words(&a->e, VM_K_MATCHER, w, 1));
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

/* Regression: a numeric bound outside numeric matching's range (here
 * infinite) passed the verifier, and its conversion to an integer was
 * undefined behaviour (found by review). */
static void v_numeric_bound(struct asm_prog *a, const char *bound)
{
	uint32_t w[4] = { VM_MATCH_NUMERIC, VM_NUM_GT | VM_NUM_NONE << 8,
			  cc_const(&a->e, VM_K_NUMBER, bound, strlen(bound)),
			  VM_NONE };

	cc_op(&a->e, OP_MATCH, a->ppath, cc_words(&a->e, VM_K_MATCHER, w, 1));
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_numeric_bound_inf(struct asm_prog *a)
{
	v_numeric_bound(a, "1e99999");
}

static void v_numeric_bound_big(struct asm_prog *a)
{
	v_numeric_bound(a, "5000000000.5");
}

/* A PATTERN tree: the root OBJ with one FIELD k, its words given. */
static void pattern_tree(struct asm_prog *a, uint32_t root_key,
			 uint32_t nkids, uint32_t field_kind)
{
	uint32_t m[4] = { VM_MATCH_EXISTS, 1, VM_NONE, VM_NONE };
	uint32_t k = cc_string(&a->e, "k", 1);
	uint32_t w[6] = { VM_PT_OBJ, root_key, nkids, field_kind, k,
			  cc_words(&a->e, VM_K_MATCHER, m, 1) };

	cc_op(&a->e, OP_PATTERN, a->ppath, cc_words(&a->e, VM_K_PATTERN, w,
						     6));
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

/* Regression: a matcher naming a list stored after it was checked
 * before the list's own items were, and read a constant out of range
 * (found by review; ASan showed the read). */
static void v_matcher_later_list(struct asm_prog *a)
{
	uint32_t bad = 999;
	uint32_t w[4] = { VM_MATCH_BUT_PREFIX, 0, VM_NONE, VM_NONE };
	uint32_t m;

	w[1] = a->e.nconsts + 1;
	m = cc_words(&a->e, VM_K_MATCHER, w, 1);
	cc_words(&a->e, VM_K_LIST, &bad, 1);
	cc_op(&a->e, OP_MATCH, a->ppath, m);
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_tree_ok(struct asm_prog *a)
{
	pattern_tree(a, VM_NONE, 1, VM_PT_FIELD);
}

static void v_tree_root_key(struct asm_prog *a)
{
	pattern_tree(a, a->str, 1, VM_PT_FIELD);
}

static void v_tree_count(struct asm_prog *a)
{
	pattern_tree(a, VM_NONE, 2, VM_PT_FIELD);
}

static void v_tree_kind(struct asm_prog *a)
{
	pattern_tree(a, VM_NONE, 1, 9);
}

static void v_tree_path(struct asm_prog *a)
{
	cc_op(&a->e, OP_ARRAYS, a->path);
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_redact_set(struct asm_prog *a)
{
	cc_op(&a->e, OP_REDACT, a->path, 1u << 30, 0u, 0u, 0u, a->str, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_redact_text(struct asm_prog *a)
{
	cc_op(&a->e, OP_REDACT, a->path, 1u, 0u, 0u, 0u, VM_NONE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_redact_unkeyed(struct asm_prog *a)
{
	cc_op(&a->e, OP_REDACT, a->path, 1u, (uint32_t)VM_REDACT_FAKE, 0u,
	      0u, VM_NONE, 0u);
	cc_op(&a->e, OP_HALT);
	/* Crafted: the emitter asks for the key, a forger need not. */
	a->e.flags &= ~(uint32_t)VM_META_NEEDS_KEY;
}

static void v_round_step(struct asm_prog *a)
{
	cc_op(&a->e, OP_ROUND, a->path, cc_const(&a->e, VM_K_NUMBER, "-1", 2),
	      0u);
	cc_op(&a->e, OP_HALT);
}

static void v_shift_days(struct asm_prog *a)
{
	cc_op(&a->e, OP_SHIFT_DATE, a->path, 0u, a->path, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_tokenize_id(struct asm_prog *a)
{
	cc_op(&a->e, OP_TOKENIZE, a->path, VM_NONE,
	      cc_string(&a->e, "k-1", 3), 26u, 0u);
	cc_op(&a->e, OP_HALT);
}

/* Parameters: the assembler's programs get one or two. */
static uint32_t add_param(struct asm_prog *a, uint32_t value, uint32_t flags,
			  double min, double max)
{
	struct cc_param_entry *e;

	if (a->e.params == NULL)
		a->e.params = calloc(4, sizeof *a->e.params);
	e = &a->e.params[a->e.nparams++];
	e->name = cc_string(&a->e, "p", 1);
	e->value = value;
	e->flags = flags;
	e->min = min;
	e->max = max;
	return value;
}

/* Rename parameter i (add_param names them all "p"). */
static void name_param(struct asm_prog *a, uint32_t i, const char *name,
		       size_t len)
{
	a->e.params[i].name = cc_string(&a->e, name, len);
}

static void v_param_shared(struct asm_prog *a)
{
	uint32_t k = cc_const_unique(&a->e, VM_K_NUMBER, "1", 1);

	add_param(a, k, 0, 0, 0);
	add_param(a, k, 0, 0, 0);
	name_param(a, 1, "q", 1);
	cc_op(&a->e, OP_HALT);
}

/* Regression (review A4): a ROUND step bound to 0 after verification
 * divided by zero; one of 3000 digits overflowed a stack buffer. */
static void v_param_step(struct asm_prog *a)
{
	uint32_t k = cc_const_unique(&a->e, VM_K_NUMBER, "7", 1);

	add_param(a, k, 0, 0, 0);
	cc_op(&a->e, OP_ROUND, a->path, k, 0u);
	cc_op(&a->e, OP_HALT);
}

/* Regression (review A4): hosts bind parameter NAME from SCRUB_<NAME>:
 * one named key received the pseudonymization key (SCRUB_KEY), and
 * could copy it into the event; "key\0x" reached SCRUB_KEY too. */
static void v_param_reserved(struct asm_prog *a)
{
	add_param(a, cc_const_unique(&a->e, VM_K_STRING, "x", 1), 0, 0, 0);
	name_param(a, 0, "Key_File", 8);
	cc_op(&a->e, OP_HALT);
}

static void v_param_name_nul(struct asm_prog *a)
{
	add_param(a, cc_const_unique(&a->e, VM_K_STRING, "x", 1), 0, 0, 0);
	name_param(a, 0, "key\0x", 5);
	cc_op(&a->e, OP_HALT);
}

/* Regression (review A13): set_param bound the last of two equal names;
 * names differing in case share one SCRUB_<NAME>. */
static void v_param_duplicate(struct asm_prog *a)
{
	add_param(a, cc_const_unique(&a->e, VM_K_NUMBER, "1", 1), 0, 0, 0);
	add_param(a, cc_const_unique(&a->e, VM_K_NUMBER, "2", 1), 0, 0, 0);
	add_param(a, cc_const_unique(&a->e, VM_K_NUMBER, "3", 1), 0, 0, 0);
	name_param(a, 0, "rate", 4);
	name_param(a, 1, "other", 5);
	name_param(a, 2, "RATE", 4);
	cc_op(&a->e, OP_HALT);
}

static void v_param_key(struct asm_prog *a)
{
	/* Interned: the same constant as the key of path .k. */
	add_param(a, cc_string(&a->e, "k", 1), 0, 0, 0);
	cc_op(&a->e, OP_HALT);
}

static void v_param_reason(struct asm_prog *a)
{
	uint32_t k = cc_const_unique(&a->e, VM_K_STRING, "why", 3);

	add_param(a, k, 0, 0, 0);
	cc_op(&a->e, OP_DROP, k);
}

static void v_sample_rate(struct asm_prog *a)
{
	uint32_t paths = cc_words(&a->e, VM_K_PATHLIST, &a->path, 1);

	cc_op(&a->e, OP_SAMPLE, cc_const(&a->e, VM_K_NUMBER, "100.5", 5),
	      paths);
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_sample_param(struct asm_prog *a)
{
	uint32_t paths = cc_words(&a->e, VM_K_PATHLIST, &a->path, 1);
	uint32_t k = cc_const_unique(&a->e, VM_K_NUMBER, "5", 1);

	add_param(a, k, VM_PARAM_RANGE, 0, 1000);
	cc_op(&a->e, OP_SAMPLE, k, paths);
	cc_op(&a->e, OP_JUMP_IF_FALSE, 0u);
	cc_op(&a->e, OP_HALT);
}

static void v_pseudo_no_key(struct asm_prog *a)
{
	cc_op(&a->e, OP_PSEUDONYMIZE, a->path, 8u, 0u);
	cc_op(&a->e, OP_HALT);
	a->e.flags &= ~(uint32_t)VM_META_NEEDS_KEY;
}

/* One rule, from the opcode table's KEYED flag, for every keyed op. */
static void v_shift_no_key(struct asm_prog *a)
{
	cc_op(&a->e, OP_SHIFT_DATE, a->path, 10u, a->path, 0u);
	cc_op(&a->e, OP_HALT);
	a->e.flags &= ~(uint32_t)VM_META_NEEDS_KEY;
}

static void v_keep_pattern(struct asm_prog *a)
{
	cc_op(&a->e, OP_KEEP, cc_words(&a->e, VM_K_PATHLIST, &a->ppath, 1));
	cc_op(&a->e, OP_HALT);
}

/* A JSON constant: `depth` arrays one inside the next, the innermost
 * holding `fill` more values. */
static void json_const(struct asm_prog *a, unsigned depth, unsigned fill)
{
	struct buf b;

	buf_init(&b, 8u << 20);
	for (unsigned i = 0; i < depth; i++)
		buf_putc(&b, '[');
	for (unsigned i = 0; i < fill; i++)
		buf_puts(&b, i ? ",0" : "0");
	for (unsigned i = 0; i < depth; i++)
		buf_putc(&b, ']');
	ck_assert(!buf_failed(&b));
	cc_op(&a->e, OP_SET, a->path, cc_const(&a->e, VM_K_JSON, b.data,
						b.len));
	cc_op(&a->e, OP_HALT);
	buf_free(&b);
}

/* Regression (review A11): a constant nested past the limit was "not a
 * JSON array or object"; the compiler now refuses it too. */
static void v_json_nest_ok(struct asm_prog *a)
{
	json_const(a, VM_JSON_MAX_NEST, 0);
}

static void v_json_nest(struct asm_prog *a)
{
	json_const(a, VM_JSON_MAX_NEST + 1, 0);
}

/* The array and its elements: VM_JSON_MAX_VALUES values, then one more. */
static void v_json_values_ok(struct asm_prog *a)
{
	json_const(a, 1, VM_JSON_MAX_VALUES - 1);
}

static void v_json_values(struct asm_prog *a)
{
	json_const(a, 1, VM_JSON_MAX_VALUES);
}

static const struct {
	void (*build)(struct asm_prog *);
	const char *message;
} rejects[] = {
	{ v_json_nest_ok, "" },
	{ v_json_nest, "CONS section, offset 2133: json constant nests "
		       "objects and arrays deeper than 1000 levels" },
	{ v_json_values_ok, "" },
	{ v_json_values, "CONS section, offset 2097284: json constant holds "
			 "more than 1048576 values" },
	{ v_tree_ok, "" },
	{ v_tree_root_key, "CONS section: pattern tree is malformed" },
	{ v_tree_count, "CONS section: pattern tree is malformed" },
	{ v_tree_kind, "CONS section: pattern tree is malformed" },
	{ v_tree_path, "code, pc 0: ARRAYS needs a pattern path" },
	{ v_unknown, "code, pc 0: unknown opcode 0xee" },
	{ v_truncated, "code, pc 0: DROP is truncated" },
	{ v_path_range, "code, pc 0: path 99 out of range" },
	{ v_const_kind, "code, pc 0: constant 3 is not a string" },
	{ v_const_range, "code, pc 0: constant 1000 out of range" },
	{ v_jump_range, "code, pc 0: jump to 4294967285 is out of range or "
			"mid-instruction" },
	{ v_jump_middle, "code, pc 0: jump to 7 is out of range or "
			 "mid-instruction" },
	{ v_underflow, "code, pc 0: EQ: stack underflow" },
	{ v_overflow, "code, pc 320: stack deeper than 64" },
	{ v_slot_type, "code, pc 5: JUMP_IF_FALSE: slot 0 holds values" },
	{ v_action_stack, "code, pc 5: DELETE needs an empty stack" },
	{ v_unreachable, "code, pc 5: unreachable HALT" },
	{ v_off_end, "code, pc 0: DELETE runs off the end of the code" },
	{ v_delete_path, "code, pc 0: constant 0 is not a path list" },
	{ v_merge, "code, pc 15: stack differs where paths meet at pc 20" },
	{ v_match_path, "code, pc 0: MATCH needs a pattern path" },
	{ v_set_deep, "code, pc 0: SET path cannot be written" },
	{ v_pseudo_len, "code, pc 0: PSEUDONYMIZE length 0 is not 1..64" },
	{ v_else_mode, "code, pc 0: bad type-mismatch mode 7" },
	{ v_bad_matcher, "CONS section: matcher entry 0 (kind 99) is "
			 "malformed" },
	{ v_numeric_bound_inf, "CONS section: matcher entry 0 (kind 8) is "
			       "malformed" },
	{ v_numeric_bound_big, "CONS section: matcher entry 0 (kind 8) is "
			       "malformed" },
	{ v_redact_set, "code, pc 0: detector set 0x40000000 is not valid" },
	{ v_redact_text, "code, pc 0: REDACT replacement 0 is not valid" },
	{ v_redact_unkeyed, "code, pc 0: REDACT is keyed but the program "
			    "does not ask for a key" },
	{ v_round_step, "code, pc 0: ROUND step is not positive" },
	{ v_shift_days, "code, pc 0: SHIFT_DATE days 0 is not 1..36500" },
	{ v_tokenize_id, "code, pc 0: TOKENIZE key id or length out of "
			 "range" },
	{ v_matcher_later_list, "CONS section: constant 7: list item 0 is "
				"not a value" },
	{ v_param_shared, "PARM: params 0 and 1 share value constant 6" },
	{ v_param_step, "code, pc 0: constant 6 is a parameter's value" },
	{ v_param_reserved, "PARM section, offset 229: param 0: 'Key_File' "
			    "is reserved for scrub's own settings "
			    "(SCRUB_KEY_FILE)" },
	{ v_param_name_nul, "PARM section, offset 226: param 0: a name is "
			    "letters, digits and '_' only" },
	{ v_param_duplicate, "PARM section, offset 312: params 0 and 2: names "
			     "'rate' and 'RATE' are the same ignoring case" },
	{ v_param_key, "PARM: param 0's value (constant 4) is also a path "
		       "key" },
	{ v_param_reason, "code, pc 0: constant 6 is a parameter's value" },
	{ v_sample_rate, "code, pc 0: SAMPLE rate is not within 0..100" },
	{ v_sample_param, "code, pc 0: SAMPLE rate parameter 0 is not "
			  "limited to 0..100" },
	{ v_pseudo_no_key, "code, pc 0: PSEUDONYMIZE is keyed but the "
			   "program does not ask for a key" },
	{ v_shift_no_key, "code, pc 0: SHIFT_DATE is keyed but the "
			  "program does not ask for a key" },
	{ v_keep_pattern, "CONS section: constant 6: path list item 0 is a "
			  "pattern path" },
};

START_TEST(test_verifier_rejects)
{
	struct asm_prog a;
	char msg[256];

	asm_begin(&a);
	rejects[_i].build(&a);
	ck_assert_str_eq(asm_load(&a, msg, sizeof msg), rejects[_i].message);
}
END_TEST

/* ---- crafted programs that load ------------------------------------------ */

/* Finish, load and run one event: "emit: JSON", "drop: REASON" or
 * "reject: CODE: MESSAGE". */
static const char *asm_run(struct asm_prog *a, const char *event, char *out,
			   size_t n)
{
	struct buf code;
	struct vm_error err;
	struct vm_program *p;
	struct vm_limits lim;
	struct vm_exec *ex;
	struct vm_outcome o;

	buf_init(&code, 1u << 20);
	ck_assert_int_eq(cc_emit_write(&a->e, &code), 0);
	p = vm_load(code.data, code.len, &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	vm_limits_default(&lim);
	ex = vm_exec_new(p, &lim);
	ck_assert_ptr_nonnull(ex);
	switch (vm_run(ex, event, strlen(event), &o)) {
	case VM_EMIT:
		snprintf(out, n, "emit: %.*s", (int)o.out_len, o.out);
		break;
	case VM_DROP:
		snprintf(out, n, "drop: %s", o.reason);
		break;
	case VM_REJECT:
		snprintf(out, n, "reject: %s: %s", o.code, o.message);
		break;
	}
	vm_exec_free(ex);
	vm_program_free(p);
	buf_free(&code);
	cc_emit_free(&a->e);
	return out;
}

/* Regression (review A2): a step the compiler never writes, with 100
 * zeros after the point, overflowed an 80-byte buffer printing 0. */
static void r_round_tiny_step(struct asm_prog *a)
{
	cc_op(&a->e, OP_ROUND, a->path,
	      cc_const(&a->e, VM_K_NUMBER, "1e-100", 6), 0u);
	cc_op(&a->e, OP_HALT);
}

#define Z10 "0000000000"

static const struct {
	void (*build)(struct asm_prog *);
	const char *event, *expect;
} crafted[] = {
	{ r_round_tiny_step, "{\"k\":0}",
	  "emit: {\"k\":0." Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 Z10 "}" },
	{ r_round_tiny_step, "{\"k\":-0.5}",
	  "reject: type_mismatch: round: the value at .k is too large to "
	  "round exactly" },
};

START_TEST(test_crafted_runs)
{
	struct asm_prog a;
	char out[512];

	asm_begin(&a);
	crafted[_i].build(&a);
	ck_assert_str_eq(asm_run(&a, crafted[_i].event, out, sizeof out),
			 crafted[_i].expect);
}
END_TEST

/* ---- the file header ----------------------------------------------------- */

static void valid_file(struct buf *out)
{
	struct asm_prog a;

	asm_begin(&a);
	cc_op(&a.e, OP_HALT);
	buf_init(out, 1u << 20);
	ck_assert_int_eq(cc_emit_write(&a.e, out), 0);
	cc_emit_free(&a.e);
}

static void reseal(struct buf *b)
{
	mutate_reseal((unsigned char *)b->data, b->len);
}

static const char *load_msg(const struct buf *b, char *msg, size_t n)
{
	struct vm_error err;
	struct vm_program *p = vm_load(b->data, b->len, &err);

	snprintf(msg, n, "%s", p ? "" : err.msg);
	vm_program_free(p);
	return msg;
}

START_TEST(test_header)
{
	struct buf b;
	char msg[256];

	valid_file(&b);
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg), "");

	b.data[0] = 'X';
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg),
			 "not a scrub bytecode file (bad magic)");
	b.data[0] = 'S';

	/* Format 1 had DELETE take one path; 2 takes a path list. */
	b.data[4] = 1;
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg), "bytecode format 1.0 "
			 "is not supported (this build reads 2.0 to 2.0)");
	b.data[4] = 2;

	b.data[8] = 1;
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg),
			 "reserved header flags 0x1 are set");
	b.data[8] = 0;

	b.data[b.len - 1] ^= 1;
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg),
			 "checksum mismatch: the file is corrupt");
	b.data[b.len - 1] ^= 1;

	b.len -= 3;
	ck_assert_msg(strstr(load_msg(&b, msg, sizeof msg), "truncated or "
			     "padded") != NULL, "%s", msg);
	b.len = 10;
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg), "file is 10 bytes, "
			 "too short for the 24-byte header (truncated)");
	b.len = 3;
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg),
			 "not a scrub bytecode file (bad magic)");
	buf_free(&b);
}
END_TEST

START_TEST(test_section_order)
{
	struct buf b;
	char msg[256];

	valid_file(&b);
	/* Rename META: the first section is now unknown. */
	b.data[VM_HEADER_SIZE] = 'X';
	reseal(&b);
	ck_assert_str_eq(load_msg(&b, msg, sizeof msg), "body section, "
			 "offset 32: expected section META, found unknown");
	buf_free(&b);
}
END_TEST

/* ---- every policy in the repository, whole and damaged ------------------ */

static glob_t policies;

static void find_policies(void)
{
	static const char *const where[] = {
		"policies/*.scrub", "tests/e2e/cases/*/*.scrub",
		"tests/diag/*.scrub", "tests/lambda/*.scrub", "bench/*.scrub",
	};

	for (size_t i = 0; i < sizeof where / sizeof *where; i++)
		glob(where[i], i ? GLOB_APPEND : 0, NULL, &policies);
}

/* `scrubc build` output always passes the verifier. */
START_TEST(test_build_output_loads)
{
	unsigned built = 0;

	for (size_t i = 0; i < policies.gl_pathc; i++) {
		struct buf b;
		char msg[256];

		if (compile_file(policies.gl_pathv[i], &b, NULL) == 0) {
			ck_assert_msg(load_msg(&b, msg, sizeof msg)[0] == '\0',
				      "%s: %s", policies.gl_pathv[i], msg);
			built++;
		}
		buf_free(&b);
	}
	/* Every e2e case and example compiles; a few diag files do too. */
	ck_assert_uint_ge(built, 28);
}
END_TEST

/* Events the mutants run on: the examples' events and a few odd ones. */
static struct buf events;
static size_t nevents;

static void load_events(void)
{
	static const char *const files[] = {
		"policies/examples/orders-to-stage.events.ndjson",
		"policies/examples/seed-fin-transactions.events.ndjson",
	};
	static const char extra[] =
		"{}\n"
		"{\"detail\":{\"customer\":{\"email\":5,\"ip\":[1,{}]},"
		"\"items\":[[[]]],\"card\":\"4111 1111 1111 1111\"}}\n"
		"{\"source\":\"com.example.orders\",\"detail\":null}\n";
	char chunk[4096];
	size_t n;

	buf_init(&events, 1u << 20);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		FILE *f = fopen(files[i], "rb");

		/* Before the suite runs: Check's asserts do not work yet. */
		if (f == NULL) {
			perror(files[i]);
			exit(1);
		}
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_put(&events, chunk, n);
		fclose(f);
	}
	buf_puts(&events, extra);
	for (size_t i = 0; i < events.len; i++)
		nevents += events.data[i] == '\n';
}

/* Load a mutant; if the verifier passes it, it must run each event to
 * a proper outcome (ASan and valgrind see any harm on the way). */
static void try_mutant(const unsigned char *b, size_t len, unsigned *loaded,
		       unsigned *refused)
{
	struct vm_limits lim = { 64, 4096, 1u << 16, 1u << 16, 100000 };
	struct vm_error err;
	struct vm_program *p = vm_load(b, len, &err);
	struct vm_exec *ex;
	const char *ev = events.data;

	if (p == NULL) {
		ck_assert(err.msg[0] != '\0');
		(*refused)++;
		return;
	}
	(*loaded)++;
	vm_program_set_key(p, "k", 1);
	ex = vm_exec_new(p, &lim);
	ck_assert_ptr_nonnull(ex);
	for (size_t e = 0; e < nevents; e++) {
		const char *nl = strchr(ev, '\n');
		struct vm_outcome o;

		switch (vm_run(ex, ev, (size_t)(nl - ev), &o)) {
		case VM_EMIT:
			ck_assert(o.out_len > 0 && o.out_len <= lim.max_output);
			break;
		case VM_DROP:
			ck_assert_ptr_nonnull(o.reason);
			break;
		case VM_REJECT:
			ck_assert(o.code != NULL && o.message[0] != '\0');
			break;
		}
		ev = nl + 1;
	}
	vm_exec_free(ex);
	vm_program_free(p);
}

/* Damage policy _i in every way mutate.h knows: a flip of every body
 * byte, a cut at every length, and 1000 each of random inserts, deletes,
 * word swaps and boundary words. Each mutant is refused or runs without
 * harm. SCRUB_MUTANTS=N makes it N random mutants of every kind instead
 * (the valgrind run uses few). */
START_TEST(test_mutations)
{
	const char *path = policies.gl_pathv[_i];
	const char *env = getenv("SCRUB_MUTANTS");
	size_t extra = env ? (size_t)strtoul(env, NULL, 10) : 1000;
	unsigned loaded = 0, refused = 0, total = 0;
	uint64_t rng = 0x5eed0000u + (uint64_t)_i;
	struct buf good;
	unsigned char *b;
	size_t body, len;

	if (compile_file(path, &good, NULL) != 0) {
		buf_free(&good);
		return;
	}
	b = malloc(good.len + 1);
	body = good.len - VM_HEADER_SIZE;
	for (int kind = 0; kind < MUT__COUNT; kind++) {
		/* Flips and cuts everywhere, the rest at random. */
		int every = env == NULL &&
			    (kind == MUT_FLIP || kind == MUT_TRUNCATE);
		size_t n = every ? body : extra;

		total += (unsigned)n;
		for (size_t at = 0; at < n; at++) {
			size_t where = every ? at : mutate_rand(&rng);

			memcpy(b, good.data, good.len);
			len = mutate(b, good.len, (enum mutation)kind, where,
				     &rng);
			try_mutant(b, len, &loaded, &refused);
		}
	}
	/* Most damage is caught; some (a constant's text, an operand
	 * within range) gives another valid program. */
	ck_assert_msg(refused > loaded, "%s: %u refused, %u loaded", path,
		      refused, loaded);
	ck_assert_uint_eq(refused + loaded, total);
	free(b);
	buf_free(&good);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *t = tcase_create("verifier");

	tcase_set_timeout(t, 300);
	tcase_add_test(t, test_minimal_program_loads);
	tcase_add_test(t, test_constants_interned);
	tcase_add_loop_test(t, test_crafted_runs, 0,
			    sizeof crafted / sizeof *crafted);
	tcase_add_loop_test(t, test_verifier_rejects, 0,
			    sizeof rejects / sizeof *rejects);
	tcase_add_test(t, test_header);
	tcase_add_test(t, test_section_order);
	tcase_add_test(t, test_build_output_loads);
	suite_add_tcase(s, t);

	t = tcase_create("mutations");
	tcase_set_timeout(t, 600);
	tcase_add_loop_test(t, test_mutations, 0, (int)policies.gl_pathc);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	int rc;

	find_policies();
	load_events();
	rc = run_suite(loader_suite());
	buf_free(&events);
	globfree(&policies);
	return rc;
}

/* check_front.c - the front end: tokens, paths, the syntax tree, and the
 * compiler's errors with their exact line and column. */
#include <check.h>

#include "../../dsl/ast.h"
#include "../../vm/bytecode.h"
#include "helpers.h"

static struct dsl_ctx ctx;
static struct dsl_arena arena;

static void setup(void)
{
	dsl_ctx_init(&ctx);
	memset(&arena, 0, sizeof arena);
}

static void teardown(void)
{
	dsl_ctx_free(&ctx);
	dsl_arena_free(&arena);
}

static struct dsl_file *parse(const char *src)
{
	struct dsl_file *f;
	int idx = dsl_add_source(&ctx, "t.scrub", src, strlen(src));

	ck_assert_int_ge(idx, 0);
	ck_assert_uint_eq(dsl_parse(&ctx, &arena, (uint32_t)idx, &f), 0);
	return f;
}

static const char *path_text(const struct dsl_path *p, char *out, size_t n)
{
	struct buf b;

	buf_init(&b, 1024);
	dsl_path_format(p, &b);
	snprintf(out, n, "%.*s", (int)b.len, b.data);
	buf_free(&b);
	return out;
}

/* Paths: as written, and as the compiler prints them back. */
static const struct {
	const char *in, *out;
	size_t segs;
} paths[] = {
	{ ".source", ".source", 1 },
	{ ".detail-type", ".detail-type", 1 },
	{ ".\"detail-type\"", ".detail-type", 1 },
	{ ".detail.\"with space\"", ".detail.\"with space\"", 2 },
	{ ".a[\"b.c\"]", ".a.\"b.c\"", 2 },
	{ ".items[0].sku", ".items[0].sku", 3 },
	{ ".items[-1]", ".items[-1]", 2 },
	{ ".items[*].sku", ".items[*].sku", 3 },
	{ ".detail.*", ".detail.*", 2 },
	{ ".detail.**", ".detail.**", 2 },
	{ ".**.email", ".**.email", 2 },
	{ ".", ".", 0 },
	{ ".[0]", "[0]", 1 },
	{ ".\"caf\\u00e9\"", ".\"café\"", 1 },
};

START_TEST(test_paths)
{
	char src[256], out[256];
	struct dsl_file *f;
	struct dsl_stmt *s;

	snprintf(src, sizeof src, "delete %s", paths[_i].in);
	f = parse(src);
	ck_assert_uint_eq(f->stmts.n, 1);
	s = f->stmts.items[0];
	ck_assert_int_eq(s->kind, ST_DELETE);
	ck_assert_uint_eq(((struct dsl_path *)s->paths.items[0])->n,
			  paths[_i].segs);
	ck_assert_str_eq(path_text(s->paths.items[0], out, sizeof out),
			 paths[_i].out);
}
END_TEST

START_TEST(test_statements)
{
	struct dsl_file *f = parse(
		"policy \"p\" # comment\n"
		"param rate = 10\n"
		"select {\"source\": [\"a\"]}\n"
		"drop \"r\" when .x == 1 and not exists .y\n"
		"sample $rate% by .a, .b\n"
		"rule \"n\" when .z matches /x/i { mask .c keep first 1 "
		"keep last 2 with \"#\" else null }\n"
		"on {\"k\": [1]} { truncate .ip to /24, /48 }\n"
		"replace .t matching /a(b)/ with \"$1\"\n");
	struct dsl_stmt *s;
	struct dsl_opt *o;

	ck_assert_uint_eq(f->stmts.n, 8);
	s = f->stmts.items[0];
	ck_assert_int_eq(s->kind, ST_POLICY);
	ck_assert_str_eq(s->name, "p");
	s = f->stmts.items[1];
	ck_assert_int_eq(s->kind, ST_PARAM);
	ck_assert_str_eq(s->value->text, "10");
	s = f->stmts.items[2];
	ck_assert_int_eq(s->cond->kind, EX_PATTERN);
	ck_assert_str_eq(((struct dsl_json *)s->cond->json->items.items[0])
			 ->key, "source");
	s = f->stmts.items[3];
	ck_assert_str_eq(s->name, "r");
	ck_assert_int_eq(s->cond->kind, EX_AND);
	ck_assert_int_eq(s->cond->b->kind, EX_NOT);
	ck_assert_int_eq(s->cond->b->a->kind, EX_EXISTS);
	s = f->stmts.items[4];
	ck_assert_int_eq(s->rate->kind, EX_PARAM);
	ck_assert_uint_eq(s->paths.n, 2);
	s = f->stmts.items[5];
	ck_assert_int_eq(s->kind, ST_RULE);
	ck_assert_str_eq(s->cond->re->flags, "i");
	s = s->body.items[0];
	ck_assert_uint_eq(s->opts.n, 4);
	o = s->opts.items[1];
	ck_assert_int_eq(o->kind, OPT_KEEP_LAST);
	ck_assert_int_eq(o->num, 2);
	o = s->opts.items[3];
	ck_assert_str_eq(o->word, "null");
	s = f->stmts.items[6];
	ck_assert(s->implicit_name);
	o = ((struct dsl_stmt *)s->body.items[0])->opts.items[0];
	ck_assert_uint_eq(o->value->items.n, 2);
	s = f->stmts.items[7];
	o = s->opts.items[0];
	ck_assert_str_eq(o->re->source, "a(b)");
}
END_TEST

START_TEST(test_strings_and_spans)
{
	struct dsl_file *f = parse("policy \"a\\\"b\\u00e9\\ud83d\\ude42\"\n"
				   "  set .x = -1.5e3\n");
	struct dsl_stmt *s = f->stmts.items[0];
	unsigned line, col;

	ck_assert_str_eq(s->name, "a\"bé🙂");
	s = f->stmts.items[1];
	ck_assert_str_eq(s->value->text, "-1.5e3");
	dsl_line_col(&ctx, 0, s->value->span.start, &line, &col);
	ck_assert_uint_eq(line, 2);
	ck_assert_uint_eq(col, 12);
}
END_TEST

/* The compiler's first error, as "LINE:COL: message". */
static const struct {
	const char *src, *error;
} errors[] = {
	{ "set .x = 1", "1:1: missing 'policy \"NAME\"' header" },
	{ "policy \"p\"\nfrobnicate .x", "2:1: unknown statement "
	  "'frobnicate'" },
	{ "policy \"p\"\nset .x = ", "2:9: expected a value before end of "
	  "file" },
	{ "policy \"p\"\nset .x = \"abc", "2:10: unterminated string" },
	{ "policy \"p\"\nset .x = \"a\\qb\"", "2:12: invalid escape '\\q' in "
	  "string" },
	{ "policy \"p\"\nset .x = \"\\u12\"", "2:11: \\u needs four hex "
	  "digits" },
	{ "policy \"p\"\nset .x = \"\\ud800\\u0041\"", "2:11: lone "
	  "surrogate in string" },
	{ "policy \"p\"\nset .x = \"a\\udc00\"", "2:12: lone surrogate in "
	  "string" },
	{ "policy \"p\"\nset .x = 01", "2:10: invalid number '01'" },
	{ "policy \"p\"\nset .x = 1 @", "2:12: unexpected character '@'" },
	{ "policy \"p\"\ndrop when .a matches /(/", "2:24: invalid regular "
	  "expression: missing closing parenthesis" },
	{ "policy \"p\"\nsample 101% by .id", "2:8: sample rate 101% is "
	  "outside 0..100" },
	{ "policy \"p\"\nparam r = 200\nsample $r% by .id", "2:11: sample "
	  "rate 200 is outside 0..100" },
	{ "policy \"p\"\nsample $nope% by .id", "2:8: unknown parameter "
	  "'$nope'" },
	{ "policy \"p\"\nrule \"a\" {}\nrule \"a\" {}", "3:6: duplicate rule "
	  "name 'a'" },
	{ "policy \"p\"\npolicy \"q\"", "2:1: a second 'policy' header" },
	{ "policy \"p\"\nrule \"a\" { param x = 1 }", "2:12: 'param' belongs "
	  "at the top of a policy, not inside a rule" },
	{ "policy \"p\"\nselect {\"a\": [{\"numeric\": [\">\", \"5\"]}]}",
	  "2:33: numeric compares with a JSON number" },
	{ "policy \"p\"\nselect {\"a\": [[1]]}", "2:15: a pattern value "
	  "cannot be an array inside the field's array" },
	{ "policy \"p\"\nselect {\"a\": [1], \"b\": {}}", "2:24: empty "
	  "objects are not allowed" },
	/* Bug: {} was taken as "match everything"; EventBridge refuses it. */
	{ "policy \"p\"\nselect {}", "2:8: empty objects are not allowed" },
	{ "policy \"p\"\ndrop when .a", "2:13: expected a comparison (==, "
	  "!=, <, <=, >, >=, in, matches) before end of file" },
	{ "policy \"p\"\nmask .a keep last 2 keep last 3", "2:21: 'keep last' "
	  "given twice" },
	{ "policy \"p\"\ndelete .a.**.b.**", "2:8: a path can have at most "
	  "one '**'" },
	{ "policy \"p\"\nparam my-rate = 1", "2:7: parameter names use "
	  "letters, digits and '_' only" },
	{ "policy \"p\"\nparam n = null", "2:11: a parameter's default is a "
	  "string, a number, true or false" },
	{ "policy \"p\"\nset .x = \"\xff\"", "2:11: invalid UTF-8 in policy "
	  "source" },
	{ "policy \"p\"\ndrop when .a in []", "2:17: 'in' needs at least one "
	  "value" },
	/* Bug: a copy into its own source wrote a spurious null. */
	{ "policy \"p\"\ncopy .a to .a.b", "2:12: cannot copy a value "
	  "inside itself" },
	{ "policy \"p\"\ncopy .a[0] to .a[0]", "2:15: cannot copy a value "
	  "onto itself" },
	/* Bug: a rate with more decimals was cut short without a word. */
	{ "policy \"p\"\nsample 33.333% by .id", "2:8: sample rate 33.333% "
	  "has more than two decimals" },
	{ "policy \"p\"\nparam r = 3.851\nsample $r% by .id", "2:11: "
	  "sample rate 3.851 has more than two decimals" },
	/* Bug: SCRUB_RATE set both $rate and $Rate. */
	{ "policy \"p\"\nparam rate = 1\nparam Rate = 2", "3:7: parameter "
	  "'Rate' differs from 'rate' (line 2) only in case; SCRUB_RATE "
	  "would set both" },
	/* Bug: a header that did not parse was also "missing". */
	{ "policy x\nset .x = 1", "1:8: expected a string before 'x'" },
	/* Bug: an unclosed rule lost every statement, the header too. */
	{ "policy \"p\"\nrule \"a\" {\nset .x = 1", "3:11: expected '}' "
	  "before end of file" },
	/* Bug: a byte order mark was an unexpected character. */
	{ "\xef\xbb\xbfpolicy \"p\"\nset .x = 1 @", "2:12: unexpected "
	  "character '@'" },
	{ "policy \"p\"\ndelete detail", "2:8: expected a path before "
	  "'detail'" },
	{ "policy \"p\"\ndelete .2fa", "2:9: a name in a path cannot start "
	  "with a digit" },
	{ "policy \"p\"\ndelete .a.", "2:10: expected a name after '.'" },
	{ "policy \"p\"\ndrop when .a == 1 && .b == 2", "2:19: '&&' is not "
	  "an operator" },
	{ "policy \"p\"\ndrop when .a == 'x'", "2:17: strings are written in "
	  "double quotes" },
	{ "policy \"p\"\nmask .a keep lst 4", "2:14: expected 'first' or "
	  "'last' after 'keep'" },
	{ "policy \"p\"\nmask .a else 1", "2:14: expected 'null', 'delete' "
	  "or 'reject' after 'else'" },
	{ "policy \"p\"\non { set .x = 1 }", "2:4: expected a condition after "
	  "'on'" },
	{ "policy \"p\"\non {}", "2:4: expected a condition after 'on'" },
};

START_TEST(test_errors)
{
	char first[512] = "";
	scrub_program *p = compile_text(errors[_i].src, first, sizeof first);

	ck_assert_ptr_null(p);
	ck_assert_str_eq(first, errors[_i].error);
}
END_TEST

START_TEST(test_all_errors_in_one_run)
{
	static const char src[] = "policy \"p\"\nfoo .a\nmask .c "
				  "length 2\nsample 200% by .x\n";
	struct buf out;
	unsigned n = 0;

	buf_init(&out, 1u << 20);
	ck_assert_int_ne(cc_compile_text(&ctx, "t.scrub", src,
					 sizeof src - 1, &out), 0);
	for (struct dsl_diag *d = ctx.diags; d; d = d->next)
		n += d->severity == DSL_ERROR;
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ctx.errors, 3);
	buf_free(&out);
}
END_TEST

/* One mistake, one error: no follow-on error from what the parser
 * skipped or could not finish (each was two or more before). */
static const char *const single_errors[] = {
	"policy x\nset .x = 1\n",
	"policy \"x\nset .x = 1\n",
	"policy \"p\"\nrule \"a\" {\nset .x = 1\n",
	"\xef\xbb\xbfpolicy \"p\"\n@\n",
	"policy \"p\"\ndrop when .a == 1 || .b == 2\n",
	"policy \"p\"\ndrop when .a == 'x'\n",
	"policy \"p\"\non { set .x = 1 }\n",
	"policy \"p\"\nmask .a else drop\n",
};

START_TEST(test_single_error)
{
	struct buf out;

	buf_init(&out, 1u << 20);
	ck_assert_int_ne(cc_compile_text(&ctx, "t.scrub", single_errors[_i],
					 strlen(single_errors[_i]), &out), 0);
	ck_assert_uint_eq(ctx.errors, 1);
	buf_free(&out);
}
END_TEST

/* gcc's trail before an error in an included file, innermost first. */
START_TEST(test_include_trail)
{
	static const char main_src[] = "policy \"p\"\n\ninclude \"b\"\n";
	static const char b_src[] = "include \"c\"\n";
	int a = dsl_add_source(&ctx, "main.scrub", main_src,
			       sizeof main_src - 1);
	int b = dsl_add_source(&ctx, "b.scrub", b_src, sizeof b_src - 1);
	int c = dsl_add_source(&ctx, "c.scrub", "x\n", 2);
	struct buf text;

	ck_assert_int_ge(c, 0);
	ctx.sources[b].included_from = (struct dsl_span){ (uint32_t)a, 12,
							  19 };
	ctx.sources[c].included_from = (struct dsl_span){ (uint32_t)b, 0,
							  7 };
	dsl_diag(&ctx, DSL_ERROR, (struct dsl_span){ (uint32_t)c, 0, 1 },
		 "syntax", "bad");
	buf_init(&text, 4096);
	dsl_diag_render(&ctx, ctx.diags, &text);
	buf_putc(&text, '\0');
	ck_assert_str_eq(text.data, "In file included from b.scrub:1,\n"
			 "                 from main.scrub:3:\n"
			 "c.scrub:1:1: error: bad\n    1 | x\n      | ^\n");
	buf_free(&text);
}
END_TEST

START_TEST(test_render)
{
	static const char src[] = "policy \"p\"\n\tmask .a lenght 2\n";
	struct buf out, text;

	buf_init(&out, 1u << 20);
	buf_init(&text, 4096);
	ck_assert_int_ne(cc_compile_text(&ctx, "t.scrub", src,
					 sizeof src - 1, &out), 0);
	dsl_diag_render(&ctx, ctx.diags, &text);
	buf_putc(&text, '\0');
	ck_assert_str_eq(text.data, "t.scrub:2:10: error: unknown option or "
			 "statement 'lenght'\n    2 | \tmask .a lenght 2\n"
			 "      | \t        ^~~~~~\nt.scrub:2:10: note: did "
			 "you mean 'length'?\n");
	buf_free(&out);
	buf_free(&text);
}
END_TEST

START_TEST(test_too_many_errors)
{
	struct buf src, out;

	buf_init(&src, 1u << 20);
	buf_init(&out, 1u << 20);
	buf_puts(&src, "policy \"p\"\n");
	for (int i = 0; i < 80; i++)
		buf_puts(&src, "sample 200% by .x\n");
	ck_assert_int_ne(cc_compile_text(&ctx, "t.scrub", src.data, src.len,
					 &out), 0);
	ck_assert_uint_eq(ctx.errors, 80);
	unsigned kept = 0;

	for (struct dsl_diag *d = ctx.diags; d; d = d->next)
		kept++;
	ck_assert_uint_eq(kept, DSL_MAX_ERRORS);
	buf_free(&src);
	buf_free(&out);
}
END_TEST

/* Regression (review A11): `scrubc build` wrote values nested deeper
 * than the loader takes, which then refused the whole program. Each
 * literal is `open`, then `fill` zeros, then `close`: at the limits it
 * compiles to a program that loads (compile_text checks), one past them
 * it is an error at the value. */
static const struct {
	unsigned depth, fill;
	const char *open, *close, *error;
} literals[] = {
	{ VM_JSON_MAX_NEST, 0, "[", "]", "" },
	{ VM_JSON_MAX_NEST + 1, 0, "[", "]", "2:10: this value nests "
	  "objects and arrays deeper than 1000 levels, the most an event may "
	  "have" },
	{ VM_JSON_MAX_NEST / 2, 0, "{\"a\":[", "]}", "" },
	{ VM_JSON_MAX_NEST / 2 + 1, 0, "{\"a\":[", "]}", "2:10: this value "
	  "nests objects and arrays deeper than 1000 levels, the most an "
	  "event may have" },
	{ 1, VM_JSON_MAX_VALUES - 1, "[", "]", "" },
	{ 1, VM_JSON_MAX_VALUES, "[", "]", "2:10: this value holds more "
	  "than 1048576 values, the limit for a literal in a policy" },
	{ 1, VM_JSON_MAX_VALUES - 2, "{\"a\":[", "]}", "" },
	{ 1, VM_JSON_MAX_VALUES - 1, "{\"a\":[", "]}", "2:10: this value "
	  "holds more than 1048576 values, the limit for a literal in a "
	  "policy" },
};

START_TEST(test_literal_limits)
{
	char first[512] = "";
	struct buf src;
	scrub_program *p;

	buf_init(&src, 8u << 20);
	buf_puts(&src, "policy \"p\"\nset .x = ");
	for (unsigned i = 0; i < literals[_i].depth; i++)
		buf_puts(&src, literals[_i].open);
	for (unsigned i = 0; i < literals[_i].fill; i++)
		buf_puts(&src, i ? ",0" : "0");
	for (unsigned i = 0; i < literals[_i].depth; i++)
		buf_puts(&src, literals[_i].close);
	buf_putc(&src, '\0');
	ck_assert(!buf_failed(&src));
	p = compile_text(src.data, first, sizeof first);
	ck_assert_str_eq(first, literals[_i].error);
	ck_assert(literals[_i].error[0] ? p == NULL : p != NULL);
	scrub_program_free(p);
	buf_free(&src);
}
END_TEST

static Suite *front_suite(void)
{
	Suite *s = suite_create("front");
	TCase *t = tcase_create("parse");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, test_paths, 0, sizeof paths / sizeof *paths);
	tcase_add_test(t, test_statements);
	tcase_add_test(t, test_strings_and_spans);
	tcase_add_loop_test(t, test_errors, 0, sizeof errors / sizeof *errors);
	tcase_add_test(t, test_all_errors_in_one_run);
	tcase_add_loop_test(t, test_single_error, 0,
			    sizeof single_errors / sizeof *single_errors);
	tcase_add_test(t, test_include_trail);
	tcase_add_test(t, test_render);
	tcase_add_test(t, test_too_many_errors);
	tcase_add_loop_test(t, test_literal_limits, 0,
			    sizeof literals / sizeof *literals);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(front_suite());
}

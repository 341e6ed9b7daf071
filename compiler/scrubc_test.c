/* scrubc_test.c - `scrubc test POLICY...`: run each policy's own tests.
 *
 * The tests of NAME.scrub are in NAME.tests.json beside it, outside the
 * policy language: a JSON object with
 *
 *   "params"  optional: {"NAME": value, ...} for every case
 *   "cases"   a list of cases, each:
 *     "name"        what the case shows
 *     "input"       the event, or "input_file": a file holding it
 *                   (relative to the tests file)
 *     "params"      optional: parameters of this case (over the file's)
 *     and exactly one expectation:
 *     "output"      the event the policy emits (or "output_file")
 *     "drop"        the reason the policy drops the event with
 *     "reject"      the code the policy rejects the event with
 *
 * Outputs are compared as JSON values: objects by their members (order
 * aside), arrays element by element, strings by their text, numbers by
 * their spelling (scrub keeps a number's spelling, so a test can too).
 * A failure lists each difference by path. Pseudonyms come from the
 * public test key, so the expected ones are the same everywhere.
 *
 * --junit FILE writes the results as JUnit XML (one testsuite per
 * policy) for CI systems to show.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/vm.h"
#include "jfile.h"
#include "scrubc.h"

enum verdict { T_PASS, T_FAIL, T_ERROR };

struct result {
	char *name;		/* as shown: controls escaped */
	char *raw;		/* as the file has it, decoded; NULL for an
				 * unnamed case */
	size_t rawlen;
	enum verdict v;
	struct buf detail;	/* what went wrong, one item a line */
};

struct suite {
	const char *policy;
	char *tests;		/* the tests file */
	struct result *r;
	size_t n, cap;
	unsigned failed, errors;
	struct buf error;	/* the suite could not run at all: why */
};

struct tctx {
	struct suite *s;
	struct cc_jfile *f;
	char *dir;		/* of the tests file, with a trailing '/' */
	struct vm_program *prog;	/* with the file's parameters */
	char *file_params[64];
	size_t nfile_params;
};

/* ---- results ------------------------------------------------------------- */

/* Text from a tests file or a policy, for a terminal or a CI log: control
 * bytes and the backslash spelt as JSON escapes, so that a name cannot
 * break a line, move the cursor or hide what follows, and two names that
 * differ never look alike. */
static void put_visible(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != 0x7f && c != '\\') {
			buf_putc(b, (char)c);
			continue;
		}
		if (c == '\n' || c == '\t' || c == '\r' || c == '\\')
			snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n'
				 : c == '\t' ? 't' : c == '\r' ? 'r' : '\\');
		else
			snprintf(esc, sizeof esc, "\\u%04x", c);
		buf_puts(b, esc);
	}
}

static struct result *add_result(struct suite *s, const char *name,
				 size_t len)
{
	struct result *r;
	struct buf shown;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct result *g = scrub_realloc(s->r, cap * sizeof *g);

		if (g == NULL)
			return NULL;
		s->r = g;
		s->cap = cap;
	}
	r = &s->r[s->n];
	buf_init(&shown, 1u << 20);
	put_visible(&shown, name, len);
	r->name = buf_failed(&shown) ? NULL
		  : scrub_strndup(shown.data ? shown.data : "", shown.len);
	buf_free(&shown);
	if (r->name == NULL)
		return NULL;
	r->raw = NULL;
	r->rawlen = 0;
	r->v = T_PASS;
	buf_init(&r->detail, 1u << 20);
	s->n++;
	return r;
}

/* "FILE:LINE:COL: " for a node of the tests file. */
static void at_node(struct tctx *t, json_ref r, struct buf *out)
{
	const struct json_node *n = json_node(&t->f->doc, r);
	unsigned line, col;
	char pos[64];

	cc_jfile_line_col(t->f, n->flags & JN_TEXT_ARENA ? 0 : n->text,
			  &line, &col);
	buf_puts(out, t->f->name);
	snprintf(pos, sizeof pos, ":%u:%u: ", line, col);
	buf_puts(out, pos);
}

static void case_error(struct tctx *t, struct result *r, json_ref at,
		       const char *msg)
{
	r->v = T_ERROR;
	buf_puts(&r->detail, "    ");
	at_node(t, at, &r->detail);
	buf_puts(&r->detail, msg);
	buf_putc(&r->detail, '\n');
}

/* ---- comparing values ---------------------------------------------------- */

struct cmp {
	struct json_doc *a, *b;	/* expected, actual */
	struct buf path;
	struct buf *out;
	unsigned shown;
};

/* A value for a difference line: compact JSON, shortened. */
static void show(struct json_doc *d, json_ref r, struct buf *out)
{
	struct buf v;

	buf_init(&v, 1u << 20);
	json_write(d, r, &v);
	buf_put(out, v.data, v.len > 80 ? 77 : v.len);
	if (v.len > 80)
		buf_puts(out, "...");
	buf_free(&v);
}

/* Start a difference line, "    PATH: WHAT"; 0 past the 20th. */
static int diff_line(struct cmp *c, const char *what)
{
	if (c->shown++ >= 20)
		return 0;
	buf_puts(c->out, "    ");
	buf_put(c->out, c->path.len ? c->path.data : ".", c->path.len
		? c->path.len : 1);
	buf_puts(c->out, ": ");
	buf_puts(c->out, what);
	return 1;
}

/* A difference with the expected value x and the actual one y. */
static void differ(struct cmp *c, const char *what, json_ref x, json_ref y)
{
	if (!diff_line(c, what))
		return;
	if (x) {
		buf_puts(c->out, " ");
		show(c->a, x, c->out);
	}
	if (y) {
		buf_puts(c->out, x ? ", got " : " ");
		show(c->b, y, c->out);
	}
	buf_putc(c->out, '\n');
}

static void compare(struct cmp *c, json_ref x, json_ref y);

/* Add .key to the path, spelt as a policy would. */
static void push_key(struct cmp *c, const char *k, size_t kl)
{
	struct dsl_seg seg;
	struct dsl_path one;

	memset(&seg, 0, sizeof seg);
	seg.kind = SEG_KEY;
	seg.name = (char *)k;
	seg.len = kl;
	one.segs = &seg;
	one.n = 1;
	dsl_path_format(&one, &c->path);
}

static void compare_members(struct cmp *c, json_ref x, json_ref y)
{
	size_t mark = c->path.len, kl;
	const char *k;
	json_ref m, o;

	for (m = json_first(c->a, x); m; m = json_next(c->a, m)) {
		k = json_key(c->a, m, &kl);
		if (k == NULL)
			return;
		push_key(c, k, kl);
		o = json_member(c->b, y, k, kl);
		if (o)
			compare(c, m, o);
		else
			differ(c, "missing, expected", m, 0);
		c->path.len = mark;
	}
	for (o = json_first(c->b, y); o; o = json_next(c->b, o)) {
		k = json_key(c->b, o, &kl);
		if (k == NULL || json_member(c->a, x, k, kl))
			continue;
		push_key(c, k, kl);
		differ(c, "not expected, got", 0, o);
		c->path.len = mark;
	}
}

static void compare_elements(struct cmp *c, json_ref x, json_ref y)
{
	size_t mark = c->path.len, i = 0;
	json_ref m = json_first(c->a, x), o = json_first(c->b, y);
	char idx[32];

	for (; m && o; m = json_next(c->a, m), o = json_next(c->b, o), i++) {
		snprintf(idx, sizeof idx, "[%zu]", i);
		buf_puts(&c->path, idx);
		compare(c, m, o);
		c->path.len = mark;
	}
	if (m || o) {
		char msg[96];

		/* Say the lengths in words: the arrays may be long. */
		snprintf(msg, sizeof msg, "expected %u elements, got %u\n",
			 json_length(c->a, x), json_length(c->b, y));
		diff_line(c, msg);
	}
}

static void compare(struct cmp *c, json_ref x, json_ref y)
{
	enum json_type tx = json_type_of(c->a, x), ty = json_type_of(c->b, y);
	const struct json_node *nx = json_node(c->a, x);
	const struct json_node *ny = json_node(c->b, y);
	const char *sx, *sy;
	size_t lx, ly;

	if (tx != ty) {
		differ(c, "expected", x, y);
		return;
	}
	switch (tx) {
	case JSON_OBJECT:
		compare_members(c, x, y);
		return;
	case JSON_ARRAY:
		compare_elements(c, x, y);
		return;
	case JSON_STRING:
		sx = json_string(c->a, x, &lx);
		sy = json_string(c->b, y, &ly);
		if (sx && sy && (lx != ly || memcmp(sx, sy, lx) != 0))
			differ(c, "expected", x, y);
		return;
	case JSON_NUMBER:
		if (nx->len != ny->len || memcmp(json_text(c->a, x),
						 json_text(c->b, y), nx->len))
			differ(c, "expected", x, y);
		return;
	default:
		return;
	}
}

/* ---- one case ------------------------------------------------------------ */

/* The path of a file a case names, relative to the tests file. */
static char *case_file(struct tctx *t, json_ref name_node)
{
	size_t len;
	const char *name = cc_jstr(&t->f->doc, name_node, &len);
	const char *dir = name && name[0] == '/' ? "" : t->dir;
	char *path;

	if (name == NULL)
		return NULL;
	path = scrub_malloc(strlen(dir) + len + 1);
	if (path)
		sprintf(path, "%s%.*s", dir, (int)len, name);
	return path;
}

/* The event of a case: its "input", or the file "input_file" names. */
static int case_input(struct tctx *t, struct result *r, json_ref c,
		      struct buf *out)
{
	json_ref v = cc_jget(&t->f->doc, c, "input");
	json_ref file = cc_jget(&t->f->doc, c, "input_file");
	char *path;
	int rc;

	if (v && !file) {
		json_write(&t->f->doc, v, out);
		return 0;
	}
	path = v ? NULL : case_file(t, file);
	if (path == NULL) {
		case_error(t, r, c, v ? "give \"input\" or \"input_file\", "
			   "not both" : "a case needs \"input\" (the event) "
			   "or \"input_file\"");
		return -1;
	}
	rc = sc_read_file(path, VM_FILE_DASH, out);
	if (rc != 0)
		case_error(t, r, file, "cannot read this file");
	free(path);
	return rc;
}

/* Compare the emitted event with the expected one, `exp` of `expd`. */
static void compare_output(struct tctx *t, struct result *r, json_ref c,
			   struct json_doc *expd, json_ref exp,
			   const struct vm_outcome *o)
{
	struct json_doc got;
	struct json_limits lim;
	struct cmp cmp;

	lim.max_depth = 1000;
	lim.max_nodes = (uint32_t)o->out_len + 2;
	lim.max_arena = (uint32_t)o->out_len * 4 + 4096;
	if (json_doc_init(&got, &lim) != 0 ||
	    json_parse(&got, o->out, o->out_len, 0, 0) != JSON_OK) {
		case_error(t, r, c, "the policy emitted invalid JSON");
		json_doc_free(&got);
		return;
	}
	memset(&cmp, 0, sizeof cmp);
	cmp.a = expd;
	cmp.b = &got;
	cmp.out = &r->detail;
	buf_init(&cmp.path, 1u << 16);
	compare(&cmp, exp, got.root);
	if (cmp.shown) {
		r->v = T_FAIL;
		if (cmp.shown > 20)
			buf_puts(&r->detail, "    ...\n");
		/* The whole output too, to compare by eye or to copy. */
		buf_puts(&r->detail, "    the output was: ");
		buf_put(&r->detail, o->out, o->out_len);
		buf_putc(&r->detail, '\n');
	}
	buf_free(&cmp.path);
	json_doc_free(&got);
}

static void expect_output(struct tctx *t, struct result *r, json_ref c,
			  const struct vm_outcome *o)
{
	json_ref exp = cc_jget(&t->f->doc, c, "output");
	json_ref file = cc_jget(&t->f->doc, c, "output_file");
	struct cc_jfile want;
	char *path;

	if (exp) {
		compare_output(t, r, c, &t->f->doc, exp, o);
		return;
	}
	path = case_file(t, file);
	if (path == NULL) {
		case_error(t, r, file, "expected a file name");
		return;
	}
	if (cc_jfile_load(&want, path) != 0)
		case_error(t, r, file, want.err);
	else
		compare_output(t, r, c, &want.doc, want.doc.root, o);
	cc_jfile_free(&want);
	free(path);
}

static const char *status_word(const struct vm_outcome *o)
{
	return o->status == VM_EMIT ? "emitted" : o->status == VM_DROP
	       ? "dropped" : "rejected";
}

/* Compare the outcome with what the case expects. */
static void judge(struct tctx *t, struct result *r, json_ref c,
		  const struct vm_outcome *o)
{
	struct json_doc *d = &t->f->doc;
	json_ref drop = cc_jget(d, c, "drop"), rej = cc_jget(d, c, "reject");
	int want_out = cc_jget(d, c, "output") || cc_jget(d, c, "output_file");
	enum vm_status want = want_out ? VM_EMIT : drop ? VM_DROP : VM_REJECT;
	const char *text, *got;
	size_t len;
	char line[512];

	if (want_out + !!drop + !!rej != 1 ||
	    (cc_jget(d, c, "output") && cc_jget(d, c, "output_file"))) {
		case_error(t, r, c, "a case expects exactly one of \"output\", "
			   "\"output_file\", \"drop\" and \"reject\"");
		return;
	}
	if (o->status != want) {
		r->v = T_FAIL;
		snprintf(line, sizeof line, "    expected the event %s, but it "
			 "was %s", want == VM_EMIT ? "emitted" : want == VM_DROP
			 ? "dropped" : "rejected", status_word(o));
		buf_puts(&r->detail, line);
		got = o->status == VM_DROP ? o->reason : o->status == VM_REJECT
		      ? o->code : NULL;
		if (got) {
			buf_puts(&r->detail, " (");
			put_visible(&r->detail, got, strlen(got));
			if (o->status == VM_REJECT) {
				buf_puts(&r->detail, ": ");
				buf_puts(&r->detail, o->message);
			}
			buf_putc(&r->detail, ')');
		}
		buf_putc(&r->detail, '\n');
		return;
	}
	if (want == VM_EMIT) {
		expect_output(t, r, c, o);
		return;
	}
	text = cc_jstr(d, want == VM_DROP ? drop : rej, &len);
	got = want == VM_DROP ? o->reason : o->code;
	if (text == NULL) {
		case_error(t, r, want == VM_DROP ? drop : rej, "expected a "
			   "string: the drop reason or the reject code");
	} else if (strlen(got) != len || memcmp(text, got, len) != 0) {
		r->v = T_FAIL;
		buf_puts(&r->detail, want == VM_DROP
			 ? "    expected drop reason \""
			 : "    expected reject code \"");
		put_visible(&r->detail, text, len);
		buf_puts(&r->detail, "\", got \"");
		put_visible(&r->detail, got, strlen(got));
		buf_puts(&r->detail, "\"");
		if (want == VM_REJECT) {
			buf_puts(&r->detail, ": ");
			buf_puts(&r->detail, o->message);
		}
		buf_putc(&r->detail, '\n');
	}
}

/* "NAME=VALUE" for each member of a "params" object. */
static size_t params_of(struct tctx *t, json_ref obj, char **out,
			size_t n, size_t max)
{
	struct json_doc *d = &t->f->doc;

	if (json_type_of(d, obj) != JSON_OBJECT)
		return n;
	for (json_ref m = json_first(d, obj); m && n < max;
	     m = json_next(d, m)) {
		size_t kl, vl;
		const char *k = json_key(d, m, &kl), *v = cc_jstr(d, m, &vl);
		char *p;

		if (v == NULL) {
			v = json_text(d, m);
			vl = json_node(d, m)->len;
		}
		if (k == NULL || (p = scrub_malloc(kl + vl + 2)) == NULL)
			break;
		sprintf(p, "%.*s=%.*s", (int)kl, k, (int)vl, v);
		/* A later setting of a name replaces the earlier one. */
		out[n++] = p;
	}
	return n;
}

/* Does a case before r (in its suite) have r's name? */
static int named_before(const struct suite *s, const struct result *r)
{
	for (const struct result *e = s->r; e < r; e++)
		if (e->raw && r->raw && e->rawlen == r->rawlen &&
		    memcmp(e->raw, r->raw, r->rawlen) == 0)
			return 1;
	return 0;
}

static void run_case(struct tctx *t, json_ref c)
{
	struct json_doc *d = &t->f->doc;
	size_t len;
	const char *name = cc_jstr(d, cc_jget(d, c, "name"), &len);
	json_ref params = cc_jget(d, c, "params");
	struct result *r = add_result(t->s, name ? name : "(unnamed)",
				      name ? len : strlen("(unnamed)"));
	struct vm_program *p = t->prog;
	struct vm_limits lim;
	struct vm_exec *ex;
	struct vm_outcome o;
	struct buf in, diags;
	char *mine[128];
	size_t nmine = 0;
	int status;

	if (r == NULL || (name && (r->raw = scrub_malloc(len + 1)) == NULL)) {
		/* A case that cannot be recorded must not pass unseen. */
		buf_puts(&t->s->error, "scrubc: out of memory\n");
		return;
	}
	if (name) {
		memcpy(r->raw, name, len);
		r->rawlen = len;
	}
	buf_init(&in, 64u << 20);
	buf_init(&diags, 1u << 20);
	if (name == NULL)
		case_error(t, r, c, "a case needs a \"name\"");
	else if (json_type_of(d, c) != JSON_OBJECT)
		case_error(t, r, c, "a case is an object");
	else if (named_before(t->s, r))
		case_error(t, r, c, "an earlier case has this name: names "
			   "tell the cases apart in reports");
	if (r->v != T_PASS || case_input(t, r, c, &in) != 0)
		goto out;
	if (params) {
		memcpy(mine, t->file_params, t->nfile_params * sizeof *mine);
		nmine = params_of(t, params, mine, t->nfile_params, 128);
		p = sc_load_policy(t->s->policy, mine, nmine, &diags, &status);
		if (p == NULL) {
			r->v = T_ERROR;
			buf_put(&r->detail, diags.data, diags.len);
			goto out;
		}
	}
	vm_limits_default(&lim);
	ex = vm_exec_new(p, &lim);
	if (ex == NULL) {
		case_error(t, r, c, "out of memory");
	} else {
		vm_run(ex, in.data ? in.data : "", in.len, &o);
		judge(t, r, c, &o);
		vm_exec_free(ex);
	}
out:
	if (p != t->prog)
		vm_program_free(p);
	for (size_t i = t->nfile_params; i < nmine; i++)
		free(mine[i]);
	t->s->failed += r->v == T_FAIL;
	t->s->errors += r->v == T_ERROR;
	buf_free(&in);
	buf_free(&diags);
}

/* ---- one policy ---------------------------------------------------------- */

static char *tests_path(const char *policy)
{
	size_t n = strlen(policy);
	char *p = scrub_malloc(n + 16);

	if (p == NULL)
		return NULL;
	if (n > 6 && strcmp(policy + n - 6, ".scrub") == 0)
		n -= 6;
	memcpy(p, policy, n);
	strcpy(p + n, ".tests.json");
	return p;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;

	return scrub_strndup(path, n);
}

static void run_cases(struct tctx *t)
{
	struct json_doc *d = &t->f->doc;
	json_ref cases = cc_jget(d, d->root, "cases");
	int status;

	t->nfile_params = params_of(t, cc_jget(d, d->root, "params"),
				    t->file_params, 0, 64);
	if (json_type_of(d, cases) != JSON_ARRAY ||
	    json_length(d, cases) == 0) {
		at_node(t, cases ? cases : d->root, &t->s->error);
		buf_puts(&t->s->error, "expected \"cases\": a list of at least "
			 "one case\n");
		return;
	}
	t->prog = sc_load_policy(t->s->policy, t->file_params,
				 t->nfile_params, &t->s->error, &status);
	if (t->prog == NULL)
		return;
	for (json_ref c = json_first(d, cases); c; c = json_next(d, c))
		run_case(t, c);
	vm_program_free(t->prog);
}

static void run_suite(struct suite *s)
{
	struct cc_jfile f;
	struct tctx t;

	memset(&t, 0, sizeof t);
	t.s = s;
	t.f = &f;
	buf_init(&s->error, 1u << 20);
	s->tests = tests_path(s->policy);
	t.dir = s->tests ? dir_of(s->tests) : NULL;
	if (t.dir == NULL) {
		buf_puts(&s->error, "scrubc: out of memory\n");
		return;
	}
	if (cc_jfile_load(&f, s->tests) != 0) {
		buf_puts(&s->error, f.io ? "scrubc: " : "");
		buf_puts(&s->error, f.err);
		buf_puts(&s->error, f.io ? " (every policy needs tests)\n"
			 : "\n");
	} else if (json_type_of(&f.doc, f.doc.root) != JSON_OBJECT) {
		buf_puts(&s->error, s->tests);
		buf_puts(&s->error, ": expected a JSON object with "
			 "\"cases\"\n");
	} else {
		run_cases(&t);
	}
	for (size_t i = 0; i < t.nfile_params; i++)
		free(t.file_params[i]);
	cc_jfile_free(&f);
	free(t.dir);
}

static void print_suite(const struct suite *s)
{
	if (s->error.len) {
		printf("%s: cannot run its tests\n", s->policy);
		sc_put(stdout, &s->error);
		return;
	}
	printf("%s: %zu case%s\n", s->policy, s->n, s->n == 1 ? "" : "s");
	for (size_t i = 0; i < s->n; i++) {
		const struct result *r = &s->r[i];

		printf("  %-5s %s\n", r->v == T_PASS ? "ok" : r->v == T_FAIL
		       ? "FAIL" : "ERROR", r->name);
		sc_put(stdout, &r->detail);
	}
}

/* ---- JUnit XML ----------------------------------------------------------- */

static void xml(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<')
			buf_puts(b, "&lt;");
		else if (c == '>')
			buf_puts(b, "&gt;");
		else if (c == '&')
			buf_puts(b, "&amp;");
		else if (c == '"')
			buf_puts(b, "&quot;");
		else if (c < 0x20 && c != '\n' && c != '\t')
			buf_putc(b, ' ');	/* not allowed in XML 1.0 */
		else
			buf_putc(b, (char)c);
	}
}

static void xml_s(struct buf *b, const char *s)
{
	xml(b, s, strlen(s));
}

static void junit_suite(struct buf *b, const struct suite *s)
{
	char n[128];
	int broken = s->error.len != 0;

	snprintf(n, sizeof n, "\" tests=\"%zu\" failures=\"%u\" errors=\"%u\""
		 " skipped=\"0\"", broken ? 1 : s->n, s->failed,
		 broken ? 1 : s->errors);
	buf_puts(b, "  <testsuite name=\"");
	xml_s(b, s->policy);
	buf_puts(b, n);
	buf_puts(b, " file=\"");
	xml_s(b, s->tests ? s->tests : s->policy);
	buf_puts(b, "\">\n");
	if (broken) {
		buf_puts(b, "    <testcase name=\"tests of ");
		xml_s(b, s->policy);
		buf_puts(b, "\" classname=\"");
		xml_s(b, s->policy);
		buf_puts(b, "\">\n      <error message=\"the tests cannot run"
			 "\">");
		xml(b, s->error.data, s->error.len);
		buf_puts(b, "</error>\n    </testcase>\n");
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct result *r = &s->r[i];

		buf_puts(b, "    <testcase name=\"");
		xml_s(b, r->name);
		buf_puts(b, "\" classname=\"");
		xml_s(b, s->policy);
		if (r->v == T_PASS) {
			buf_puts(b, "\"/>\n");
			continue;
		}
		buf_puts(b, r->v == T_FAIL ? "\">\n      <failure message=\""
			 "the outcome differs\">" : "\">\n      <error "
			 "message=\"the case cannot run\">");
		xml(b, r->detail.data, r->detail.len);
		buf_puts(b, r->v == T_FAIL ? "</failure>\n    </testcase>\n"
			 : "</error>\n    </testcase>\n");
	}
	buf_puts(b, "  </testsuite>\n");
}

static int write_junit(const char *path, const struct suite *s, size_t n)
{
	struct buf b;
	size_t tests = 0;
	unsigned failures = 0, errors = 0;
	char head[160];
	int rc;

	for (size_t i = 0; i < n; i++) {
		tests += s[i].error.len ? 1 : s[i].n;
		failures += s[i].failed;
		errors += s[i].error.len ? 1 : s[i].errors;
	}
	buf_init(&b, 256u << 20);
	snprintf(head, sizeof head, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		 "\n<testsuites name=\"scrubc test\" tests=\"%zu\" failures="
		 "\"%u\" errors=\"%u\">\n", tests, failures, errors);
	buf_puts(&b, head);
	for (size_t i = 0; i < n; i++)
		junit_suite(&b, &s[i]);
	buf_puts(&b, "</testsuites>\n");
	rc = buf_failed(&b) ? -1 : sc_write_file(path, &b);
	buf_free(&b);
	return rc;
}

/* ---- the command --------------------------------------------------------- */

static void free_suite(struct suite *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->r[i].name);
		free(s->r[i].raw);
		buf_free(&s->r[i].detail);
	}
	free(s->r);
	free(s->tests);
	buf_free(&s->error);
}

int sc_cmd_test(int argc, char **argv)
{
	static const char usage[] = "usage: scrubc test [--junit FILE] "
				    "POLICY...\n";
	const char *junit = NULL;
	struct suite *suites = scrub_calloc((size_t)argc, sizeof *suites);
	size_t n = 0, passed = 0, failed = 0;
	int status = 0;

	for (int i = 1; suites && i < argc; i++) {
		const char *v = sc_option_value(argc, argv, &i, "--junit");

		if (v) {
			junit = v;
		} else if (argv[i][0] == '-') {
			static const char *const known[] = { "--junit=",
							     NULL };

			free(suites);
			return sc_bad_arg("test", usage, argv[i],
					  i == argc - 1, known);
		} else {
			suites[n++].policy = argv[i];
		}
	}
	if (n == 0) {
		fputs(usage, stderr);
		free(suites);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		size_t ok = 0;

		run_suite(&suites[i]);
		print_suite(&suites[i]);
		for (size_t k = 0; k < suites[i].n; k++)
			ok += suites[i].r[k].v == T_PASS;
		passed += ok;
		failed += suites[i].n - ok + (suites[i].error.len != 0);
		if (suites[i].error.len || suites[i].failed ||
		    suites[i].errors)
			status = 1;
	}
	printf("scrubc test: %zu passed, %zu failed\n", passed, failed);
	if (junit && write_junit(junit, suites, n) != 0)
		status = 2;
	for (size_t i = 0; i < n; i++)
		free_suite(&suites[i]);
	free(suites);
	if (fflush(stdout) != 0)
		status = 2;
	return status;
}

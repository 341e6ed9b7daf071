/* scrubc_explain.c - `scrubc explain POLICY --event FILE`: what a policy
 * does to one event.
 *
 * The policy runs once over the event with the VM's observer attached
 * (vm_exec_set_trace). What is printed: the outcome, the rules that ran,
 * and each field the policy changed or removed, with the operator and
 * the policy line. Values are never printed, neither before nor after:
 * the event may be a real one, and a redacted value is exactly what must
 * not reappear in a terminal or a CI log. The output says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/vm.h"
#include "scrubc.h"

#define DEPTH 64		/* as deep as the VM writes a path */
#define BUCKETS 16384

struct change {
	enum vm_opcode op;
	int removing;
	char *path;
	const char *rule;
	uint32_t line;
};

/* Change `change` is at node `node` or below it, `up` levels down: an
 * entry of a chained hash on the node. */
struct via {
	json_ref node;
	uint32_t change;
	uint32_t up;
	uint32_t next;		/* the next entry of the bucket, + 1 */
};

struct seen {
	const struct vm_program *p;
	struct change *v;
	size_t n, cap;
	struct via *via;
	size_t nvia, capvia;
	uint32_t *bucket;	/* BUCKETS first entries, + 1 */
	const char *rules[256];
	uint32_t rule_lines[256];
	size_t nrules;
	int failed;
};

static uint32_t line_of(const struct vm_program *p, uint32_t pc)
{
	const char *file;
	uint32_t line;

	return vm_program_line(p, pc, &file, &line) == 0 ? line : 0;
}

static void on_rule(struct seen *s, const struct vm_trace *t)
{
	/* Leaving a rule re-enters the one around it: list each once. */
	if (t->rule == NULL || t->rule[0] == '\0')
		return;
	for (size_t i = 0; i < s->nrules; i++)
		if (strcmp(s->rules[i], t->rule) == 0)
			return;
	if (s->nrules < 256) {
		s->rules[s->nrules] = t->rule;
		s->rule_lines[s->nrules++] = line_of(s->p, t->pc);
	}
}

/* Where the segments of a path as the VM writes it start (.name,
 * ."quoted", [N]); returns their number, at most DEPTH. */
static size_t segments(const char *p, size_t *at)
{
	size_t n = 0, i = 0;

	while (p[i] && n < DEPTH) {
		at[n++] = i;
		if (p[i++] == '[') {
			while (p[i] && p[i++] != ']')
				;
		} else if (p[i] == '"') {
			for (i++; p[i] && p[i] != '"'; i++)
				i += p[i] == '\\' && p[i + 1];
			i += p[i] == '"';
		} else {
			while (p[i] && p[i] != '.' && p[i] != '[')
				i++;
		}
	}
	return n;
}

/* Give change c the path `now` of the node `up` levels above it: the
 * new head, then the segments of the old path below that node. */
static int repath(struct change *c, const char *now, uint32_t up)
{
	size_t at[DEPTH], n;
	struct buf b;

	/* "(path too long)" has no key to hide. */
	if (c->path[0] != '.')
		return 0;
	n = segments(c->path, at);
	buf_init(&b, 1u << 20);
	buf_puts(&b, now);
	if (now[0] == '.' && up > 0 && up <= n)
		buf_puts(&b, c->path + at[n - up]);
	buf_putc(&b, '\0');
	if (buf_failed(&b)) {
		buf_free(&b);
		return -1;
	}
	free(c->path);
	c->path = b.data;
	return 0;
}

/* `redact ... and keys` may have renamed node t->node: a path written
 * before, at it or below it, still shows the key it had, which may be
 * what was found. Those paths get the node's path as it is now. */
static void rekey(struct seen *s, const struct vm_trace *t)
{
	if (s->bucket == NULL)
		return;
	for (uint32_t i = s->bucket[t->node % BUCKETS]; i;
	     i = s->via[i - 1].next) {
		const struct via *w = &s->via[i - 1];

		if (w->node == t->node &&
		    repath(&s->v[w->change], t->path, w->up) != 0) {
			s->failed = 1;
			return;
		}
	}
}

/* Index change number k under its node and each parent, the way
 * vm_where walks up. */
static int index_change(struct seen *s, const struct vm_trace *t,
			uint32_t k)
{
	uint32_t up = 0;

	if (s->bucket == NULL &&
	    (s->bucket = scrub_calloc(BUCKETS, sizeof *s->bucket)) == NULL)
		return -1;
	for (json_ref r = t->node; r && r != t->doc->root && up < DEPTH;
	     r = t->doc->nodes[r].parent) {
		struct via *w;

		if (s->nvia == s->capvia) {
			size_t cap = s->capvia ? s->capvia * 2 : 256;
			struct via *g = scrub_realloc(s->via, cap * sizeof *g);

			if (g == NULL)
				return -1;
			s->via = g;
			s->capvia = cap;
		}
		w = &s->via[s->nvia++];
		w->node = r;
		w->change = k;
		w->up = up++;
		w->next = s->bucket[r % BUCKETS];
		s->bucket[r % BUCKETS] = (uint32_t)s->nvia;
	}
	return 0;
}

static void observe(void *ctx, const struct vm_trace *t)
{
	struct seen *s = ctx;
	struct change *c;

	/* After a failure the report is not printed: stop recording. */
	if (s->failed)
		return;
	if (t->kind == VM_TRACE_RULE) {
		on_rule(s, t);
		return;
	}
	if (t->op == OP_REDACT)
		rekey(s, t);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct change *g = scrub_realloc(s->v, cap * sizeof *g);

		if (g == NULL) {
			s->failed = 1;
			return;
		}
		s->v = g;
		s->cap = cap;
	}
	c = &s->v[s->n];
	c->path = scrub_strndup(t->path, strlen(t->path));
	if (c->path == NULL) {
		s->failed = 1;
		return;
	}
	if (index_change(s, t, (uint32_t)s->n) != 0) {
		free(c->path);
		s->failed = 1;
		return;
	}
	c->op = t->op;
	c->removing = t->removing;
	c->rule = t->rule;
	c->line = line_of(s->p, t->pc);
	s->n++;
}

static void print_outcome(const struct vm_outcome *o)
{
	switch (o->status) {
	case VM_EMIT:
		printf("outcome: emitted\n");
		break;
	case VM_DROP:
		printf("outcome: dropped (%s)\n", o->reason);
		break;
	case VM_REJECT:
		printf("outcome: rejected: %s: %s", o->code, o->message);
		if (o->rule && o->rule[0])
			printf(" (rule '%s')", o->rule);
		if (o->file)
			printf(" at %s:%u", o->file, o->line);
		printf("\n");
		break;
	}
}

static void print_seen(const struct seen *s, const struct vm_outcome *o)
{
	print_outcome(o);
	printf("rules that ran:%s\n", s->nrules ? "" : " none");
	for (size_t i = 0; i < s->nrules; i++)
		printf("  %-24s line %u\n", s->rules[i], s->rule_lines[i]);
	printf("fields changed:%s\n", s->n ? "" : " none");
	for (size_t i = 0; i < s->n; i++) {
		const struct change *c = &s->v[i];

		/* The operator as the policy names it. */
		printf("  line %-4u %-13s %-8s %s", c->line,
		       vm_opinfo[c->op].word,
		       c->removing ? "removed" : "changed", c->path);
		if (c->rule && c->rule[0])
			printf("  (rule '%s')", c->rule);
		printf("\n");
	}
	if (o->status != VM_EMIT && s->n)
		printf("(the event was not emitted: these changes were "
		       "made before it %s)\n", o->status == VM_DROP
		       ? "was dropped" : "was rejected");
	printf("values are not shown, before or after: explain never prints "
	       "an event's data.\n");
}

/* An NDJSON file given whole reads as one value with more after it. */
static void hint_one_event(const char *event, const struct buf *text,
			   const struct vm_outcome *o)
{
	if (o->status != VM_REJECT || strcmp(o->code, "invalid_json") != 0 ||
	    strstr(o->message, "unexpected data after") == NULL ||
	    text->len == 0 || memchr(text->data, '\n', text->len) == NULL)
		return;
	fprintf(stderr, "scrubc: hint: %s holds more than one JSON value: "
		"explain takes one event (from an NDJSON file, pick a line: "
		"sed -n 2p FILE | scrubc explain POLICY --event -)\n", event);
}

static int explain(const char *policy, const char *event, char **params,
		   size_t nparams)
{
	struct vm_program *p;
	struct vm_exec *ex = NULL;
	struct vm_limits lim;
	struct vm_outcome o;
	struct seen s;
	struct buf diags, text;
	int status = 2;

	memset(&s, 0, sizeof s);
	buf_init(&diags, 1u << 20);
	buf_init(&text, 64u << 20);
	p = sc_load_policy(policy, params, nparams, &diags, &status);
	sc_put(stderr, &diags);
	if (p == NULL || sc_read_file(event, VM_FILE_DASH, &text) != 0)
		goto out;
	vm_limits_default(&lim);
	ex = vm_exec_new(p, &lim);
	if (ex == NULL) {
		fputs("scrubc: out of memory\n", stderr);
		goto out;
	}
	s.p = p;
	vm_exec_set_trace(ex, observe, &s);
	vm_run(ex, text.data ? text.data : "", text.len, &o);
	if (s.failed) {
		fputs("scrubc: out of memory\n", stderr);
		goto out;
	}
	printf("policy: %s (\"%s\")\nevent: %s\n", policy, p->name, event);
	print_seen(&s, &o);
	hint_one_event(event, &text, &o);
	status = fflush(stdout) == 0 ? 0 : 2;
out:
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].path);
	free(s.v);
	free(s.via);
	free(s.bucket);
	vm_exec_free(ex);
	vm_program_free(p);
	buf_free(&diags);
	buf_free(&text);
	return status;
}

int sc_cmd_explain(int argc, char **argv)
{
	static const char usage[] = "usage: scrubc explain POLICY --event "
				    "FILE [--param NAME=VALUE]...\n";
	static const char *const known[] = { "--event=", "--param=", NULL };
	const char *policy = NULL, *event = NULL;
	char **params = scrub_calloc((size_t)argc, sizeof *params);
	size_t nparams = 0;
	int rc;

	for (int i = 1; params && i < argc; i++) {
		char *v;

		if ((v = sc_option_value(argc, argv, &i, "--event")) != NULL)
			event = v;
		else if ((v = sc_option_value(argc, argv, &i, "--param")) !=
			 NULL)
			params[nparams++] = v;
		else if (policy == NULL && argv[i][0] != '-')
			policy = argv[i];
		else {
			free(params);
			return sc_bad_arg("explain", usage, argv[i],
					  i == argc - 1, known);
		}
	}
	if (policy == NULL || event == NULL) {
		fputs(usage, stderr);
		free(params);
		return 2;
	}
	rc = explain(policy, event, params, nparams);
	free(params);
	return rc;
}

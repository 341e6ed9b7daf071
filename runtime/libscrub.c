/* libscrub.c - the embedding API (scrub.h) over the compiler and VM. */
#include "scrub.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"
#include "../vm/vm.h"
#include "internal.h"

struct scrub_worker {
	struct vm_exec *ex;
	struct vm_outcome o;
	struct scrub_counters counters;
};

void scrub_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void scrub_limits_default(struct scrub_limits *l)
{
	struct vm_limits v;

	vm_limits_default(&v);
	l->max_depth = v.max_depth;
	l->max_values = v.max_values;
	l->max_memory = v.max_memory;
	l->max_output = v.max_output;
	l->max_steps = v.max_steps;
	l->lazy_validation = 0;
}

int scrub_program_load(const void *bytecode, size_t len, scrub_program **out,
		       char *err, size_t errlen)
{
	struct vm_error e;
	scrub_program *p;

	*out = NULL;
	p = scrub_calloc(1, sizeof *p);
	if (p == NULL) {
		scrub_set_err(err, errlen, "out of memory");
		return -1;
	}
	p->vm = vm_load(bytecode, len, &e);
	if (p->vm == NULL) {
		scrub_set_err(err, errlen, "invalid bytecode: %s", e.msg);
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void scrub_program_free(scrub_program *p)
{
	if (p == NULL)
		return;
	vm_program_free(p->vm);
	free(p);
}

const char *scrub_program_name(const scrub_program *p)
{
	return p->vm->name;
}

int scrub_program_set_param(scrub_program *p, const char *name,
			    const char *value, char *err, size_t errlen)
{
	struct vm_error e;

	if (vm_program_set_param(p->vm, name, value, &e) != 0) {
		scrub_set_err(err, errlen, "%s", e.msg);
		return -1;
	}
	return 0;
}

int scrub_program_param_env(const scrub_program *p, size_t i, char *name,
			    char *var, size_t len)
{
	const struct vm_param *pa;
	size_t n;

	if (i >= p->vm->nparams)
		return -1;
	pa = &p->vm->params[i];
	n = pa->name_len;
	if (n + 7 > len)
		return -1;
	memcpy(name, pa->name, n);
	name[n] = '\0';
	memcpy(var, "SCRUB_", 6);
	for (size_t k = 0; k < n; k++)
		var[6 + k] = (char)toupper((unsigned char)name[k]);
	var[6 + n] = '\0';
	return 0;
}

int scrub_program_params_from_env(scrub_program *p, char *err,
				  size_t errlen)
{
	for (uint32_t i = 0; i < p->vm->nparams; i++) {
		char var[128], name[128];
		const char *value;

		/* A name too long for the buffers has no variable. */
		if (scrub_program_param_env(p, i, name, var, sizeof var) != 0)
			continue;
		value = getenv(var);
		if (value == NULL)
			continue;
		if (scrub_program_set_param(p, name, value, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int scrub_program_needs_key(const scrub_program *p)
{
	return (p->vm->flags & VM_META_NEEDS_KEY) != 0;
}

void scrub_program_set_key(scrub_program *p, const void *key, size_t len)
{
	vm_program_set_key(p->vm, key, len);
}

scrub_worker *scrub_worker_new(const scrub_program *p,
			       const struct scrub_limits *limits)
{
	struct scrub_limits l;
	struct vm_limits v;
	scrub_worker *w;

	if (limits == NULL) {
		scrub_limits_default(&l);
		limits = &l;
	}
	v.max_depth = limits->max_depth;
	v.max_values = limits->max_values;
	v.max_memory = limits->max_memory;
	v.max_output = limits->max_output;
	v.max_steps = limits->max_steps;
	v.lazy = limits->lazy_validation;
	w = scrub_calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->ex = vm_exec_new(p->vm, &v);
	if (w->ex == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void scrub_worker_free(scrub_worker *w)
{
	if (w == NULL)
		return;
	vm_exec_free(w->ex);
	free(w);
}

/* Names are mostly the program's constants or the VM's static codes, so
 * comparing pointers first is cheap. */
void scrub_count_add(struct scrub_count *tab, size_t *n, const char *name,
		     uint64_t k)
{
	for (size_t i = 0; i < *n; i++) {
		if (tab[i].name == name || strcmp(tab[i].name, name) == 0) {
			tab[i].count += k;
			return;
		}
	}
	/* The last slot counts every reason past the others, so that the
	 * table still adds up to the total. */
	if (*n < SCRUB_MAX_REASONS - 1) {
		tab[*n].name = name;
		tab[*n].count = k;
		(*n)++;
	} else if (*n == SCRUB_MAX_REASONS - 1) {
		tab[*n].name = SCRUB_OTHER_REASONS;
		tab[*n].count = k;
		(*n)++;
	} else {
		tab[*n - 1].count += k;
	}
}

enum scrub_status scrub_run(scrub_worker *w, const char *event, size_t len,
			    struct scrub_result *r)
{
	struct vm_outcome *o = &w->o;
	struct scrub_counters *c = &w->counters;

	vm_run(w->ex, event, len, o);
	memset(r, 0, sizeof *r);
	r->status = (enum scrub_status)o->status;
	c->events++;
	switch (o->status) {
	case VM_EMIT:
		r->out = o->out;
		r->out_len = o->out_len;
		c->emitted++;
		break;
	case VM_DROP:
		r->reason = o->reason;
		c->dropped++;
		scrub_count_add(c->drops, &c->ndrops, o->reason, 1);
		break;
	case VM_REJECT:
		r->code = o->code;
		r->message = o->message;
		r->rule = o->rule && o->rule[0] ? o->rule : NULL;
		r->policy_file = o->file;
		r->policy_line = o->line;
		c->rejected++;
		scrub_count_add(c->rejects, &c->nrejects, o->code, 1);
		break;
	}
	return r->status;
}

int scrub_run_batch(scrub_worker *w, const struct scrub_event *events,
		    size_t n, struct scrub_result *results, char **out,
		    size_t *out_len, size_t *out_cap)
{
	size_t *offsets = scrub_malloc((n ? n : 1) * sizeof *offsets);

	if (offsets == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct scrub_result *r = &results[i];

		scrub_run(w, events[i].data, events[i].len, r);
		if (r->status != SCRUB_EMIT)
			continue;
		if (*out_cap - *out_len < r->out_len + 1) {
			size_t cap = (*out_cap ? *out_cap : 4096);
			char *p;

			while (cap - *out_len < r->out_len + 1)
				cap *= 2;
			p = scrub_realloc(*out, cap);
			if (p == NULL) {
				free(offsets);
				return -1;
			}
			*out = p;
			*out_cap = cap;
		}
		offsets[i] = *out_len;
		memcpy(*out + *out_len, r->out, r->out_len);
		*out_len += r->out_len;
		(*out)[(*out_len)++] = '\n';
	}
	/* Point into the final buffer only once it has stopped moving. */
	for (size_t i = 0; i < n; i++)
		if (results[i].status == SCRUB_EMIT)
			results[i].out = *out + offsets[i];
	free(offsets);
	return 0;
}

void scrub_worker_note_reject(scrub_worker *w, const char *code)
{
	w->counters.events++;
	w->counters.rejected++;
	scrub_count_add(w->counters.rejects, &w->counters.nrejects, code, 1);
}

void scrub_worker_counters(const scrub_worker *w, struct scrub_counters *c)
{
	*c = w->counters;
}

void scrub_counters_add(struct scrub_counters *into,
			const struct scrub_counters *from)
{
	into->events += from->events;
	into->emitted += from->emitted;
	into->dropped += from->dropped;
	into->rejected += from->rejected;
	for (size_t i = 0; i < from->ndrops; i++)
		scrub_count_add(into->drops, &into->ndrops,
				from->drops[i].name, from->drops[i].count);
	for (size_t i = 0; i < from->nrejects; i++)
		scrub_count_add(into->rejects, &into->nrejects,
				from->rejects[i].name,
				from->rejects[i].count);
}

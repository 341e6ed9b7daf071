/* scrubc_run.c - a policy ready to run, for `scrubc test` and `explain`.
 *
 * Both key it with the public test key: pseudonyms in expected outputs
 * are then the same on every machine, and neither tool ever needs, or
 * sees, a production key (which the hosts would not let be the test key
 * in any case).
 */
#include <stdio.h>
#include <string.h>

#include "../vm/program.h"
#include "../vm/testkey.h"
#include "scrubc.h"

static int bind_params(struct vm_program *p, char *const *params,
		       size_t nparams, struct buf *diags)
{
	struct vm_error e;
	char name[256];

	for (size_t i = 0; i < nparams; i++) {
		const char *eq = strchr(params[i], '=');
		size_t n = eq ? (size_t)(eq - params[i]) : 0;

		if (eq == NULL || n == 0 || n >= sizeof name) {
			buf_puts(diags, "scrubc: a parameter is NAME=VALUE, "
				 "not '");
			buf_puts(diags, params[i]);
			buf_puts(diags, "'\n");
			return -1;
		}
		memcpy(name, params[i], n);
		name[n] = '\0';
		if (vm_program_set_param(p, name, eq + 1, &e) != 0) {
			buf_puts(diags, "scrubc: ");
			buf_puts(diags, e.msg);
			buf_putc(diags, '\n');
			return -1;
		}
	}
	return 0;
}

struct vm_program *sc_load_policy(const char *path, char *const *params,
				  size_t nparams, struct buf *diags,
				  int *status)
{
	struct vm_program *p = NULL;
	struct vm_error e;
	struct dsl_ctx c;
	struct buf code;

	buf_init(&code, 256u << 20);
	dsl_ctx_init(&c);
	*status = cc_compile_file(&c, path, &code) == 0 ? 0 : 1;
	for (const struct dsl_diag *d = c.diags; d; d = d->next) {
		if (d->code && (strcmp(d->code, "io") == 0 ||
				strcmp(d->code, "resources") == 0))
			*status = 2;
		if (d->span.file >= c.nsources)
			buf_puts(diags, "scrubc: ");
		dsl_diag_render(&c, d, diags);
	}
	if (*status == 0) {
		p = vm_load(code.data, code.len, &e);
		if (p == NULL) {
			buf_puts(diags, "scrubc: invalid bytecode: ");
			buf_puts(diags, e.msg);
			buf_putc(diags, '\n');
			*status = 2;
		}
	}
	if (p && bind_params(p, params, nparams, diags) != 0) {
		vm_program_free(p);
		p = NULL;
		*status = 1;
	}
	if (p)
		vm_program_set_key(p, VM_TEST_KEY, sizeof VM_TEST_KEY - 1);
	dsl_ctx_free(&c);
	buf_free(&code);
	return p;
}

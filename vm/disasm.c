/* disasm.c - print a loaded program: its tables and an annotated listing
 * with the policy line of each instruction. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "detect.h"
#include "json.h"
#include "program.h"

static void putf(struct buf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct buf *out, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_put(out, tmp, (size_t)n < sizeof tmp ? (size_t)n
							  : sizeof tmp - 1);
}

static void put_path(const struct vm_program *p, uint32_t i, struct buf *out)
{
	const struct vm_path *path = &p->paths[i];

	/* The index shows which instructions share one look-up. */
	putf(out, "p%u:", i);
	if (path->nsegs == 0)
		buf_putc(out, '.');
	for (uint32_t s = 0; s < path->nsegs; s++) {
		const struct vm_seg *seg = &path->segs[s];

		switch (seg->kind) {
		case VM_SEG_KEY:
			buf_putc(out, '.');
			json_encode_string(out, seg->name, seg->len);
			break;
		case VM_SEG_INDEX:
			putf(out, "[%lld]", (long long)seg->index);
			break;
		case VM_SEG_ELEMENTS:
			buf_puts(out, "[*]");
			break;
		case VM_SEG_MEMBERS:
			buf_puts(out, ".*");
			break;
		case VM_SEG_DEEP:
			buf_puts(out, ".**");
			break;
		}
	}
}

static void put_const(const struct vm_program *p, uint32_t i,
		      struct buf *out)
{
	const struct vm_const *c = &p->consts[i];

	switch (c->kind) {
	case VM_K_NULL:
		buf_puts(out, "null");
		break;
	case VM_K_FALSE:
		buf_puts(out, "false");
		break;
	case VM_K_TRUE:
		buf_puts(out, "true");
		break;
	case VM_K_STRING:
		buf_put(out, c->json, c->json_len);
		break;
	case VM_K_NUMBER:
	case VM_K_JSON:
		buf_put(out, c->data, c->len);
		break;
	case VM_K_REGEX:
		putf(out, "/%.*s/", (int)c->len - 4, c->data + 4);
		break;
	case VM_K_LIST:
	case VM_K_PATHLIST:
		buf_putc(out, '[');
		for (uint32_t k = 0; k < c->count; k++) {
			uint32_t x = vm_u32(c->items + 4 * k);

			if (k)
				buf_puts(out, ", ");
			if (c->kind == VM_K_LIST)
				put_const(p, x, out);
			else
				put_path(p, x, out);
		}
		buf_putc(out, ']');
		break;
	case VM_K_MATCHER:
		putf(out, "matcher(%u)", c->count);
		break;
	case VM_K_PATTERN:
		putf(out, "pattern(%u)", c->count / 3);
		break;
	}
}

static const char *match_name(uint32_t k)
{
	static const char *const names[] = {
		"?",
#define VM_MATCH_NAME(name, doc) #name,
		VM_MATCH_KINDS(VM_MATCH_NAME)
#undef VM_MATCH_NAME
	};

	return k < VM_MATCH__COUNT ? names[k] : "?";
}

static void put_matcher(const struct vm_program *p, const struct vm_const *c,
			struct buf *out)
{
	for (uint32_t i = 0; i < c->count; i++) {
		const unsigned char *w = c->items + 16 * i;
		uint32_t kind = vm_u32(w), a = vm_u32(w + 4);

		buf_puts(out, i ? ", " : "");
		buf_puts(out, match_name(kind));
		buf_putc(out, ' ');
		if (kind == VM_MATCH_EXISTS) {
			buf_puts(out, a ? "true" : "false");
		} else if (kind == VM_MATCH_NUMERIC) {
			static const char *const ops[] = { "", "=", "<", "<=",
							   ">", ">=" };

			putf(out, "%s ", ops[a & 0xFF]);
			put_const(p, vm_u32(w + 8), out);
			if (a >> 8) {
				putf(out, " %s ", ops[a >> 8]);
				put_const(p, vm_u32(w + 12), out);
			}
		} else {
			put_const(p, a, out);
		}
	}
}

/* A PATTERN tree, as {key: [matcher], $or: [{..}, {..}]}; returns the
 * word after the node. The loader checked its shape. */
static uint32_t put_tree(const struct vm_program *p, const struct vm_const *c,
			 uint32_t at, struct buf *out)
{
	uint32_t kind = vm_u32(c->items + 4 * at);
	uint32_t key = vm_u32(c->items + 4 * at + 4);
	uint32_t x = vm_u32(c->items + 4 * at + 8);

	if (key != VM_NONE) {
		put_const(p, key, out);
		buf_puts(out, ": ");
	} else if (kind == VM_PT_OR) {
		buf_puts(out, "$or: ");
	}
	at += 3;
	if (kind == VM_PT_FIELD) {
		buf_putc(out, '[');
		put_matcher(p, &p->consts[x], out);
		buf_putc(out, ']');
		return at;
	}
	buf_putc(out, kind == VM_PT_OR ? '[' : '{');
	for (uint32_t i = 0; i < x; i++) {
		buf_puts(out, i ? ", " : "");
		at = put_tree(p, c, at, out);
	}
	buf_putc(out, kind == VM_PT_OR ? ']' : '}');
	return at;
}

void vm_disasm(const struct vm_program *p, struct buf *out)
{
	uint32_t pc = 0, li = 0;
	int width = 4;

	putf(out, "policy %s\n", p->name);
	putf(out, "format %u.%u, flags%s%s, %u constants, %u paths, "
		  "%u bytes of code, stack %u\n", VM_FORMAT_MAJOR, p->minor,
	     p->flags & VM_META_CANONICAL ? " canonical" : "",
	     p->flags & VM_META_NEEDS_KEY ? " needs-key" : "",
	     p->nconsts, p->npaths, p->code_len, p->max_stack);
	for (uint32_t i = 0; i < p->nparams; i++) {
		putf(out, "param %.*s = ", (int)p->params[i].name_len,
		     p->params[i].name);
		put_const(p, p->params[i].konst, out);
		if (p->params[i].flags & VM_PARAM_RANGE)
			putf(out, " (%g..%g%s)", p->params[i].min,
			     p->params[i].max, p->params[i].flags &
			     VM_PARAM_CENTS ? " in hundredths" : "");
		buf_putc(out, '\n');
	}
	/* With included files a line number alone is ambiguous: each
	 * line names its file then. */
	for (uint32_t i = 0; p->nfiles > 1 && i < p->nfiles; i++)
		if ((int)strlen(p->files[i]) + 6 > width)
			width = (int)strlen(p->files[i]) + 6;
	putf(out, "\n  pc  %-*s  instruction\n", width, "line");

	while (pc < p->code_len) {
		enum vm_opcode op = p->code[pc];
		const char *kinds = vm_opinfo[op].operands;
		uint32_t next = pc + vm_instr_len(op);
		char where[320];

		while (li + 1 < p->nlines && p->lines[li + 1].pc <= pc)
			li++;
		if (p->nfiles > 1 && p->nlines)
			snprintf(where, sizeof where, "%s:%u",
				 p->files[p->lines[li].file],
				 p->lines[li].line);
		else
			snprintf(where, sizeof where, "%4u",
				 p->nlines ? p->lines[li].line : 0);
		putf(out, "%4u  %-*s  %-16s", pc, width, where,
		     vm_opinfo[op].name);
		for (size_t k = 0; kinds[k]; k++) {
			uint32_t x = vm_u32(p->code + pc + 1 + 4 * k);

			buf_puts(out, k ? ", " : " ");
			switch (kinds[k]) {
			case 'p':
				put_path(p, x, out);
				break;
			case 'j':
				putf(out, "-> %u", next + x);
				break;
			case 'u':
				if (x == VM_NONE)
					buf_puts(out, "-");
				else
					putf(out, "%u", x);
				break;
			case 'e':
				buf_puts(out, x == VM_ELSE_NULL ? "else null"
					 : x == VM_ELSE_DELETE ? "else delete"
					 : "else reject");
				break;
			case 'S':
				if (x == VM_NONE) {
					buf_puts(out, "-");
					break;
				}
				put_const(p, x, out);
				break;
			case 'm':
				put_matcher(p, &p->consts[x], out);
				break;
			case 't':
				put_tree(p, &p->consts[x], 0, out);
				break;
			case 'd':
				buf_putc(out, '{');
				vm_detect_describe(x, out);
				buf_putc(out, '}');
				break;
			default:
				put_const(p, x, out);
				break;
			}
		}
		buf_putc(out, '\n');
		pc = next;
	}
}

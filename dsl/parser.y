/* parser.y - grammar of the .scrub policy language (pure bison parser).
 *
 * The grammar builds the syntax tree of ast.h and nothing else: names,
 * types and option combinations are checked by the compiler, which keeps
 * this file small and its errors purely syntactic. Each rule cites the
 * construct it parses. Errors are reported with the span of the offending
 * token; recovery resumes at the next statement keyword.
 */
%define api.pure full
%define api.prefix {dsl_yy}
%define api.location.type {struct dsl_loc}
%define parse.error custom
%define parse.lac full
%locations
%param {struct dsl_parser *ps}

%code requires {
#include "lexutil.h"
}

%code provides {
/* The names flex's bison bridge expects. */
#define YYSTYPE DSL_YYSTYPE
#define YYLTYPE DSL_YYLTYPE
int dsl_lxlex(DSL_YYSTYPE *lval, DSL_YYLTYPE *lloc, void *scanner);
}

%code {
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vm/alloc.h"

#define YYLLOC_DEFAULT(cur, rhs, n) do {				\
		if (n) {						\
			(cur).start = YYRHSLOC(rhs, 1).start;		\
			(cur).end = YYRHSLOC(rhs, n).end;		\
		} else {						\
			(cur).start = (cur).end = YYRHSLOC(rhs, 0).end;	\
		}							\
	} while (0)

#define YYMALLOC scrub_malloc
#define YYFREE free

/* Keep what error messages look back at: the last tokens, the brackets
 * still open, whether a `policy` header was begun. */
static void track(struct dsl_parser *ps, int t, struct dsl_loc loc)
{
	memmove(ps->tok + 1, ps->tok, 3 * sizeof *ps->tok);
	memmove(ps->tok_loc + 1, ps->tok_loc, 3 * sizeof *ps->tok_loc);
	ps->tok[0] = t;
	ps->tok_loc[0] = loc;
	if (t == POLICY && ps->out)
		ps->out->saw_policy = 1;
	if (t == '{' || t == '[' || t == '(') {
		if (ps->depth < DSL_MAX_OPEN)
			ps->open[ps->depth] = (struct dsl_open){
				loc.start, (char)t, (uint8_t)ps->recovering };
		ps->depth++;
	} else if ((t == '}' || t == ']' || t == ')') && ps->depth > 0) {
		ps->depth--;
		ps->closed_after_error = ps->depth < DSL_MAX_OPEN &&
					 ps->open[ps->depth].after_error;
	} else {
		ps->closed_after_error = 0;
	}
}

static int yylex(DSL_YYSTYPE *lval, DSL_YYLTYPE *lloc,
		 struct dsl_parser *ps)
{
	int t;

	/* A bare event pattern is parsed through a token of its own. */
	if (ps->start_token) {
		t = ps->start_token;
		ps->start_token = 0;
		lloc->start = lloc->end = 0;
		return t;
	}
	t = dsl_lxlex(lval, lloc, ps->scanner);
	track(ps, t, *lloc);
	return t;
}

/* Only called by bison itself when its stack is exhausted. */
static void yyerror(const DSL_YYLTYPE *loc, struct dsl_parser *ps,
		    const char *msg)
{
	dsl_lex_error(ps, *loc, "%s", msg);
}

static struct dsl_stmt *stmt(struct dsl_parser *ps, enum dsl_stmt_kind k,
			     struct dsl_loc all, struct dsl_loc kw)
{
	struct dsl_stmt *s = dsl_alloc(ps->arena, sizeof *s);

	if (s != NULL) {
		s->kind = k;
		s->span = dsl_span_of(ps, all);
		s->kw = dsl_span_of(ps, kw);
	}
	return s;
}

static struct dsl_expr *expr(struct dsl_parser *ps, enum dsl_expr_kind k,
			     struct dsl_loc loc)
{
	struct dsl_expr *e = dsl_alloc(ps->arena, sizeof *e);

	if (e != NULL) {
		e->kind = k;
		e->span = dsl_span_of(ps, loc);
	}
	return e;
}

static struct dsl_diag *error_at(struct dsl_parser *ps, struct dsl_loc loc,
				 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An 'and', 'or' or 'not' node, unless it would nest past
 * DSL_MAX_COND_DEPTH: then the error is reported once, at the operator,
 * and the chain stops growing (its left side stands for it), so no walker
 * ever recurses deeper than the limit. */
static struct dsl_expr *logic(struct dsl_parser *ps, enum dsl_expr_kind k,
			      struct dsl_loc loc, struct dsl_loc op,
			      struct dsl_expr *a, struct dsl_expr *b)
{
	uint32_t da = a ? a->depth : 0, db = b ? b->depth : 0;
	uint32_t depth = (da > db ? da : db) + 1;
	struct dsl_expr *e;

	if (depth > DSL_MAX_COND_DEPTH) {
		if (da <= DSL_MAX_COND_DEPTH && db <= DSL_MAX_COND_DEPTH) {
			struct dsl_diag *d = error_at(ps, op,
				"condition nests 'and', 'or' and 'not' more "
				"than %d levels deep", DSL_MAX_COND_DEPTH);

			if (d != NULL && k != EX_NOT)
				dsl_diag_hint(ps->ctx, d, "to compare one path "
					      "with many values, write "
					      "'PATH in [V, ...]'");
		}
		if (a != NULL)
			a->depth = DSL_MAX_COND_DEPTH + 1;
		return a;
	}
	e = expr(ps, k, loc);
	if (e != NULL) {
		e->a = a;
		e->b = b;
		e->depth = depth;
	}
	return e;
}

static struct dsl_json *json(struct dsl_parser *ps, enum dsl_json_kind k,
			     struct dsl_loc loc, struct dsl_str text)
{
	struct dsl_json *j = dsl_alloc(ps->arena, sizeof *j);

	if (j != NULL) {
		j->kind = k;
		j->span = dsl_span_of(ps, loc);
		j->text = text.s;
		j->len = text.len;
	}
	return j;
}

static struct dsl_opt *opt(struct dsl_parser *ps, enum dsl_opt_kind k,
			   struct dsl_loc loc)
{
	struct dsl_opt *o = dsl_alloc(ps->arena, sizeof *o);

	if (o != NULL) {
		o->kind = k;
		o->span = dsl_span_of(ps, loc);
	}
	return o;
}

/* A non-negative integer option argument such as `keep last 4`. */
static int64_t whole(struct dsl_parser *ps, struct dsl_str n,
		     struct dsl_loc loc)
{
	int64_t v = 0;

	for (size_t i = 0; i < n.len; i++) {
		if (n.s[i] < '0' || n.s[i] > '9' || v > 1000000000) {
			dsl_lex_error(ps, loc,
				      "expected a whole number, found '%s'",
				      n.s);
			return -1;
		}
		v = v * 10 + (n.s[i] - '0');
	}
	return v;
}

static void push(struct dsl_parser *ps, struct dsl_list *l, void *item)
{
	if (item != NULL && dsl_list_push(ps->arena, l, item) != 0)
		ps->arena->failed = 1;
}

/* The first item of a comma-separated list starts the list. */
static void push_first(struct dsl_parser *ps, struct dsl_list *l,
		       void *item)
{
	memset(l, 0, sizeof *l);
	push(ps, l, item);
}

/* Name statement s (if there is one) by the string or word at `at`. */
static struct dsl_stmt *named(struct dsl_parser *ps, struct dsl_stmt *s,
			      struct dsl_str name, struct dsl_loc at)
{
	if (s != NULL) {
		s->name = name.s;
		s->name_span = dsl_span_of(ps, at);
	}
	return s;
}

static const struct dsl_str no_text = { NULL, 0 };

/* A keyword's own text, where it stands for a name. */
static struct dsl_str token_text(struct dsl_parser *ps, struct dsl_loc loc)
{
	const char *src = ps->ctx->sources[ps->file].text;
	struct dsl_str t;

	t.len = loc.end - loc.start;
	t.s = dsl_strndup(ps->arena, src + loc.start, t.len);
	if (t.s == NULL)
		ps->arena->failed = 1;
	return t;
}
}

%union {
	struct dsl_str str;
	struct dsl_path *path;
	struct dsl_regex *re;
	struct dsl_json *json;
	struct dsl_expr *expr;
	struct dsl_stmt *stmt;
	struct dsl_opt *opt;
	struct dsl_list list;
	enum dsl_cmp cmp;
}

%token <str> STRING "string" NUMBER "number" IDENT "name"
%token <str> PARAMREF "parameter"
%token <path> PATH "path"
%token <re> REGEX "regular expression"
%token POLICY "policy" INCLUDE "include" PARAM "param" OUTPUT "output"
%token SELECT "select" DROP "drop" WHEN "when" SAMPLE "sample" BY "by"
%token RULE "rule" ON "on"
%token SET "set" DELETE "delete" RENAME "rename" COPY "copy" KEEP "keep"
%token MASK "mask" PSEUDONYMIZE "pseudonymize" REPLACE "replace"
%token TRUNCATE "truncate" REDACT "redact" ROUND "round" BUCKET "bucket"
%token SHIFT "shift" TOKENIZE "tokenize"
%token TO "to" WITH "with" AS "as" LENGTH "length" ELSE "else"
%token USING "using" WITHIN "within" PREFIX "prefix" KEY "key"
%token KEEP_FIRST "keep first" KEEP_LAST "keep last"
%token MATCHES "matches" MATCHING "matching" IN "in" EXISTS "exists"
%token AND "and" OR "or" NOT "not"
%token TRUE "true" FALSE "false" NUL "null"
%token EQ "==" NE "!=" LE "<=" GE ">=" LT "<" GT ">"
%token LEXERROR "invalid token"
%token PATTERN_START "event pattern"

%type <stmt> stmt action block_rule
%type <list> stmts block pathlist opts members elements names
%type <opt> opt prefixes
%type <expr> expr operand opt_when rate
%type <json> json_value json_scalar json_object json_array member value
%type <str> opt_reason else_word param_name
%type <cmp> cmpop

%left OR
%left AND
%precedence NOT

%%

/* file: a policy is a list of statements; or, for `scrub test-pattern`,
 * one JSON value: an event pattern on its own. */
file:
	top
	| PATTERN_START json_value { ps->pattern = $2; }
	;

/* The file's own statements go straight into the result, so that those
 * before an error that ends the parse (an unclosed '{') are still
 * checked: the header among them. */
top:
	%empty
	| top stmt {
		/* In step again: report the next error, however near. */
		push(ps, &ps->out->stmts, $2);
		ps->recovering = 0;
		yyerrok;
	}
	| top error
	;

stmts:
	%empty			{ memset(&$$, 0, sizeof $$); }
	| stmts stmt {
		$$ = $1;
		push(ps, &$$, $2);
		ps->recovering = 0;
		yyerrok;
	}
	| stmts error		{ $$ = $1; }
	;

/* stmt: the header statements, selection and dropping, rules, actions. */
stmt:
	POLICY STRING {
		$$ = named(ps, stmt(ps, ST_POLICY, @$, @1), $2, @2);
	}
	| INCLUDE STRING {
		$$ = named(ps, stmt(ps, ST_INCLUDE, @$, @1), $2, @2);
	}
	| PARAM param_name '=' json_scalar {
		$$ = named(ps, stmt(ps, ST_PARAM, @$, @1), $2, @2);
		if ($$) $$->value = $4;
	}
	| OUTPUT IDENT {
		$$ = named(ps, stmt(ps, ST_OUTPUT, @$, @1), $2, @2);
	}
	| SELECT expr {
		$$ = stmt(ps, ST_SELECT, @$, @1);
		if ($$) $$->cond = $2;
	}
	| DROP opt_reason opt_when {
		$$ = stmt(ps, ST_DROP, @$, @1);
		if ($$) {
			$$->name = $2.s;
			$$->name_span = dsl_span_of(ps, @2);
			$$->cond = $3;
		}
	}
	| SAMPLE rate '%' BY pathlist {
		$$ = stmt(ps, ST_SAMPLE, @$, @1);
		if ($$) { $$->rate = $2; $$->paths = $5; }
	}
	| block_rule
	| action
	;

/* A parameter may be named by a word that is a keyword only after an
 * action (key, prefix...), so that the checker can judge the name. */
param_name:
	IDENT
	| KEY		{ $$ = token_text(ps, @1); }
	| PREFIX	{ $$ = token_text(ps, @1); }
	| WITHIN	{ $$ = token_text(ps, @1); }
	| USING		{ $$ = token_text(ps, @1); }
	| REDACT	{ $$ = token_text(ps, @1); }
	| ROUND		{ $$ = token_text(ps, @1); }
	| BUCKET	{ $$ = token_text(ps, @1); }
	| SHIFT		{ $$ = token_text(ps, @1); }
	| TOKENIZE	{ $$ = token_text(ps, @1); }
	;

opt_reason:
	%empty			{ $$ = no_text; }
	| STRING
	;

opt_when:
	%empty			{ $$ = NULL; }
	| WHEN expr		{ $$ = $2; }
	;

rate:
	NUMBER {
		$$ = expr(ps, EX_LITERAL, @$);
		if ($$) $$->json = json(ps, DJ_NUMBER, @1, $1);
	}
	| PARAMREF {
		$$ = expr(ps, EX_PARAM, @$);
		if ($$) $$->name = $1.s;
	}
	;

/* rule "name" [when COND] { ... }   or   on COND { ... } */
block_rule:
	RULE STRING opt_when block {
		$$ = stmt(ps, ST_RULE, @$, @1);
		if ($$) {
			$$->name = $2.s;
			$$->name_span = dsl_span_of(ps, @2);
			$$->cond = $3;
			$$->body = $4;
		}
	}
	| ON expr block {
		$$ = stmt(ps, ST_RULE, @$, @1);
		if ($$) { $$->cond = $2; $$->body = $3; $$->implicit_name = 1; }
	}
	;

block:
	'{' stmts '}'		{ $$ = $2; }
	;

/* action: what a rule does to the event. */
action:
	SET PATH '=' value {
		$$ = stmt(ps, ST_SET, @$, @1);
		if ($$) { push(ps, &$$->paths, $2); $$->value = $4; }
	}
	| DELETE pathlist {
		$$ = stmt(ps, ST_DELETE, @$, @1);
		if ($$) $$->paths = $2;
	}
	| RENAME PATH TO PATH {
		$$ = stmt(ps, ST_RENAME, @$, @1);
		if ($$) { push(ps, &$$->paths, $2); $$->dest = $4; }
	}
	| COPY PATH TO PATH {
		$$ = stmt(ps, ST_COPY, @$, @1);
		if ($$) { push(ps, &$$->paths, $2); $$->dest = $4; }
	}
	| KEEP pathlist {
		$$ = stmt(ps, ST_KEEP, @$, @1);
		if ($$) $$->paths = $2;
	}
	| MASK pathlist opts {
		$$ = stmt(ps, ST_MASK, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| PSEUDONYMIZE pathlist opts {
		$$ = stmt(ps, ST_PSEUDONYMIZE, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| REPLACE pathlist opts {
		$$ = stmt(ps, ST_REPLACE, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| TRUNCATE pathlist opts {
		$$ = stmt(ps, ST_TRUNCATE, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| REDACT pathlist opts {
		$$ = stmt(ps, ST_REDACT, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| ROUND pathlist opts {
		$$ = stmt(ps, ST_ROUND, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| BUCKET pathlist opts {
		$$ = stmt(ps, ST_BUCKET, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| SHIFT pathlist opts {
		$$ = stmt(ps, ST_SHIFT, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	| TOKENIZE pathlist opts {
		$$ = stmt(ps, ST_TOKENIZE, @$, @1);
		if ($$) { $$->paths = $2; $$->opts = $3; }
	}
	;

pathlist:
	PATH			{ push_first(ps, &$$, $1); }
	| pathlist ',' PATH	{ $$ = $1; push(ps, &$$, $3); }
	;

/* opts: the words after an action's paths, in any order. */
opts:
	%empty			{ memset(&$$, 0, sizeof $$); }
	| opts opt		{ $$ = $1; push(ps, &$$, $2); }
	;

opt:
	KEEP_FIRST NUMBER {
		$$ = opt(ps, OPT_KEEP_FIRST, @$);
		if ($$) $$->num = whole(ps, $2, @2);
	}
	| KEEP_LAST NUMBER {
		$$ = opt(ps, OPT_KEEP_LAST, @$);
		if ($$) $$->num = whole(ps, $2, @2);
	}
	| WITH value {
		$$ = opt(ps, OPT_WITH, @$);
		if ($$) $$->value = $2;
	}
	| AS STRING {
		$$ = opt(ps, OPT_AS, @$);
		if ($$) $$->value = json(ps, DJ_STRING, @2, $2);
	}
	| LENGTH NUMBER {
		$$ = opt(ps, OPT_LENGTH, @$);
		if ($$) $$->num = whole(ps, $2, @2);
	}
	| TO prefixes		{ $$ = $2; }
	| ELSE else_word {
		$$ = opt(ps, OPT_ELSE, @$);
		if ($$) $$->word = $2.s;
	}
	| MATCHING REGEX {
		$$ = opt(ps, OPT_MATCHING, @$);
		if ($$) $$->re = $2;
	}
	| WITH IDENT {
		/* redact ... with label|pseudonym|fake */
		$$ = opt(ps, OPT_WITH, @$);
		if ($$) $$->word = $2.s;
	}
	| WITH MASK {
		$$ = opt(ps, OPT_WITH, @$);
		if ($$) $$->word = "mask";
	}
	| USING names {
		$$ = opt(ps, OPT_USING, @$);
		if ($$) {
			$$->value = json(ps, DJ_ARRAY, @2, no_text);
			if ($$->value)
				$$->value->items = $2;
		}
	}
	| AND IDENT {
		/* redact ... and keys */
		$$ = opt(ps, OPT_KEYS, @$);
		if ($$) $$->word = $2.s;
	}
	| TO NUMBER {
		$$ = opt(ps, OPT_TO_NUMBER, @$);
		if ($$) $$->value = json(ps, DJ_NUMBER, @2, $2);
	}
	| BY NUMBER {
		$$ = opt(ps, OPT_BY_NUMBER, @$);
		if ($$) $$->value = json(ps, DJ_NUMBER, @2, $2);
	}
	| BY PATH {
		$$ = opt(ps, OPT_BY_PATH, @$);
		if ($$) $$->path = $2;
	}
	| WITHIN NUMBER IDENT {
		$$ = opt(ps, OPT_WITHIN, @$);
		if ($$) { $$->num = whole(ps, $2, @2); $$->word = $3.s; }
	}
	| PREFIX STRING {
		$$ = opt(ps, OPT_PREFIX_TEXT, @$);
		if ($$) $$->value = json(ps, DJ_STRING, @2, $2);
	}
	| KEY STRING {
		$$ = opt(ps, OPT_KEY_ID, @$);
		if ($$) $$->value = json(ps, DJ_STRING, @2, $2);
	}
	;

/* using email, phone: detector and group names, kept as JSON strings so
 * that each keeps its span for diagnostics. */
names:
	IDENT {
		memset(&$$, 0, sizeof $$);
		push(ps, &$$, json(ps, DJ_STRING, @1, $1));
	}
	| names ',' IDENT {
		$$ = $1;
		push(ps, &$$, json(ps, DJ_STRING, @3, $3));
	}
	;

/* to /24  or  to /24, /64: the prefix lengths, kept as a JSON array. */
prefixes:
	'/' NUMBER {
		$$ = opt(ps, OPT_PREFIX, @$);
		if ($$) {
			$$->value = json(ps, DJ_ARRAY, @$, no_text);
			if ($$->value)
				push(ps, &$$->value->items,
				     json(ps, DJ_NUMBER, @2, $2));
		}
	}
	| prefixes ',' '/' NUMBER {
		$$ = $1;
		if ($$) {
			$$->span.end = @4.end;
			if ($$->value)
				push(ps, &$$->value->items,
				     json(ps, DJ_NUMBER, @4, $4));
		}
	}
	;

/* else null|delete|reject. Any other word is read too, so that the
 * checker can say what it should be (`else drop`) and parsing goes on. */
else_word:
	NUL			{ $$.s = "null"; $$.len = 4; }
	| DELETE		{ $$.s = "delete"; $$.len = 6; }
	| IDENT
	| other_keyword		{ $$ = token_text(ps, @1); }
	;

other_keyword:
	POLICY | INCLUDE | PARAM | OUTPUT | SELECT | DROP | WHEN | SAMPLE
	| BY | RULE | ON | SET | RENAME | COPY | KEEP | MASK | PSEUDONYMIZE
	| REPLACE | TRUNCATE | REDACT | ROUND | BUCKET | SHIFT | TOKENIZE
	| TO | WITH | AS | LENGTH | ELSE | USING | WITHIN | PREFIX | KEY | IN
	| EXISTS | AND | OR | NOT | TRUE | FALSE
	;

value:
	json_value
	| PARAMREF		{ $$ = json(ps, DJ_PARAM, @$, $1); }
	;

/* expr: conditions of select, drop and rules. */
expr:
	expr OR expr {
		$$ = logic(ps, EX_OR, @$, @2, $1, $3);
	}
	| expr AND expr {
		$$ = logic(ps, EX_AND, @$, @2, $1, $3);
	}
	| NOT expr {
		$$ = logic(ps, EX_NOT, @$, @1, $2, NULL);
	}
	| '(' expr ')'		{ $$ = $2; }
	| operand cmpop operand {
		$$ = expr(ps, EX_CMP, @$);
		if ($$) { $$->cmp = $2; $$->a = $1; $$->b = $3; }
	}
	| operand IN json_array {
		$$ = expr(ps, EX_IN, @$);
		if ($$) { $$->a = $1; $$->json = $3; }
	}
	| operand MATCHES REGEX {
		$$ = expr(ps, EX_MATCHES, @$);
		if ($$) { $$->a = $1; $$->re = $3; }
	}
	| EXISTS PATH {
		$$ = expr(ps, EX_EXISTS, @$);
		if ($$) $$->path = $2;
	}
	| json_object {
		$$ = expr(ps, EX_PATTERN, @$);
		if ($$) $$->json = $1;
	}
	;

cmpop:
	EQ	{ $$ = CMP_EQ; }
	| NE	{ $$ = CMP_NE; }
	| LT	{ $$ = CMP_LT; }
	| LE	{ $$ = CMP_LE; }
	| GT	{ $$ = CMP_GT; }
	| GE	{ $$ = CMP_GE; }
	;

operand:
	PATH {
		$$ = expr(ps, EX_PATH, @$);
		if ($$) $$->path = $1;
	}
	| json_scalar {
		$$ = expr(ps, EX_LITERAL, @$);
		if ($$) $$->json = $1;
	}
	| PARAMREF {
		$$ = expr(ps, EX_PARAM, @$);
		if ($$) $$->name = $1.s;
	}
	;

/* JSON values, as in RFC 8259: literals and event patterns. */
json_value:
	json_scalar
	| json_object
	| json_array
	;

json_scalar:
	STRING		{ $$ = json(ps, DJ_STRING, @$, $1); }
	| NUMBER	{ $$ = json(ps, DJ_NUMBER, @$, $1); }
	| TRUE		{ $$ = json(ps, DJ_TRUE, @$, no_text); }
	| FALSE		{ $$ = json(ps, DJ_FALSE, @$, no_text); }
	| NUL		{ $$ = json(ps, DJ_NULL, @$, no_text); }
	;

json_object:
	'{' '}'		{ $$ = json(ps, DJ_OBJECT, @$, no_text); }
	| '{' members '}' {
		$$ = json(ps, DJ_OBJECT, @$, no_text);
		if ($$) $$->items = $2;
	}
	;

members:
	member			{ push_first(ps, &$$, $1); }
	| members ',' member	{ $$ = $1; push(ps, &$$, $3); }
	;

member:
	STRING ':' json_value {
		$$ = $3;
		if ($$) {
			$$->key = $1.s;
			$$->keylen = $1.len;
			$$->key_span = dsl_span_of(ps, @1);
		}
	}
	;

json_array:
	'[' ']'		{ $$ = json(ps, DJ_ARRAY, @$, no_text); }
	| '[' elements ']' {
		$$ = json(ps, DJ_ARRAY, @$, no_text);
		if ($$) $$->items = $2;
	}
	;

elements:
	json_value		{ push_first(ps, &$$, $1); }
	| elements ',' json_value { $$ = $1; push(ps, &$$, $3); }
	;

%%

/* Bison's names for tokens, without the quotes it adds. */
static void token_name(yysymbol_kind_t k, struct buf *out)
{
	const char *n = yysymbol_name(k);
	size_t len = strlen(n);

	if (len >= 2 && n[0] == '"' && n[len - 1] == '"') {
		buf_putc(out, '\'');
		buf_put(out, n + 1, len - 2);
		buf_putc(out, '\'');
	} else if (k == YYSYMBOL_YYEOF) {
		buf_puts(out, "end of file");
	} else if (len == 3 && n[0] == '\'') {
		buf_puts(out, n);
	} else {
		buf_puts(out, n);
	}
}

/* Does a statement keyword fit here? Then an unknown word is most likely
 * a misspelt action. */
static int expects_statement(const yysymbol_kind_t *exp, int n)
{
	for (int i = 0; i < n; i++)
		if (exp[i] == YYSYMBOL_MASK || exp[i] == YYSYMBOL_DROP)
			return 1;
	return 0;
}

/* Is the character token `c`, or the token `kind`, expected here? */
static int expects(const yysymbol_kind_t *exp, int n, char c,
		   yysymbol_kind_t kind)
{
	char name[4] = { '\'', c, '\'', '\0' };

	for (int i = 0; i < n; i++)
		if (exp[i] == kind ||
		    (c && strcmp(yysymbol_name(exp[i]), name) == 0))
			return 1;
	return 0;
}

/* Where a JSON value fits, say so rather than list every literal. */
static int expects_value(const yysymbol_kind_t *exp, int n)
{
	int seen = 0;

	for (int i = 0; i < n; i++)
		seen |= (exp[i] == YYSYMBOL_STRING) |
			(exp[i] == YYSYMBOL_NUMBER) << 1 |
			(exp[i] == YYSYMBOL_NUL) << 2;
	return seen == 7;
}

/* Is text[0..n) a bare word, such as a name or a keyword? */
static int is_word(const char *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = (char)(t[i] | 0x20);

		if (!(c >= 'a' && c <= 'z') && t[i] != '_' &&
		    (i == 0 || ((t[i] < '0' || t[i] > '9') && t[i] != '-')))
			return 0;
	}
	return n > 0;
}

/* The run of source text from `at` that reads as one thing to the
 * author (`detail.foo`, `base.scrub`): up to a space, ',' or bracket. */
static size_t run_length(const char *text, uint32_t at)
{
	size_t n = 0;

	while (text[at + n] && !strchr(" \t\r\n,{}()", text[at + n]))
		n++;
	return n;
}

/* Is the token at `loc` the first thing on its line? */
static int starts_line(const char *text, struct dsl_loc loc)
{
	uint32_t i = loc.start;

	while (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t'))
		i--;
	return i == 0 || text[i - 1] == '\n';
}

static struct dsl_diag *error_at(struct dsl_parser *ps, struct dsl_loc loc,
				 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return dsl_diag(ps->ctx, DSL_ERROR, dsl_span_of(ps, loc), "syntax",
			"%s", msg);
}

/* Errors that the tokens before the offending one explain better than
 * the list of what the grammar expected. Returns 1 when it reported. */
static int explain_by_context(struct dsl_parser *ps, yysymbol_kind_t tok,
			      const yysymbol_kind_t *exp, int n)
{
	static const char *const else_words[] = { "null", "delete",
						   "reject", NULL };
	static const char *const ends[] = { "first", "last", NULL };
	const char *text = ps->ctx->sources[ps->file].text;
	struct dsl_loc loc = ps->tok_loc[0], prev = ps->tok_loc[1];
	const char *word = text + loc.start, *near;
	size_t len = loc.end - loc.start;
	int bare = tok != YYSYMBOL_YYEOF && is_word(word, len);
	struct dsl_diag *d;

	switch (ps->tok[1]) {
	case ELSE:
		/* `else drop`: the grammar's "name" is `reject`. */
		d = error_at(ps, loc, "expected 'null', 'delete' or 'reject' "
			     "after 'else'");
		near = bare ? dsl_nearest(word, len, else_words) : NULL;
		if (near)
			dsl_diag_hint(ps->ctx, d, "did you mean 'else %s'?",
				      near);
		return 1;
	case KEEP:
		/* `mask .a keep lst 4`: after an action's paths, `keep` is
		 * `keep first N` or `keep last N`; a statement `keep`
		 * starts its own line. */
		if (starts_line(text, prev))
			break;
		d = error_at(ps, loc, "expected 'first' or 'last' after "
			     "'keep'");
		near = bare ? dsl_nearest(word, len, ends) : NULL;
		if (near)
			dsl_diag_hint(ps->ctx, d, "did you mean 'keep %s'?",
				      near);
		return 1;
	case '}':
	case '{':
		/* `on { ... }`, or `on {}` read as an empty pattern. */
		if (ps->tok[1] == '}' && ps->tok[2] == '{' && ps->tok[3] == ON)
			prev = ps->tok_loc[2];
		else if (ps->tok[1] != '{' || ps->tok[2] != ON)
			break;
		d = error_at(ps, prev, "expected a condition after 'on'");
		dsl_diag_hint(ps->ctx, d, "a rule that always runs is written "
			      "'rule \"NAME\" { ... }'");
		return 1;
	case POLICY:
	case RULE:
	case INCLUDE:
		if (tok == YYSYMBOL_STRING || !bare)
			break;
		d = error_at(ps, loc, "expected a string before '%.*s'",
			     (int)len, word);
		dsl_diag_hint(ps->ctx, d, "names are quoted: did you mean "
			      "'%.*s \"%.*s\"'?", (int)(prev.end - prev.start),
			      text + prev.start,
			      (int)run_length(text, loc.start), word);
		return 1;
	case PATH:
		/* `.a.`, `.a.[0]`: a dot that no name follows. */
		if (tok != YYSYMBOL_PATH || prev.end != loc.start)
			break;
		d = error_at(ps, (struct dsl_loc){ loc.start, loc.start + 1 },
			     "expected a name after '.'");
		if (len > 1 && word[1] == '[')
			dsl_diag_hint(ps->ctx, d, "an index follows its name "
				      "directly: did you mean '%.*s%.*s'?",
				      (int)(prev.end - prev.start),
				      text + prev.start, (int)len - 1,
				      word + 1);
		return 1;
	default:
		break;
	}
	if (tok == YYSYMBOL_YYEOF)
		return 0;
	if (bare && expects(exp, n, 0, YYSYMBOL_PATH) &&
	    (ps->tok[1] == EQ || ps->tok[1] == NE)) {
		/* `.status == PLACED`: compared with a path is possible,
		 * but a bare word is most likely an unquoted string. */
		d = error_at(ps, loc, "expected a value or a path before "
			     "'%.*s'", (int)len, word);
		dsl_diag_hint(ps->ctx, d, "strings are quoted: did you mean "
			      "'\"%.*s\"'?", (int)len, word);
		return 1;
	}
	if (bare && expects(exp, n, 0, YYSYMBOL_PATH)) {
		/* `delete detail.foo` */
		d = error_at(ps, loc, "expected a path before '%.*s'",
			     (int)len, word);
		dsl_diag_hint(ps->ctx, d, "paths start with '.': did you mean "
			      "'.%.*s'?", (int)run_length(text, loc.start),
			      word);
		return 1;
	}
	if (len == 1 && word[0] == '=' && expects(exp, n, 0, YYSYMBOL_EQ)) {
		d = error_at(ps, loc, "expected a comparison (==, !=, <, <=, "
			     ">, >=, in, matches) before '='");
		dsl_diag_hint(ps->ctx, d, "did you mean '=='?");
		return 1;
	}
	return 0;
}

/* At the end of the file, say where the bracket still open was
 * opened. */
static void note_unclosed(struct dsl_parser *ps)
{
	const struct dsl_open *o;

	if (ps->depth == 0 || ps->depth > DSL_MAX_OPEN)
		return;
	o = &ps->open[ps->depth - 1];
	dsl_diag(ps->ctx, DSL_NOTE, (struct dsl_span){ ps->file, o->at,
		 o->at + 1 }, "syntax", "'%c' opened here", o->c);
}

/* Brackets open at an error may close where the parser no longer
 * expects it: a closer of one of them is not worth another error. */
static void mark_open(struct dsl_parser *ps)
{
	ps->recovering = 1;
	for (unsigned i = 0; i < ps->depth && i < DSL_MAX_OPEN; i++)
		ps->open[i].after_error = 1;
}

static int yyreport_syntax_error(const yypcontext_t *yyctx,
				 struct dsl_parser *ps)
{
	enum { MAX_LISTED = 4, MAX_EXPECTED = 64 };
	yysymbol_kind_t exp[MAX_EXPECTED];
	yysymbol_kind_t tok = yypcontext_token(yyctx);
	const DSL_YYLTYPE *loc = yypcontext_location(yyctx);
	const struct dsl_source *src = &ps->ctx->sources[ps->file];
	int n = yypcontext_expected_tokens(yyctx, exp, MAX_EXPECTED);
	int closer = tok == YYSYMBOL_YYEOF ? 0 : ps->tok[0], quiet;
	struct dsl_diag *d;
	struct buf msg;
	size_t tlen;

	/* The lexer already explained its own errors, and a closer of a
	 * bracket opened around an error is that error's echo. */
	quiet = tok == YYSYMBOL_LEXERROR ||
		((closer == '}' || closer == ']' || closer == ')') &&
		 ps->closed_after_error);
	mark_open(ps);
	if (quiet)
		return 0;

	buf_init(&msg, 4096);
	tlen = loc->end - loc->start;
	if (tok == YYSYMBOL_IDENT && expects_statement(exp, n)) {
		/* After an action, an unknown word is most likely a
		 * misspelt option of it; elsewhere, a misspelt statement. */
		int option = expects(exp, n, 0, YYSYMBOL_ELSE);
		const char *word = src->text + loc->start, *near = NULL;

		d = dsl_diag(ps->ctx, DSL_ERROR, dsl_span_of(ps, *loc),
			     option ? "unknown-option" : "unknown-statement",
			     "unknown %s '%.*s'", option ? "option or statement"
			     : "statement", (int)tlen, word);
		if (option)
			near = dsl_nearest(word, tlen, dsl_option_words);
		if (near == NULL)
			near = dsl_nearest(word, tlen, dsl_statement_words);
		if (near)
			dsl_diag_hint(ps->ctx, d, "did you mean '%s'?", near);
		/* A misspelt header is this error, not a missing one too. */
		if (near && strcmp(near, "policy") == 0 && ps->out)
			ps->out->saw_policy = 1;
		return 0;
	}
	if (explain_by_context(ps, tok, exp, n))
		return 0;
	if (tok == YYSYMBOL_PATH && expects(exp, n, ',', YYSYMBOL_YYEMPTY)) {
		buf_puts(&msg, "expected ',' between paths, before ");
	} else if (expects(exp, n, 0, YYSYMBOL_EQ)) {
		buf_puts(&msg, "expected a comparison (==, !=, <, <=, >, >=, "
			 "in, matches) before ");
	} else if (expects_value(exp, n)) {
		buf_puts(&msg, "expected a value before ");
	} else if (n > 0 && n <= MAX_LISTED) {
		buf_puts(&msg, "expected ");
		for (int i = 0; i < n; i++) {
			if (i > 0)
				buf_puts(&msg, i == n - 1 ? " or " : ", ");
			token_name(exp[i], &msg);
		}
		buf_puts(&msg, " before ");
	} else if (tok == YYSYMBOL_YYEOF && ps->depth > 0 &&
		   ps->depth <= DSL_MAX_OPEN &&
		   expects(exp, n, ps->open[ps->depth - 1].c == '{' ? '}'
			   : ps->open[ps->depth - 1].c == '[' ? ']' : ')',
			   YYSYMBOL_YYEMPTY)) {
		/* In a rule's block anything may come; what is missing is
		 * the end of it. */
		char c = ps->open[ps->depth - 1].c;

		buf_puts(&msg, c == '{' ? "expected '}' before "
			 : c == '[' ? "expected ']' before "
			 : "expected ')' before ");
	} else {
		buf_puts(&msg, "unexpected ");
	}
	if (tok == YYSYMBOL_YYEOF) {
		buf_puts(&msg, "end of file");
	} else {
		buf_putc(&msg, '\'');
		buf_put(&msg, src->text + loc->start, tlen > 40 ? 40 : tlen);
		buf_puts(&msg, tlen > 40 ? "...'" : "'");
	}
	buf_putc(&msg, '\0');
	if (!buf_failed(&msg) &&
	    dsl_diag(ps->ctx, DSL_ERROR, dsl_span_of(ps, *loc), "syntax",
		     "%s", msg.data) != NULL && tok == YYSYMBOL_YYEOF)
		note_unclosed(ps);
	buf_free(&msg);
	return 0;
}

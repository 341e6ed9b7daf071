/* check_json.c - the event document: parsing, printing, editing, limits,
 * and the public JSONTestSuite. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/json.h"
#include "helpers.h"

static struct json_doc doc;

static void setup(void)
{
	struct json_limits lim = { 1000, 1u << 20, 16u << 20 };

	ck_assert_int_eq(json_doc_init(&doc, &lim), 0);
}

static void teardown(void)
{
	json_doc_free(&doc);
}

/* Parse and print back; the printed text, or "ERR <code>@<offset>". */
static const char *roundtrip(const char *in, int canonical, char *out,
			     size_t n)
{
	struct buf b;
	enum json_error e = json_parse(&doc, in, strlen(in), canonical, 0);

	if (e != JSON_OK) {
		snprintf(out, n, "ERR %d@%zu", e, doc.err_offset);
		return out;
	}
	buf_init(&b, 1u << 20);
	json_write(&doc, doc.root, &b);
	snprintf(out, n, "%.*s", (int)b.len, b.data);
	buf_free(&b);
	return out;
}

static const struct {
	const char *in, *out;
} prints[] = {
	/* Untouched values print as written, whitespace removed. */
	{ "{\"a\":1}", "{\"a\":1}" },
	{ " { \"a\" : [ 1 , 2 ] } ", "{\"a\":[1,2]}" },
	{ "[12345678901234567890,1.50,-0,1E+2,1e-7]",
	  "[12345678901234567890,1.50,-0,1E+2,1e-7]" },
	{ "\"caf\\u00e9 \\/\"", "\"caf\\u00e9 \\/\"" },
	{ "{\"b\":1,\"a\":2}", "{\"b\":1,\"a\":2}" },
	{ "[[],{},[{}],\"\"]", "[[],{},[{}],\"\"]" },
	{ "\t\r\n true \n", "true" },
	/* Duplicate keys: the first one stays. */
	{ "{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":1,\"b\":2}" },
	{ "{\"a\":1,\"\\u0061\":2}", "{\"a\":1}" },
	{ "{\"x\":{\"k\":[1],\"k\":{\"z\":true}}}", "{\"x\":{\"k\":[1]}}" },
};

START_TEST(test_print)
{
	char out[512];

	ck_assert_str_eq(roundtrip(prints[_i].in, 0, out, sizeof out),
			 prints[_i].out);
}
END_TEST

static const struct {
	const char *in, *out;
} canon[] = {
	{ "\"caf\\u00e9 \\/ \\u0041\"", "\"café / A\"" },
	{ "\"\\ud83d\\ude42\"", "\"🙂\"" },
	{ "\"\\u001F\\u0008\\n\"", "\"\\u001f\\b\\n\"" },
	{ "\"\\u0022\\u005c\"", "\"\\\"\\\\\"" },
	{ "{\"k\\u00e9y\":\"ok\"}", "{\"kéy\":\"ok\"}" },
	{ "[\"raw é\",\"\\t\"]", "[\"raw é\",\"\\t\"]" },
};

START_TEST(test_canonical)
{
	char out[512];

	ck_assert_str_eq(roundtrip(canon[_i].in, 1, out, sizeof out),
			 canon[_i].out);
}
END_TEST

/* Invalid input: the error kind and the byte offset it names. */
static const struct {
	const char *in;
	enum json_error e;
	size_t at;
} bad[] = {
	{ "", JSON_E_SYNTAX, 0 },
	{ "{", JSON_E_SYNTAX, 1 },
	{ "{\"a\"}", JSON_E_SYNTAX, 4 },
	{ "{\"a\":}", JSON_E_SYNTAX, 5 },
	{ "{\"a\":1,}", JSON_E_SYNTAX, 7 },
	{ "[1,]", JSON_E_SYNTAX, 3 },
	{ "[1 2]", JSON_E_SYNTAX, 3 },
	{ "01", JSON_E_SYNTAX, 1 },
	{ "-", JSON_E_SYNTAX, 0 },
	{ "1.", JSON_E_SYNTAX, 0 },
	{ "1e", JSON_E_SYNTAX, 0 },
	{ "tru", JSON_E_SYNTAX, 0 },
	{ "nul", JSON_E_SYNTAX, 0 },
	{ "\"abc", JSON_E_SYNTAX, 4 },
	{ "\"a\\x\"", JSON_E_SYNTAX, 2 },
	{ "\"\\u12\"", JSON_E_SYNTAX, 1 },
	{ "\"a\tb\"", JSON_E_SYNTAX, 2 },
	{ "\"\\ud800\"", JSON_E_UTF8, 1 },
	{ "\"\\udc00\"", JSON_E_UTF8, 1 },
	{ "\"\\ud800\\u0041\"", JSON_E_UTF8, 1 },
	{ "\"\xff\"", JSON_E_UTF8, 1 },
	{ "\"\xc0\xaf\"", JSON_E_UTF8, 1 },
	{ "\"\xed\xa0\x80\"", JSON_E_UTF8, 1 },
	{ "\"\xf4\x90\x80\x80\"", JSON_E_UTF8, 1 },
	{ "{} x", JSON_E_SYNTAX, 3 },
	{ "[1}", JSON_E_SYNTAX, 2 },
	{ "{]", JSON_E_SYNTAX, 1 },
	{ "NaN", JSON_E_SYNTAX, 0 },
	{ "\xef\xbb\xbf{}", JSON_E_SYNTAX, 0 },
};

START_TEST(test_invalid)
{
	enum json_error e = json_parse(&doc, bad[_i].in, strlen(bad[_i].in),
				       0, 0);

	ck_assert_msg(e == bad[_i].e, "'%s': error %d, expected %d",
		      bad[_i].in, e, bad[_i].e);
	ck_assert_msg(doc.err_offset == bad[_i].at,
		      "'%s': offset %zu, expected %zu", bad[_i].in,
		      doc.err_offset, bad[_i].at);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char in[] = "{\"a\":\"x\0y\"}";

	ck_assert_int_eq(json_parse(&doc, in, sizeof in - 1, 0, 0),
			 JSON_E_SYNTAX);
	ck_assert_uint_eq(doc.err_offset, 7);
}
END_TEST

START_TEST(test_deep_nesting)
{
	size_t n = 100000;
	char *s = malloc(2 * n);

	memset(s, '[', n);
	memset(s + n, ']', n);
	ck_assert_int_eq(json_parse(&doc, s, 2 * n, 0, 0), JSON_E_DEPTH);
	ck_assert_uint_eq(doc.err_offset, 1000);
	/* Exactly at the limit is fine. */
	ck_assert_int_eq(json_parse(&doc, s + n - 1000, 2000, 0, 0), JSON_OK);
	free(s);
}
END_TEST

START_TEST(test_big_values)
{
	size_t n = 10u << 20;
	char *s = malloc(n + 2);
	size_t len;
	const char *v;

	/* A 10 MB string and a 100,000-digit number are just values. */
	s[0] = '"';
	memset(s + 1, 'a', n - 1);
	s[n] = '"';
	ck_assert_int_eq(json_parse(&doc, s, n + 1, 0, 0), JSON_OK);
	v = json_string(&doc, doc.root, &len);
	ck_assert_uint_eq(len, n - 1);
	ck_assert_int_eq(v[0], 'a');

	memset(s, '7', 100000);
	ck_assert_int_eq(json_parse(&doc, s, 100000, 0, 0), JSON_OK);
	ck_assert_int_eq(json_type_of(&doc, doc.root), JSON_NUMBER);
	ck_assert(json_number(&doc, doc.root) > 1e300);
	free(s);
}
END_TEST

START_TEST(test_too_many_values)
{
	struct json_limits lim = { 10, 5, 1024 };
	struct json_doc small;

	ck_assert_int_eq(json_doc_init(&small, &lim), 0);
	ck_assert_int_eq(json_parse(&small, "[1,2,3,4]", 9, 0, 0), JSON_OK);
	ck_assert_int_eq(json_parse(&small, "[1,2,3,4,5]", 11, 0, 0),
			 JSON_E_NODES);
	json_doc_free(&small);
}
END_TEST

/* Parse `in` whole, then lazily (looking up `key` first, if given) and
 * validate the rest without nodes: both must find the same error at the
 * same byte with the same message, or both none. */
static void validate_like_whole(struct json_doc *dd, const char *in,
				size_t n, const char *key)
{
	enum json_error whole, rest;
	const char *msg;
	size_t at;
	int later;

	whole = json_parse(dd, in, n, 0, 0);
	at = dd->err_offset;
	msg = dd->err_msg;
	rest = json_parse(dd, in, n, 0, 1);
	later = rest == JSON_OK;
	if (later) {
		if (key != NULL)
			json_member(dd, dd->root, key, strlen(key));
		rest = json_validate_rest(dd);
	}
	ck_assert_msg(rest == whole, "'%.*s': error %d, whole parse %d",
		      (int)n, in, rest, whole);
	if (whole == JSON_OK)
		return;
	ck_assert_msg(dd->err_offset == at, "'%.*s': at %zu, whole parse %zu",
		      (int)n, in, dd->err_offset, at);
	ck_assert_str_eq(dd->err_msg, msg);
	ck_assert(dd->failed || !later);
}

START_TEST(test_validate_rest_invalid)
{
	validate_like_whole(&doc, bad[_i].in, strlen(bad[_i].in), NULL);
	validate_like_whole(&doc, bad[_i].in, strlen(bad[_i].in), "a");
}
END_TEST

/* Limits counted without nodes: values before the pause are nodes,
 * values after it are only counted; depth goes on from the pause. */
static const char *const at_limits[] = {
	"{\"a\":1,\"b\":[2,3]}",		/* 5 values: fine */
	"{\"a\":1,\"b\":[2,3,4]}",	/* 6: one too many */
	"{\"a\":[1,2,3,4,5]}",
	"{\"b\":[[]],\"a\":1}",		/* depth 3: fine */
	"{\"b\":[[[]]],\"a\":1}",	/* depth 4: too deep */
	"{\"a\":{\"b\":[[]]}}",
	"{\"a\":{\"b\":[[[]]]}}",
	"{\"a\":[[[",
	"{\"b\":1,\"a\":[[[1,2]]],\"c\":2}",
	"{\"a\":1,\"a\":2,\"a\":3,\"a\":4,\"a\":5}",
};

START_TEST(test_validate_rest_limits)
{
	struct json_limits lim = { 3, 5, 1024 };
	struct json_doc small;
	const char *in = at_limits[_i];

	ck_assert_int_eq(json_doc_init(&small, &lim), 0);
	validate_like_whole(&small, in, strlen(in), NULL);
	validate_like_whole(&small, in, strlen(in), "a");
	validate_like_whole(&small, in, strlen(in), "b");
	validate_like_whole(&small, in, strlen(in), "zz");
	json_doc_free(&small);
}
END_TEST

static const char *printed(char *out, size_t n)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	json_write(&doc, doc.root, &b);
	snprintf(out, n, "%.*s", (int)b.len, b.data);
	buf_free(&b);
	return out;
}

START_TEST(test_edits)
{
	static const char in[] = "{\"a\":{\"x\":1, \"y\":[1,2]},\"b\":\"s\"}";
	char out[512];
	json_ref a, y, b, n;
	size_t len;

	ck_assert_int_eq(json_parse(&doc, in, sizeof in - 1, 0, 0), JSON_OK);
	a = json_member(&doc, doc.root, "a", 1);
	y = json_member(&doc, a, "y", 1);
	b = json_member(&doc, doc.root, "b", 1);
	ck_assert_uint_eq(json_length(&doc, y), 2);
	ck_assert_int_eq(json_string(&doc, b, &len)[0], 's');
	ck_assert_uint_eq(len, 1);

	ck_assert_int_eq(json_set_string(&doc, b, "new \"q\"", 7), 0);
	ck_assert_str_eq(printed(out, sizeof out),
			 "{\"a\":{\"x\":1,\"y\":[1,2]},"
			 "\"b\":\"new \\\"q\\\"\"}");

	json_remove(&doc, json_element(&doc, y, 0));
	n = json_append_member(&doc, a, "new key", 7);
	ck_assert_int_eq(json_set_json(&doc, n, "{\"z\":[true]}", 12), 0);
	ck_assert_str_eq(printed(out, sizeof out),
			 "{\"a\":{\"x\":1,\"y\":[2],"
			 "\"new key\":{\"z\":[true]}},"
			 "\"b\":\"new \\\"q\\\"\"}");

	ck_assert_int_eq(json_rename(&doc, b, "c", 1), 0);
	ck_assert_int_eq(json_set_copy(&doc, json_member(&doc, a, "x", 1),
				       a), 0);
	ck_assert_str_eq(printed(out, sizeof out),
			 "{\"a\":{\"x\":{\"x\":1,\"y\":[2],\"new key\":{\"z\":"
			 "[true]}},\"y\":[2],\"new key\":{\"z\":[true]}},"
			 "\"c\":\"new \\\"q\\\"\"}");
}
END_TEST

/* A lazy parse reads only as far as look-ups need; what it has not read
 * can still be wrong, which finishing the parse then finds. */
START_TEST(test_lazy)
{
	static const char in[] = "{\"a\":1,\"b\":{\"c\":2},\"d\":[1,}";
	json_ref a, b, c;

	ck_assert_int_eq(json_parse(&doc, in, sizeof in - 1, 0, 1), JSON_OK);
	ck_assert(doc.nodes[doc.root].flags & JN_OPEN);
	a = json_member(&doc, doc.root, "a", 1);
	ck_assert_uint_ne(a, 0);
	ck_assert_str_eq(json_text(&doc, a), "1,\"b\":{\"c\":2},\"d\":[1,}");
	b = json_member(&doc, doc.root, "b", 1);
	c = json_member(&doc, b, "c", 1);
	ck_assert_uint_ne(c, 0);
	ck_assert(!doc.failed);
	/* Asking for a key that is not there reads to the end: the error. */
	ck_assert_uint_eq(json_member(&doc, doc.root, "zz", 2), 0);
	ck_assert(doc.failed);
	ck_assert_int_eq(doc.err, JSON_E_SYNTAX);
	ck_assert_uint_eq(doc.err_offset, 26);
}
END_TEST

START_TEST(test_escaped_lookup)
{
	static const char in[] = "{\"caf\\u00e9\":1,\"t\\tab\":2}";
	json_ref r;

	ck_assert_int_eq(json_parse(&doc, in, sizeof in - 1, 0, 0), JSON_OK);
	r = json_member(&doc, doc.root, "café", strlen("café"));
	ck_assert_uint_ne(r, 0);
	ck_assert_str_eq(json_text(&doc, r), "1,\"t\\tab\":2}");
	ck_assert_uint_ne(json_member(&doc, doc.root, "t\tab", 4), 0);
	ck_assert_uint_eq(json_member(&doc, doc.root, "caf", 3), 0);
}
END_TEST

/* json_is_number: one number, exactly, as the parser reads one. */
static const struct {
	const char *text;
	int is;
} numbers[] = {
	{ "0", 1 }, { "-0", 1 }, { "12", 1 }, { "-1.5e+3", 1 },
	{ "1E9", 1 }, { "0.0e-0", 1 },
	{ "", 0 }, { "-", 0 }, { "01", 0 }, { "1.", 0 }, { ".5", 0 },
	{ "1e", 0 }, { "1e+", 0 }, { "+1", 0 }, { " 1", 0 }, { "1 ", 0 },
	{ "0x1", 0 }, { "NaN", 0 }, { "1,", 0 },
};

START_TEST(test_is_number)
{
	ck_assert_int_eq(json_is_number(numbers[_i].text,
					strlen(numbers[_i].text)),
			 numbers[_i].is);
}
END_TEST

/* json_u_escape: the length taken and the code point, within `avail`. */
static const struct {
	const char *text;
	size_t avail, len;
	uint32_t cp;
} uescapes[] = {
	{ "\\u00e9", 6, 6, 0xe9 },
	{ "\\u00E9x", 7, 6, 0xe9 },
	{ "\\ud83d\\ude42", 12, 12, 0x1f642 },
	/* The pair cut short, or a second half that is not low: alone. */
	{ "\\ud83d\\ude42", 11, 6, 0xd83d },
	{ "\\ud83d\\u0041", 12, 6, 0xd83d },
	{ "\\udc00", 6, 6, 0xdc00 },
	{ "\\u00e", 5, 0, 0 },
	{ "\\u00eg", 6, 0, 0 },
};

START_TEST(test_u_escape)
{
	uint32_t cp = 0;

	ck_assert_uint_eq(json_u_escape(uescapes[_i].text,
					uescapes[_i].avail, &cp),
			  uescapes[_i].len);
	ck_assert_uint_eq(cp, uescapes[_i].cp);
}
END_TEST

/* json_put_utf8 at each length's edges. */
START_TEST(test_put_utf8)
{
	static const struct {
		uint32_t cp;
		const char *utf8;
	} t[] = {
		{ 0x41, "A" }, { 0x7f, "\x7f" }, { 0x80, "\xc2\x80" },
		{ 0x7ff, "\xdf\xbf" }, { 0x800, "\xe0\xa0\x80" },
		{ 0xffff, "\xef\xbf\xbf" }, { 0x10000, "\xf0\x90\x80\x80" },
		{ 0x10ffff, "\xf4\x8f\xbf\xbf" },
	};
	char out[4];

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		size_t n = json_put_utf8(out, t[i].cp);

		ck_assert_uint_eq(n, strlen(t[i].utf8));
		ck_assert_mem_eq(out, t[i].utf8, n);
	}
}
END_TEST

START_TEST(test_encode)
{
	struct buf b;

	buf_init(&b, 1024);
	json_encode_string(&b, "a\"b\\c\x01\x7f\n\xc3\xa9", 10);
	ck_assert_uint_eq(b.len, 20);
	ck_assert(memcmp(b.data, "\"a\\\"b\\\\c\\u0001\x7f\\n\xc3\xa9\"", 20)
		  == 0);
	buf_free(&b);

	/* An empty buffer (data NULL) is the empty string (bug: UB on
	 * NULL + 0, found by fuzz-sealed through truncate ... to 0). */
	buf_init(&b, 1024);
	json_encode_string(&b, NULL, 0);
	ck_assert_uint_eq(b.len, 2);
	ck_assert(memcmp(b.data, "\"\"", 2) == 0);
	buf_free(&b);
}
END_TEST

/* The canonical spelling of one byte, the obvious way. */
static void encode_byte(struct buf *b, unsigned char c)
{
	char esc[8];

	if (c == '"' || c == '\\')
		snprintf(esc, sizeof esc, "\\%c", c);
	else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
		 c == '\t')
		snprintf(esc, sizeof esc, "\\%c", "bfnrt"[c == '\b' ? 0 :
			 c == '\f' ? 1 : c == '\n' ? 2 : c == '\r' ? 3 : 4]);
	else if (c < 0x20)
		snprintf(esc, sizeof esc, "\\u%04x", c);
	else
		snprintf(esc, sizeof esc, "%c", c);
	buf_puts(b, esc);
}

/* Every byte value at every position of a 40-byte string (16-byte blocks
 * and the tail): encoded as byte-by-byte encoding would. */
START_TEST(test_encode_every_byte)
{
	struct buf got, want;
	unsigned char s[40];

	buf_init(&got, 1024);
	buf_init(&want, 1024);
	for (unsigned pos = 0; pos < sizeof s; pos++) {
		for (unsigned c = 0; c < 256; c++) {
			memset(s, 'x', sizeof s);
			s[pos] = (unsigned char)c;
			buf_reset(&got);
			buf_reset(&want);
			json_encode_string(&got, (const char *)s, sizeof s);
			buf_putc(&want, '"');
			for (unsigned i = 0; i < sizeof s; i++)
				encode_byte(&want, s[i]);
			buf_putc(&want, '"');
			ck_assert_msg(got.len == want.len &&
				      memcmp(got.data, want.data, got.len) == 0,
				      "byte %u at %u", c, pos);
		}
	}
	buf_free(&got);
	buf_free(&want);
}
END_TEST

/* Every byte value at every position of a 40-byte string value: the
 * SIMD skips and their scalar tails must find exactly what a byte-by-byte
 * scan finds, parsing whole and validating the rest alike. */
START_TEST(test_string_every_byte)
{
	char in[64];
	const size_t body = 6, n = body + 40 + 2;

	for (unsigned pos = 0; pos < 40; pos++) {
		for (unsigned c = 0; c < 256; c++) {
			enum json_error want = JSON_OK, e;
			size_t at = body + pos;

			memcpy(in, "{\"a\":\"", body);
			memset(in + body, 'x', 40);
			memcpy(in + body + 40, "\"}", 2);
			in[body + pos] = (char)c;
			if (c < 0x20 || c == '\\')
				want = JSON_E_SYNTAX;
			else if (c >= 0x80)
				want = JSON_E_UTF8;
			else if (c == '"')
				want = JSON_E_SYNTAX, at++;
			/* \" escapes the closing quote: no end in sight. */
			if (c == '\\' && pos == 39)
				at = n;
			e = json_parse(&doc, in, n, 0, 0);
			ck_assert_msg(e == want, "byte %u at %u: %d", c, pos,
				      e);
			if (e != JSON_OK)
				ck_assert_msg(doc.err_offset == at,
					      "byte %u at %u: at %zu", c, pos,
					      doc.err_offset);
			validate_like_whole(&doc, in, n, NULL);
		}
	}
}
END_TEST

/* ---- JSONTestSuite ------------------------------------------------------- */

static size_t b64decode(const char *s, size_t n, unsigned char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(a, s[i]);

		v = v << 6 | (unsigned)(p - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

/* The value of "key":"..." on a corpus line (no escapes in these). */
static const char *field(const char *line, const char *key, size_t *len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof pat, "\"%s\": \"", key);
	p = strstr(line, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	e = strchr(p, '"');
	*len = (size_t)(e - p);
	return p;
}

START_TEST(test_json_test_suite)
{
	const char *shared = getenv("SCRUB_SHARED");
	enum { MAX_LINE = 1 << 20 };
	char path[4096], *line = malloc(MAX_LINE);
	unsigned char *bytes = malloc(MAX_LINE);
	FILE *f;
	int cases = 0, wrong = 0;

	snprintf(path, sizeof path, "%s/corpora/jsontestsuite.jsonl",
		 shared ? shared : "../shared");
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s (set SCRUB_SHARED)", path);
	while (fgets(line, MAX_LINE, f)) {
		size_t nl, bl, el, n;
		const char *name = field(line, "name", &nl);
		const char *b64 = field(line, "bytes_b64", &bl);
		const char *expect = field(line, "expect", &el);
		enum json_error e;

		ck_assert(name && b64 && expect);
		n = b64decode(b64, bl, bytes);
		validate_like_whole(&doc, (const char *)bytes, n, "a");
		e = json_parse(&doc, (const char *)bytes, n, 0, 0);
		cases++;
		if ((strncmp(expect, "accept", el) == 0 && e != JSON_OK) ||
		    (strncmp(expect, "reject", el) == 0 && e == JSON_OK)) {
			fprintf(stderr, "JSONTestSuite: %.*s: %s\n", (int)nl,
				name, e == JSON_OK ? "accepted" : "rejected");
			wrong++;
		}
	}
	fclose(f);
	free(line);
	free(bytes);
	ck_assert_int_eq(cases, 318);
	ck_assert_int_eq(wrong, 0);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *t = tcase_create("document");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, test_print, 0,
			    sizeof prints / sizeof *prints);
	tcase_add_loop_test(t, test_canonical, 0,
			    sizeof canon / sizeof *canon);
	tcase_add_loop_test(t, test_invalid, 0, sizeof bad / sizeof *bad);
	tcase_add_test(t, test_nul_byte);
	tcase_add_test(t, test_deep_nesting);
	tcase_add_test(t, test_big_values);
	tcase_add_test(t, test_too_many_values);
	tcase_add_loop_test(t, test_validate_rest_invalid, 0,
			    sizeof bad / sizeof *bad);
	tcase_add_loop_test(t, test_validate_rest_limits, 0,
			    sizeof at_limits / sizeof *at_limits);
	tcase_add_test(t, test_edits);
	tcase_add_test(t, test_escaped_lookup);
	tcase_add_test(t, test_lazy);
	tcase_add_loop_test(t, test_is_number, 0,
			    sizeof numbers / sizeof *numbers);
	tcase_add_loop_test(t, test_u_escape, 0,
			    sizeof uescapes / sizeof *uescapes);
	tcase_add_test(t, test_put_utf8);
	tcase_add_test(t, test_encode);
	tcase_add_test(t, test_encode_every_byte);
	tcase_add_test(t, test_string_every_byte);
	tcase_add_test(t, test_json_test_suite);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(json_suite());
}

/* transform.c - whole-value operators: generalize numbers (ROUND,
 * BUCKET), shift dates by a keyed per-entity offset (SHIFT_DATE), cut
 * strings short (TRUNCATE) and replace them by keyed tokens (TOKENIZE).
 *
 * They follow the rules of every action (ops.c): null is left alone, a
 * value of the wrong type gets the instruction's `else` mode, and a value
 * that comes out the same is not rewritten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "exec.h"

#define OPERAND(ops, i) vm_u32((ops) + 4 * (i))

/* ---- numbers ------------------------------------------------------------ */

/* A decimal number: the value of `digits` (no sign, no point) times
 * 10^exp, negative or not. */
struct decimal {
	const char *digits;	/* with the point skipped over */
	size_t n;
	int neg;
	long exp;
};

/* Exponents are clamped to this: at most 400 digits and a step of at
 * most 64 characters (verify.c) lie far inside it, so a clamped number
 * still rounds exactly (all its digits below the step, or too large), and
 * the exponent arithmetic cannot overflow. */
#define MAX_EXP 1000000L

/* The exponent written after 'e' (checked JSON syntax), clamped. */
static long parse_exp(const char *s, size_t len)
{
	size_t i = 0;
	long e = 0;
	int neg = 0;

	if (i < len && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < len && e <= MAX_EXP; i++)
		e = e * 10 + (s[i] - '0');
	if (e > MAX_EXP)
		e = MAX_EXP;
	return neg ? -e : e;
}

/* Split JSON number text (checked) into its decimal parts. */
static void parse_decimal(const char *s, size_t len, char *digits,
			  struct decimal *d)
{
	size_t i = 0;
	long frac = 0;

	d->neg = s[0] == '-';
	i = d->neg;
	d->n = 0;
	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			frac = 1;
			continue;
		}
		digits[d->n++] = s[i];
		frac += frac > 0;
	}
	d->exp = frac > 0 ? -(frac - 1) : 0;
	if (i < len)
		d->exp += parse_exp(s + i + 1, len - i - 1);
	d->digits = digits;
}

typedef unsigned __int128 u128;

/* The longest number text rounded (the verifier bounds the step's). */
#define MAX_NUMBER 400

/* 10^38 fits in 128 bits: keep every value below 10^37. */
#define U128_LIMIT ((u128)1000000000000000000ull * 1000000000000000000ull * \
		    10)

/* The whole number made of the digits of `d` at or above 10^scale; in
 * *sticky, whether any below were not zero. -1 when too large. */
static int scaled(const struct decimal *d, long scale, u128 *v, int *sticky)
{
	*v = 0;
	*sticky = 0;
	for (size_t i = 0; i < d->n; i++) {
		long place = d->exp + (long)(d->n - 1 - i);

		if (place < scale) {
			*sticky |= d->digits[i] != '0';
			continue;
		}
		if (*v >= U128_LIMIT)
			return -1;
		*v = *v * 10 + (u128)(d->digits[i] - '0');
	}
	/* Zero stays zero: "0e999999" must not count up to its exponent.
	 * Any other value reaches the limit within 38 places. */
	if (*v == 0)
		return 0;
	for (long place = d->exp; place > scale; place--) {
		if (*v >= U128_LIMIT)
			return -1;
		*v *= 10;
	}
	return 0;
}

/* Print (neg ? -1 : 1) * v * 10^exp in plain decimal; no "-0". */
static void put_decimal(struct buf *out, int neg, u128 v, long exp)
{
	char text[40];	/* 2^128 has 39 digits */
	int n = 0;

	do {
		text[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v > 0);
	if (neg && !(n == 1 && text[0] == '0' && exp >= 0))
		buf_putc(out, '-');
	/* Below 1: the zeros after the point go straight out (a crafted
	 * step may have hundreds, more than `text` holds). */
	if (exp < 0 && n <= -exp) {
		buf_puts(out, "0.");
		for (long z = -exp - n; z > 0; z--)
			buf_putc(out, '0');
	}
	while (n > 0) {
		buf_putc(out, text[--n]);
		if (exp < 0 && n == -exp)
			buf_putc(out, '.');
	}
	for (; exp > 0; exp--)
		buf_putc(out, '0');
}

/* Round to the nearest multiple of the step, halves away from zero; or
 * bucket: "[lo,hi)", the multiples at or below and above. Exact decimal
 * arithmetic on the number as written, to 37 significant digits. */
static int do_round(struct vm_exec *ex, const unsigned char *ops,
		    const char *s, size_t len, void *ctx)
{
	const struct vm_const *c = &ex->p->consts[OPERAND(ops, 1)];
	int bucket = *(const int *)ctx, sticky, sticky_s, neg;
	char xd[MAX_NUMBER], sd[MAX_NUMBER];
	struct decimal x, step;
	u128 v, unit, q, r;

	if (!json_is_number(s, len))
		return vm_mismatch(ex, "is not a number") + 1;
	if (len >= MAX_NUMBER)
		return vm_mismatch(ex, "is too long a number to round");
	parse_decimal(s, len, xd, &x);
	parse_decimal(c->data, c->len, sd, &step);
	/* The value's digits are paid for by the caller; the step's, and
	 * the zeros its exponent prints, here. */
	if (vm_charge(ex, ((uint64_t)c->len + (uint64_t)labs(step.exp)) /
			  64) != 0)
		return -1;
	/* One more digit than the step has: its remainder then decides
	 * between down and up exactly (the divisor is even). */
	if (scaled(&step, step.exp - 1, &unit, &sticky_s) != 0 ||
	    scaled(&x, step.exp - 1, &v, &sticky) != 0)
		return vm_mismatch(ex, "is too large to round exactly");
	q = v / unit;
	r = v % unit;
	neg = x.neg;
	if (!bucket) {
		q += 2 * r >= unit;
		put_decimal(&ex->tmp, neg, q * (unit / 10), step.exp);
		return 0;
	}
	/* floor: toward minus infinity, for negatives away from zero;
	 * -0 is 0. */
	if (neg && (r > 0 || sticky))
		q++;
	neg &= q > 0;
	buf_putc(&ex->tmp, '[');
	put_decimal(&ex->tmp, neg, q * (unit / 10), step.exp);
	buf_putc(&ex->tmp, ',');
	if (neg)
		put_decimal(&ex->tmp, q > 1, (q - 1) * (unit / 10), step.exp);
	else
		put_decimal(&ex->tmp, 0, (q + 1) * (unit / 10), step.exp);
	buf_putc(&ex->tmp, ')');
	return 0;
}

int vm_op_round(struct vm_exec *ex, const unsigned char *ops, int bucket)
{
	/* A number as a string ("12.50") stays a string; a bucket is one. */
	return vm_each_value(ex, bucket ? OP_BUCKET : OP_ROUND, ops,
			     OPERAND(ops, 2),
			     1u << JSON_NUMBER | 1u << JSON_STRING,
			     bucket ? JSON_STRING : JSON_NONE, do_round,
			     &bucket);
}

/* ---- dates -------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (after
 * Howard Hinnant's days_from_civil / civil_from_days). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long)yoe + era * 400 + (*m <= 2);
}

static unsigned two(const char *s)
{
	return (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
}

/* Does `s` match "D+" for a given count of digits at `at`? */
static int digits_at(const char *s, size_t len, size_t at, size_t n)
{
	if (at + n > len)
		return 0;
	for (size_t i = at; i < at + n; i++)
		if (!vm_is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* What may follow the date: [Tt ]hh:mm[:ss[.fff]][Z|z|+hh:mm|-hh:mm]
 * (RFC 3339 and ISO 8601's extended format). */
static int valid_time(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return 1;
	if ((s[0] != 'T' && s[0] != 't' && s[0] != ' ') ||
	    !digits_at(s, len, 1, 2) || len < 6 || s[3] != ':' ||
	    !digits_at(s, len, 4, 2) || two(s + 1) > 23 || two(s + 4) > 59)
		return 0;
	i = 6;
	if (i < len && s[i] == ':') {
		if (!digits_at(s, len, i + 1, 2) || two(s + i + 1) > 60)
			return 0;
		i += 3;
		if (i < len && s[i] == '.') {
			size_t f = ++i;

			while (i < len && vm_is_digit((unsigned char)s[i]))
				i++;
			if (i == f)
				return 0;
		}
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		return i + 1 == len;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		return i + 6 == len && digits_at(s, len, i + 1, 2) &&
		       s[i + 3] == ':' && digits_at(s, len, i + 4, 2) &&
		       two(s + i + 1) <= 23 && two(s + i + 4) <= 59;
	return i == len;
}

static unsigned month_days(long y, unsigned m)
{
	static const unsigned char days[] = { 31, 28, 31, 30, 31, 30, 31,
					      31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

struct shift {
	int have;		/* an entity value was found */
	long days;		/* the entity's offset */
	const char *entity;	/* its policy path, for messages */
};

static int do_shift(struct vm_exec *ex, const unsigned char *ops,
		    const char *s, size_t len, void *ctx)
{
	struct shift *sh = ctx;
	char date[32];
	long y;
	unsigned m, d;

	(void)ops;
	if (len < 10 || !digits_at(s, len, 0, 4) || s[4] != '-' ||
	    !digits_at(s, len, 5, 2) || s[7] != '-' ||
	    !digits_at(s, len, 8, 2) || !valid_time(s + 10, len - 10))
		return vm_mismatch(ex, "is not an ISO 8601 date");
	y = (long)two(s) * 100 + two(s + 2);
	m = two(s + 5);
	d = two(s + 8);
	if (m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return vm_mismatch(ex, "is not a valid date");
	if (!sh->have)
		return vm_mismatch(ex, "has no entity to shift by: nothing "
				   "at the 'by' path is a string or number");
	civil_from_days(days_from_civil(y, m, d) + sh->days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return vm_mismatch(ex, "would leave the years 0000-9999");
	snprintf(date, sizeof date, "%04ld-%02u-%02u", y, m, d);
	buf_put(&ex->tmp, date, 10);
	buf_put(&ex->tmp, s + 10, len - 10);
	return 0;
}

/* The entity's offset: 1..max days, earlier or later, from its keyed
 * hash, the same for every date of the entity in every event. */
static int entity_offset(struct vm_exec *ex, const unsigned char *ops,
			 struct shift *sh)
{
	const struct vm_path *path = &ex->p->paths[OPERAND(ops, 2)];
	uint32_t base = ex->set_len, first, count, max = OPERAND(ops, 1);
	unsigned char mac[32];
	uint64_t h = 0;

	if (vm_select(ex, path, path->nsegs, &first, &count) != 0)
		return -1;
	for (uint32_t i = 0; i < count && !sh->have; i++) {
		json_ref r = ex->set[first + i];
		enum json_type t = json_type_of(&ex->doc, r);
		const char *s;
		size_t len;

		if (t != JSON_STRING && t != JSON_NUMBER)
			continue;
		if (t == JSON_STRING) {
			s = json_string(&ex->doc, r, &len);
			if (s == NULL)
				return vm_doc_failed(ex);
		} else {
			s = json_text(&ex->doc, r);
			len = ex->doc.nodes[r].len;
		}
		vm_hmac(ex->p, "scrub-shift", s, len, mac);
		for (int k = 0; k < 8; k++)
			h = h << 8 | mac[k];
		h %= 2 * (uint64_t)max;
		sh->days = h < max ? (long)h - (long)max
				   : (long)h - (long)max + 1;
		sh->have = 1;
	}
	ex->set_len = base;
	return 0;
}

int vm_op_shift_date(struct vm_exec *ex, const unsigned char *ops)
{
	struct shift sh = { 0, 0, NULL };

	if (entity_offset(ex, ops, &sh) != 0)
		return -1;
	return vm_each_value(ex, OP_SHIFT_DATE, ops, OPERAND(ops, 3),
			     1u << JSON_STRING, JSON_STRING, do_shift, &sh);
}

/* ---- strings ------------------------------------------------------------ */

static int do_truncate(struct vm_exec *ex, const unsigned char *ops,
		       const char *s, size_t len, void *ctx)
{
	uint32_t max = OPERAND(ops, 1), n = 0;
	size_t i = 0;

	(void)ctx;
	/* Count characters, not bytes: never cut one in half. */
	while (i < len && n < max) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		n++;
	}
	buf_put(&ex->tmp, s, i);
	return 0;
}

int vm_op_truncate(struct vm_exec *ex, const unsigned char *ops)
{
	return vm_each_value(ex, OP_TRUNCATE, ops, OPERAND(ops, 2),
			     1u << JSON_STRING, JSON_STRING, do_truncate,
			     NULL);
}

/* PREFIX KEYID "_" and base32 (RFC 4648, lower case) of the keyed hash:
 * the same token `pseudonymize` derives its hex from. */
static int do_tokenize(struct vm_exec *ex, const unsigned char *ops,
		       const char *s, size_t len, void *ctx)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint32_t prefix = OPERAND(ops, 1), n = OPERAND(ops, 3);
	const struct vm_const *id = &ex->p->consts[OPERAND(ops, 2)];
	unsigned char mac[32];

	(void)ctx;
	vm_hmac(ex->p, NULL, s, len, mac);
	if (prefix != VM_NONE)
		buf_put(&ex->tmp, ex->p->consts[prefix].data,
			ex->p->consts[prefix].len);
	buf_put(&ex->tmp, id->data, id->len);
	buf_putc(&ex->tmp, '_');
	for (uint32_t i = 0; i < n; i++) {
		uint32_t bit = i * 5, v;

		v = (uint32_t)mac[bit / 8] << 8 |
		    (bit / 8 + 1 < sizeof mac ? mac[bit / 8 + 1] : 0);
		buf_putc(&ex->tmp, b32[v >> (11 - bit % 8) & 31]);
	}
	return 0;
}

int vm_op_tokenize(struct vm_exec *ex, const unsigned char *ops)
{
	return vm_each_value(ex, OP_TOKENIZE, ops, OPERAND(ops, 4),
			     1u << JSON_STRING, JSON_STRING, do_tokenize,
			     NULL);
}

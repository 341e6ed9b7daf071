/* replay_time.c - RFC 3339 time stamps, and finding an event's `time`
 * without parsing the whole event. */
#include <stddef.h>
#include <string.h>

#include "replay.h"

/* Read exactly `n` digits. */
static int digits(const char *s, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil): no time zone, no libc. */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date and time fields of RFC 3339's date-time, up to the seconds:
 * "YYYY-MM-DDTHH:MM:SS" (T may be lowercase). */
static int date_time(const char *s, struct rp_time *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
				     31, 30, 31 };
	int y, mo, d, h, mi, sec;

	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	/* A leap second (:60) counts as the next second's start. */
	t->sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
		 sec;
	return 0;
}

int rp_time_parse(const char *s, size_t len, struct rp_time *t)
{
	size_t i = 19;
	int32_t scale = 100000000;
	int oh, om;

	if (len < 20 || date_time(s, t) != 0)
		return -1;
	t->nsec = 0;
	if (s[i] == '.') {
		/* time-secfrac: one digit or more; nanoseconds are kept. */
		if (++i == len || s[i] < '0' || s[i] > '9')
			return -1;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			t->nsec += (s[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z'))
		return 0;
	/* time-numoffset: +HH:MM or -HH:MM, local time = UTC + offset. */
	if (i + 6 != len || (s[i] != '+' && s[i] != '-') ||
	    digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
	    digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
		return -1;
	t->sec -= (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	return 0;
}

int rp_time_cmp(const struct rp_time *a, const struct rp_time *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

/* ---- the quick look for "time" ------------------------------------------- */

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* `p` at an opening quote: the byte after the closing one, or NULL. A
 * quote ends the string unless an odd number of backslashes precede it;
 * memchr does the walking. */
static const char *skip_string(const char *p, const char *e)
{
	const char *body = ++p, *q;
	size_t n;

	while ((q = memchr(p, '"', (size_t)(e - p))) != NULL) {
		for (n = 0; q - n > body && q[-1 - (ptrdiff_t)n] == '\\';
		     n++)
			;
		if (n % 2 == 0)
			return q + 1;
		p = q + 1;
	}
	return NULL;
}

/* Bytes that matter inside a container: quotes and brackets. */
static const unsigned char structural[256] = {
	['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1,
};

/* Step over one container, matching brackets but nothing more: a full
 * parse still checks every event that is not dropped here. */
static const char *skip_container(const char *p, const char *e)
{
	int depth = 0;

	for (; p < e; p++) {
		if (!structural[(unsigned char)*p])
			continue;
		if (*p == '"') {
			if ((p = skip_string(p, e)) == NULL)
				return NULL;
			p--;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (--depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/* Step over one value. */
static const char *skip_value(const char *p, const char *e)
{
	if (p == e)
		return NULL;
	if (*p == '"')
		return skip_string(p, e);
	if (*p == '{' || *p == '[')
		return skip_container(p, e);
	/* A number or a literal: up to what may follow a value. */
	while (p < e && !strchr(",}] \t\r\n", *p))
		p++;
	return p;
}

int rp_find_time(const char *ev, size_t len, const char **s, size_t *slen)
{
	const char *p = ev, *e = ev + len, *key, *v;
	int found = 0, is_time;

	p = skip_ws(p, e);
	if (p == e || *p++ != '{')
		return 0;
	for (;;) {
		p = skip_ws(p, e);
		if (p == e || *p != '"')
			return 0;
		key = p + 1;
		if ((p = skip_string(p, e)) == NULL ||
		    memchr(key, '\\', (size_t)(p - key)))
			return 0;
		is_time = p - key == 5 && memcmp(key, "time", 4) == 0;
		p = skip_ws(p, e);
		if (p == e || *p++ != ':')
			return 0;
		v = skip_ws(p, e);
		if ((p = skip_value(v, e)) == NULL || p == v)
			return 0;
		if (is_time) {
			if (found++ || *v != '"' ||
			    memchr(v, '\\', (size_t)(p - v)))
				return 0;
			*s = v + 1;
			*slen = (size_t)(p - v - 2);
		}
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p == e || *p != '}')
			return 0;
		return found && skip_ws(p + 1, e) == e;
	}
}

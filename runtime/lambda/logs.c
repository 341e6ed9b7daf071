/* logs.c - what the runtime writes to CloudWatch Logs: structured JSON
 * lines and one embedded-metric-format (EMF) line per invocation.
 *
 * Each line goes out in one write(2) on standard output, which Lambda
 * sends to CloudWatch Logs; nothing is buffered, so nothing is lost or
 * interleaved when the sandbox is frozen or killed. Callers pass only
 * messages without event data; this file adds nothing from events.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lambda.h"

static const char *const level_names[] = {
	[LAM_ERROR] = "ERROR", [LAM_WARN] = "WARN", [LAM_INFO] = "INFO",
	[LAM_DEBUG] = "DEBUG",
};

int lam_level_parse(const char *name)
{
	for (int i = LAM_ERROR; i <= LAM_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	/* AWS_LAMBDA_LOG_LEVEL also knows these two. */
	if (strcasecmp(name, "TRACE") == 0)
		return LAM_DEBUG;
	if (strcasecmp(name, "FATAL") == 0)
		return LAM_ERROR;
	return -1;
}

int64_t lam_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double lam_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A JSON string from text that should be UTF-8: a message cut short by
 * its buffer may end inside a character, so trim to the valid part. */
void lam_json_string(struct buf *b, const char *s)
{
	size_t len = strlen(s);

	while (len > 0 && !json_utf8_valid(s, len))
		len--;
	json_encode_string(b, s, len);
}

static void emit_line(const struct lam_log *lg, struct buf *b)
{
	size_t done = 0;

	buf_putc(b, '\n');
	if (buf_failed(b))
		return;
	while (done < b->len) {
		ssize_t n = write(lg->fd, b->data + done, b->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* nowhere left to report it */
		done += (size_t)n;
	}
}

void lam_log(const struct lam_log *lg, enum lam_level level,
	     const char *request_id, const char *fmt, ...)
{
	char msg[2048], stamp[40];
	int64_t now = lam_now_ms();
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	struct buf b;
	va_list ap;

	if (level > lg->level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	buf_init(&b, 64u << 10);
	buf_puts(&b, "{\"timestamp\":\"");
	buf_puts(&b, stamp);
	snprintf(stamp, sizeof stamp, ".%03dZ\",\"level\":\"",
		 (int)(now % 1000));
	buf_puts(&b, stamp);
	buf_puts(&b, level_names[level]);
	buf_puts(&b, "\",\"requestId\":");
	if (request_id)
		lam_json_string(&b, request_id);
	else
		buf_puts(&b, "null");
	buf_puts(&b, ",\"message\":");
	lam_json_string(&b, msg);
	buf_putc(&b, '}');
	emit_line(lg, &b);
	buf_free(&b);
}

/* ---- embedded metric format ---------------------------------------------- */

static const char *const base_metrics[][2] = {
	{ "Records", "Count" }, { "Emitted", "Count" },
	{ "Dropped", "Count" }, { "Rejected", "Count" },
	{ "Failed", "Count" }, { "Duration", "Milliseconds" },
};

/* CloudWatch takes metric names of at most 255 characters, dimension
 * values of at most 1024, and at most 100 metrics per directive. */
#define EMF_NAME_MAX 255
#define EMF_DIMENSION_MAX 1024
#define EMF_METRICS_MAX 100

struct emf_metric {
	char name[EMF_NAME_MAX + 1];
	unsigned long long count;
};

/* CloudWatch takes only printable ASCII in metric names and dimension
 * values, with at least one non-blank character: anything else would
 * lose the metric. Each other character (a whole UTF-8 sequence) becomes
 * one '_'. Writes at most `size` - 1 bytes and a NUL. */
static void cw_name(char *out, size_t size, const char *prefix,
		    const char *name)
{
	size_t n = 0;
	int blank = 1;

	for (const char *p = prefix; *p && n + 1 < size; p++)
		out[n++] = *p;
	for (const unsigned char *p = (const unsigned char *)name;
	     *p && n + 1 < size; p++) {
		if (*p >= 0x80 && *p < 0xC0)
			continue;	/* inside a character */
		out[n] = *p >= 0x20 && *p < 0x7F ? (char)*p : '_';
		blank &= out[n++] == ' ';
	}
	if (blank && *prefix == '\0' && n + 1 < size)
		out[n++] = '_';
	out[n] = '\0';
}

/* The per-reason metrics ("Dropped.REASON", "Rejected.CODE") that fit,
 * one per name: reasons whose names read the same once cleaned are
 * counted together. */
static size_t reason_metrics(const struct scrub_counters *c,
			     struct emf_metric *m, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->ndrops + c->nrejects; i++) {
		int drop = i < c->ndrops;
		const struct scrub_count *k = drop ? &c->drops[i]
						   : &c->rejects[i - c->ndrops];
		char name[EMF_NAME_MAX + 1];
		size_t j;

		if (strlen(k->name) + 9 > EMF_NAME_MAX)
			continue;
		cw_name(name, sizeof name, drop ? "Dropped." : "Rejected.",
			k->name);
		for (j = 0; j < n && strcmp(m[j].name, name) != 0; j++)
			;
		if (j < n) {
			m[j].count += k->count;
		} else if (n < max) {
			memcpy(m[n].name, name, sizeof name);
			m[n++].count = k->count;
		}
	}
	return n;
}

static void put_directive_head(struct buf *b)
{
	buf_puts(b, "{\"Namespace\":\"Scrub\",\"Dimensions\":[[\"Policy\"]],"
		 "\"Metrics\":[");
}

void lam_emf(const struct lam_log *lg, const char *policy,
	     const char *request_id, const struct lam_batch *bt)
{
	const struct scrub_counters *c = &bt->counts;
	struct emf_metric reasons[EMF_METRICS_MAX];
	size_t nreasons = reason_metrics(c, reasons, EMF_METRICS_MAX);
	char dimension[EMF_DIMENSION_MAX + 1];
	/* In the order of base_metrics. */
	unsigned long long counts[5] = {
		bt->records, c->emitted, c->dropped, c->rejected,
		bt->error_type != NULL,
	};
	char num[320];
	struct buf b;

	buf_init(&b, 1u << 20);
	snprintf(num, sizeof num, "%lld", (long long)lam_now_ms());
	buf_puts(&b, "{\"_aws\":{\"Timestamp\":");
	buf_puts(&b, num);
	buf_puts(&b, ",\"CloudWatchMetrics\":[");
	put_directive_head(&b);
	for (size_t i = 0; i < 6; i++) {
		buf_puts(&b, i ? ",{\"Name\":\"" : "{\"Name\":\"");
		buf_puts(&b, base_metrics[i][0]);
		buf_puts(&b, "\",\"Unit\":\"");
		buf_puts(&b, base_metrics[i][1]);
		buf_puts(&b, "\"}");
	}
	buf_puts(&b, "]}");
	if (nreasons) {
		buf_putc(&b, ',');
		put_directive_head(&b);
		for (size_t i = 0; i < nreasons; i++) {
			buf_puts(&b, i ? ",{\"Name\":" : "{\"Name\":");
			lam_json_string(&b, reasons[i].name);
			buf_puts(&b, ",\"Unit\":\"Count\"}");
		}
		buf_puts(&b, "]}");
	}
	buf_puts(&b, "]},\"Policy\":");
	cw_name(dimension, sizeof dimension, "", policy);
	lam_json_string(&b, dimension);
	buf_puts(&b, ",\"requestId\":");
	lam_json_string(&b, request_id);
	for (size_t i = 0; i < 5; i++) {
		snprintf(num, sizeof num, ",\"%s\":%llu", base_metrics[i][0],
			 counts[i]);
		buf_puts(&b, num);
	}
	snprintf(num, sizeof num, ",\"Duration\":%.3f", bt->duration_ms);
	buf_puts(&b, num);
	for (size_t i = 0; i < nreasons; i++) {
		buf_putc(&b, ',');
		lam_json_string(&b, reasons[i].name);
		snprintf(num, sizeof num, ":%llu", reasons[i].count);
		buf_puts(&b, num);
	}
	buf_putc(&b, '}');
	emit_line(lg, &b);
	buf_free(&b);
}

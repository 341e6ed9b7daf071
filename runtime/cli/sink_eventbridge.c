/* sink_eventbridge.c - send scrubbed events to an event bus: PutEvents
 * (AWS JSON 1.1) signed with SigV4 by libcurl.
 *
 * Entries are batched in input order, at most `max_entries` (10) a call
 * and the sum of their sizes by AWS's formula below `max_request`. Up to
 * `connections` calls are in flight at once (curl's multi interface, on
 * the caller's thread). PutEvents answers per entry: only entries that
 * failed with ThrottlingException or InternalFailure are sent again, in a
 * new call, after an exponential backoff with full jitter, at most
 * `max_attempts` times in all. A call refused as a whole is sent again
 * when the refusal is transient (5xx, throttling, the network), else the
 * sink fails for good. Every entry ends either accepted (an EventId) or
 * as a reject record with its error code: none is dropped silently.
 *
 * Sources: reference/aws-contracts.md sections 2b (request, response,
 * retryable codes, entry size) and 2g (SigV4 with libcurl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../../vm/alloc.h"
#include "replay.h"

/* ---- one PutEvents entry ------------------------------------------------- */

/* A string member's decoded UTF-8 length, or -1 when it is no string. */
static int64_t str_bytes(struct json_doc *d, json_ref r)
{
	size_t n;

	if (json_type_of(d, r) != JSON_STRING || json_string(d, r, &n) == NULL)
		return -1;
	return (int64_t)n;
}

/* Resources: an array of strings; the sum of their lengths, or -1. */
static int64_t resources_bytes(struct json_doc *d, json_ref arr)
{
	int64_t sum = 0, n;

	if (json_type_of(d, arr) != JSON_ARRAY)
		return -1;
	for (json_ref r = json_first(d, arr); r; r = json_next(d, r)) {
		if ((n = str_bytes(d, r)) < 0)
			return -1;
		sum += n;
	}
	return sum;
}

/* A string's length as AWS's API limits count it: UTF-16 units. */
static size_t str_units(struct json_doc *d, json_ref r)
{
	size_t n, units = 0;
	const unsigned char *s =
		(const unsigned char *)json_string(d, r, &n);

	for (size_t i = 0; s && i < n; i++)
		if (s[i] < 0x80 || s[i] >= 0xC0)
			units += s[i] >= 0xF0 ? 2 : 1;
	return units;
}

/* PutEventsRequestEntry's length limits (API reference): an entry that
 * breaks one makes AWS refuse the whole call, which would stop the
 * replay, so it is refused here, alone. Returns 0, or -1 with msg. */
static int entry_lengths(struct json_doc *d, json_ref src, json_ref type,
			 json_ref res, char *msg, size_t msglen)
{
	size_t nsrc = str_units(d, src), ntype = str_units(d, type), k = 0;

	if (nsrc < 1 || nsrc > 256) {
		snprintf(msg, msglen, "the scrubbed event's source is %zu "
			 "characters long; PutEvents takes 1 to 256", nsrc);
		return -1;
	}
	if (ntype < 1 || ntype > 128) {
		snprintf(msg, msglen, "the scrubbed event's detail-type is %zu "
			 "characters long; PutEvents takes 1 to 128", ntype);
		return -1;
	}
	for (json_ref r = res ? json_first(d, res) : 0; r;
	     r = json_next(d, r), k++) {
		if (str_units(d, r) > 2048) {
			snprintf(msg, msglen, "the scrubbed event's "
				 "resources[%zu] is %zu characters long; "
				 "PutEvents takes at most 2048", k,
				 str_units(d, r));
			return -1;
		}
	}
	return 0;
}

/* Does a JSON number spelt as an integer (no fraction, no exponent) fit
 * in 64 signed bits? Numbers spelt otherwise are not integers here. */
static int integer_fits(const char *s, size_t n)
{
	const char *max = "9223372036854775807";
	int neg = n && s[0] == '-';

	if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
		return 1;
	s += neg;
	n -= (size_t)neg;
	if (n != 19)
		return n < 19;
	/* 19 digits: compare with 2^63 - 1, or 2^63 when negative. */
	return memcmp(s, max, 18) < 0 ||
	       (memcmp(s, max, 18) == 0 && s[18] <= (neg ? '8' : '7'));
}

/* PutEvents takes JSON integers from -2^63 to 2^63 - 1 only (API
 * reference, PutEvents): the first one in the detail that does not fit
 * makes the entry invalid. Returns 0, or -1 with msg. */
static int entry_integers(struct json_doc *d, json_ref det, char *msg,
			  size_t msglen)
{
	for (json_ref c = det; c; c = json_walk_next(d, det, c)) {
		const struct json_node *n = json_node(d, c);

		if (n->type == JSON_NUMBER &&
		    !integer_fits(json_text(d, c), n->len)) {
			snprintf(msg, msglen, "the scrubbed event's detail "
				 "holds an integer outside -2^63 to 2^63-1, "
				 "which PutEvents does not take");
			return -1;
		}
	}
	return 0;
}

static void put_raw(struct buf *b, const char *name, struct json_doc *d,
		    json_ref r)
{
	buf_puts(b, name);
	buf_put(b, json_text(d, r), json_node(d, r)->len);
}

static int entry_time(struct json_doc *d, json_ref tm, struct rp_time *t)
{
	const char *s = NULL;
	size_t n = 0;

	if (json_type_of(d, tm) == JSON_STRING)
		s = json_string(d, tm, &n);
	return s == NULL ? -1 : rp_time_parse(s, n, t);
}

int rp_entry(struct json_doc *d, const char *ev, size_t len,
	     const char *bus_json, struct buf *out, uint32_t *size,
	     const char **code, char *msg, size_t msglen)
{
	json_ref src, type, det, res, tm;
	int64_t nsrc, ntype, nres = 0;
	struct rp_time t;
	char num[32];

	*code = "invalid_entry";
	if (json_parse(d, ev, len, 0, 0) != JSON_OK) {
		snprintf(msg, msglen, "the scrubbed event cannot be read "
			 "back: %s", d->err_msg);
		return -1;
	}
	src = json_member(d, d->root, "source", 6);
	type = json_member(d, d->root, "detail-type", 11);
	det = json_member(d, d->root, "detail", 6);
	res = json_member(d, d->root, "resources", 9);
	tm = json_member(d, d->root, "time", 4);
	nsrc = str_bytes(d, src);
	ntype = str_bytes(d, type);
	if (nsrc < 0 || ntype < 0 || json_type_of(d, det) != JSON_OBJECT ||
	    (res && (nres = resources_bytes(d, res)) < 0)) {
		snprintf(msg, msglen, "the scrubbed event needs string source "
			 "and detail-type, an object detail, and resources "
			 "(if any) an array of strings");
		return -1;
	}
	if (entry_lengths(d, src, type, res, msg, msglen) != 0 ||
	    entry_integers(d, det, msg, msglen) != 0)
		return -1;
	if (tm && entry_time(d, tm, &t) != 0) {
		*code = "invalid_time";
		snprintf(msg, msglen, "the scrubbed event's time is not an "
			 "RFC 3339 date-time");
		return -1;
	}
	/* Whole seconds: EventBridge keeps no finer time. */
	if (tm) {
		snprintf(num, sizeof num, "{\"Time\":%lld,", (long long)t.sec);
		buf_puts(out, num);
	} else {
		buf_putc(out, '{');
	}
	put_raw(out, "\"Source\":", d, src);
	if (res)
		put_raw(out, ",\"Resources\":", d, res);
	put_raw(out, ",\"DetailType\":", d, type);
	buf_puts(out, ",\"Detail\":");
	json_encode_string(out, json_text(d, det), json_node(d, det)->len);
	buf_puts(out, ",\"EventBusName\":");
	buf_puts(out, bus_json);
	buf_putc(out, '}');
	if (buf_failed(out)) {
		*code = "entry_too_large";
		snprintf(msg, msglen, "the PutEvents entry is too large");
		return -1;
	}
	/* "Calculating PutEvents event entry size": 14 bytes for Time,
	 * then the UTF-8 bytes of Source, DetailType, Detail, Resources. */
	*size = (uint32_t)((tm ? 14 : 0) + nsrc + ntype +
			   json_node(d, det)->len + nres);
	return 0;
}

/* ---- the sink ------------------------------------------------------------ */

enum { B_FREE, B_FILLING, B_QUEUED, B_FLYING };

struct entry {
	size_t off, len;	/* its JSON in batch->text */
	uint32_t size;
	int input;
	unsigned long line;
	const char *code;	/* the last error it got, or NULL */
};

struct batch {
	int state;
	unsigned attempt;	/* calls made so far for these entries */
	double due;		/* QUEUED: not before this time */
	uint64_t seq;		/* order of queueing, for ties */
	size_t n;
	uint64_t total;		/* sum of entry sizes */
	struct entry e[10];
	struct buf text;	/* the entries' JSON, back to back */
	struct buf body;	/* the request being sent */
	struct buf resp;
	char errtype[128];	/* the answer's X-Amzn-ErrorType header */
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
};

struct eb_sink {
	struct eb_config cfg;
	char url[1024], sigv4[256];
	struct curl_slist *headers;
	CURLM *multi;
	struct batch *pool;
	size_t npool;
	struct batch *filling;
	unsigned flying;
	uint64_t seq;
	double pace;		/* --rate: next call not before this time */
	struct eb_stats st;
	char *codes[SCRUB_MAX_REASONS];	/* error codes seen, interned */
	size_t ncodes;
	char fatal[512];
	struct json_doc doc;	/* responses */
};

static const char *const retryable_entry[] = {
	"ThrottlingException", "InternalFailure", NULL,
};

/* Whole-call refusals worth another try, besides 5xx and 429. */
static const char *const retryable_call[] = {
	"ThrottlingException", "ThrottledException", "InternalFailure",
	"ServiceUnavailable", "TooManyRequestsException",
	"RequestLimitExceeded", "RequestTimeout", "RequestTimeoutException",
	NULL,
};

static int listed(const char *const *list, const char *code)
{
	for (; *list; list++)
		if (strcmp(*list, code) == 0)
			return 1;
	return 0;
}

/* A stable copy of an error code from a response. Codes are outside
 * input: only short names of letters, digits and `._:-` are kept. */
static int code_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '-';
}

static const char *intern(struct eb_sink *s, const char *code, size_t len)
{
	/* `code` is a span, not a C string: look at its len bytes only. */
	if (len == 0 || len > 64)
		return "invalid_error_code";
	for (size_t i = 0; i < len; i++)
		if (!code_char((unsigned char)code[i]))
			return "invalid_error_code";
	for (size_t i = 0; i < s->ncodes; i++)
		if (strlen(s->codes[i]) == len &&
		    memcmp(s->codes[i], code, len) == 0)
			return s->codes[i];
	if (s->ncodes == SCRUB_MAX_REASONS)
		return "other_error_code";
	s->codes[s->ncodes] = scrub_strndup(code, len);
	return s->codes[s->ncodes] ? s->codes[s->ncodes++] : "out_of_memory";
}

/* An entry that will not be delivered: a reject record, and counted. */
static void give_up(struct eb_sink *s, const struct entry *e,
		    const char *code, unsigned attempts)
{
	char msg[160];

	snprintf(msg, sizeof msg, "PutEvents did not accept the event "
		 "(%s) after %u call%s", code, attempts,
		 attempts == 1 ? "" : "s");
	if (s->cfg.rejects)
		cli_write_reject(s->cfg.rejects, s->cfg.inputs[e->input],
				 e->line, code, msg, NULL, NULL, 0);
	s->st.failed++;
	scrub_count_add(s->st.fails, &s->st.nfails, code, 1);
}

static void fail_for_good(struct eb_sink *s, const char *fmt,
			  const char *a, const char *b)
{
	if (s->fatal[0] == '\0')
		snprintf(s->fatal, sizeof s->fatal, fmt, a, b);
}

/* ---- batches ------------------------------------------------------------- */

static void batch_free(struct batch *b)
{
	b->state = B_FREE;
	b->n = 0;
	b->total = 0;
	b->attempt = 0;
	buf_reset(&b->text);
}

/* Ready to go, not before `delay` seconds from now. */
static void batch_queue(struct eb_sink *s, struct batch *b, double delay)
{
	b->state = B_QUEUED;
	b->due = rp_now() + delay;
	b->seq = s->seq++;
}

/* Exponential backoff with full jitter: a uniform wait between zero and
 * base * 2^(attempt - 1), capped. */
static double backoff(const struct eb_sink *s, unsigned attempt)
{
	uint64_t cap = s->cfg.retry_base_ms;

	for (unsigned i = 1; i < attempt && cap < s->cfg.retry_max_ms; i++)
		cap *= 2;
	if (cap > s->cfg.retry_max_ms)
		cap = s->cfg.retry_max_ms;
	return randombytes_uniform((uint32_t)cap + 1) / 1000.0;
}

/* Entries e[keep...] failed with retryable codes: send them again, or
 * give them up when their attempts are spent. */
static void retry_or_give_up(struct eb_sink *s, struct batch *b)
{
	if (b->n == 0) {
		batch_free(b);
		return;
	}
	if (b->attempt < s->cfg.max_attempts) {
		s->st.retried += b->n;
		batch_queue(s, b, backoff(s, b->attempt));
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		give_up(s, &b->e[i], b->e[i].code, b->attempt);
	batch_free(b);
}

/* The call failed as a whole: every entry got `code`. */
static void call_failed(struct eb_sink *s, struct batch *b, int retry,
			const char *code, const char *why)
{
	for (size_t i = 0; i < b->n; i++)
		b->e[i].code = code;
	if (retry && b->attempt < s->cfg.max_attempts) {
		retry_or_give_up(s, b);
		return;
	}
	fail_for_good(s, "PutEvents failed: %s (%s)", code, why);
	for (size_t i = 0; i < b->n; i++)
		give_up(s, &b->e[i], code, b->attempt);
	batch_free(b);
}

/* Request body: {"Entries":[...]} from the batch's entries. */
static void build_body(struct batch *b)
{
	buf_reset(&b->body);
	buf_puts(&b->body, "{\"Entries\":[");
	for (size_t i = 0; i < b->n; i++) {
		if (i)
			buf_putc(&b->body, ',');
		buf_put(&b->body, b->text.data + b->e[i].off, b->e[i].len);
	}
	buf_puts(&b->body, "]}");
}

static void launch(struct eb_sink *s, struct batch *b)
{
	build_body(b);
	b->attempt++;
	s->st.requests++;
	if (s->cfg.rate > 0)
		s->pace = (s->pace > rp_now() ? s->pace : rp_now()) +
			  (double)b->n / s->cfg.rate;
	if (s->cfg.dry_run) {
		/* Nothing leaves: show the call and count it as sent. */
		output_write(s->cfg.dry_out, b->body.data, b->body.len);
		output_write(s->cfg.dry_out, "\n", 1);
		s->st.sent += b->n;
		batch_free(b);
		return;
	}
	if (buf_failed(&b->body)) {
		call_failed(s, b, 0, "out_of_memory", "building a request");
		return;
	}
	buf_reset(&b->resp);
	b->errtype[0] = '\0';
	b->errbuf[0] = '\0';
	curl_easy_setopt(b->easy, CURLOPT_POSTFIELDS, b->body.data);
	curl_easy_setopt(b->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)b->body.len);
	if (curl_multi_add_handle(s->multi, b->easy) != CURLM_OK) {
		call_failed(s, b, 0, "http_client_error", "adding a call");
		return;
	}
	b->state = B_FLYING;
	s->flying++;
}

/* The queued batch to send next: the earliest due, then the oldest. */
static struct batch *next_queued(struct eb_sink *s)
{
	struct batch *best = NULL;

	for (size_t i = 0; i < s->npool; i++) {
		struct batch *b = &s->pool[i];

		if (b->state == B_QUEUED &&
		    (best == NULL || b->due < best->due ||
		     (b->due == best->due && b->seq < best->seq)))
			best = b;
	}
	return best;
}

/* Send what is due, as far as connections and --rate allow. Returns
 * seconds until something more could go, or -1 when nothing waits. */
static double launch_due(struct eb_sink *s)
{
	struct batch *b;
	double now, at;

	while ((b = next_queued(s)) != NULL) {
		now = rp_now();
		at = b->due;
		if (!s->cfg.dry_run && s->cfg.rate > 0 && s->pace > at)
			at = s->pace;
		if (at > now)
			return at - now;
		if (!s->cfg.dry_run && s->flying >= s->cfg.connections)
			return 0.05;
		launch(s, b);
	}
	return -1;
}

/* ---- answers ------------------------------------------------------------- */

/* The error code of a refused call, where the AWS JSON 1.1 protocol
 * puts it: the X-Amzn-ErrorType header, else the body's "code", else its
 * "__type"; cut after any ':' (a URL may follow) and before any '#' (a
 * namespace may precede: "...#ThrottlingException"). Else http_NNN. */
static const char *call_error(struct eb_sink *s, struct batch *b,
			      long status, char *tmp, size_t tmplen)
{
	struct json_doc *d = &s->doc;
	const char *t = NULL, *cut;
	size_t n = 0;
	json_ref r = 0;

	if (b->errtype[0]) {
		t = b->errtype;
		n = strlen(t);
	} else if (json_parse(d, b->resp.data, b->resp.len, 0, 0) ==
		   JSON_OK && json_type_of(d, d->root) == JSON_OBJECT) {
		r = json_member(d, d->root, "code", 4);
		if (json_type_of(d, r) != JSON_STRING)
			r = json_member(d, d->root, "__type", 6);
		if (json_type_of(d, r) == JSON_STRING)
			t = json_string(d, r, &n);
	}
	if (t && (cut = memchr(t, ':', n)) != NULL)
		n = (size_t)(cut - t);
	if (t && (cut = memchr(t, '#', n)) != NULL) {
		n -= (size_t)(cut + 1 - t);
		t = cut + 1;
	}
	if (t && n)
		return intern(s, t, n);
	snprintf(tmp, tmplen, "http_%ld", status);
	return intern(s, tmp, strlen(tmp));
}

/* Per-entry results of an accepted call: count the accepted, keep the
 * retryable failures in the batch, give up the others. Returns 0, or -1
 * when the answer does not say what became of each entry. */
static int entry_results(struct eb_sink *s, struct batch *b)
{
	struct json_doc *d = &s->doc;
	json_ref list, r, ec;
	size_t keep = 0, i = 0, n;
	const char *code;

	if (json_parse(d, b->resp.data, b->resp.len, 0, 0) != JSON_OK ||
	    json_type_of(d, d->root) != JSON_OBJECT)
		return -1;
	list = json_member(d, d->root, "Entries", 7);
	if (json_type_of(d, list) != JSON_ARRAY ||
	    json_length(d, list) != b->n)
		return -1;

	/* The answer is untrusted: check every entry before acting on any,
	 * so a bad one cannot leave the batch half applied. */
	for (r = json_first(d, list); r; r = json_next(d, r)) {
		if (json_type_of(d, r) != JSON_OBJECT)
			return -1;
		ec = json_member(d, r, "ErrorCode", 9);
		if (json_type_of(d, ec) != JSON_STRING &&
		    json_member(d, r, "EventId", 7) == 0)
			return -1;
	}

	for (r = json_first(d, list); r; r = json_next(d, r), i++) {
		ec = json_member(d, r, "ErrorCode", 9);
		code = NULL;
		if (json_type_of(d, ec) == JSON_STRING &&
		    (code = json_string(d, ec, &n)) != NULL)
			code = intern(s, code, n);
		if (code == NULL) {
			s->st.sent++;
		} else if (listed(retryable_entry, code)) {
			b->e[i].code = code;
			b->e[keep++] = b->e[i];
		} else {
			give_up(s, &b->e[i], code, b->attempt);
		}
	}
	b->n = keep;
	return 0;
}

/* Failures of the connection that another try may cure. */
static int transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE: case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

static void finished(struct eb_sink *s, struct batch *b, CURLcode rc)
{
	char tmp[32];
	const char *code;
	long status = 0;

	curl_multi_remove_handle(s->multi, b->easy);
	s->flying--;
	if (rc != CURLE_OK) {
		call_failed(s, b, transient(rc), "network_error",
			    b->errbuf[0] ? b->errbuf : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(b->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		code = call_error(s, b, status, tmp, sizeof tmp);
		call_failed(s, b, status >= 500 || status == 429 ||
			    listed(retryable_call, code), code,
			    "the call was refused");
		return;
	}
	if (entry_results(s, b) != 0) {
		/* Some entries may have been accepted: sending them again
		 * could deliver them twice, so none is. */
		call_failed(s, b, 0, "bad_response", "the answer does not "
			    "list one result per entry");
		return;
	}
	retry_or_give_up(s, b);
}

/* Move calls along; with `wait_ms`, wait up to that long for news. */
static void pump(struct eb_sink *s, int wait_ms)
{
	double next;
	int running, left, ms;
	CURLMsg *m;

	launch_due(s);
	if (!s->cfg.dry_run) {
		curl_multi_perform(s->multi, &running);
		while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
			struct batch *b;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  (char **)&b);
			finished(s, b, m->data.result);
		}
	}
	next = launch_due(s);
	if (wait_ms <= 0)
		return;
	ms = next >= 0 && next * 1000 < wait_ms ? (int)(next * 1000) + 1
						: wait_ms;
	if (s->flying)
		curl_multi_poll(s->multi, NULL, 0, ms, NULL);
	else if (next >= 0)
		rp_sleep(ms / 1000.0);
	if (s->cfg.tick)
		s->cfg.tick(s->cfg.tick_ctx);
}

static int busy(const struct eb_sink *s)
{
	for (size_t i = 0; i < s->npool; i++)
		if (s->pool[i].state != B_FREE &&
		    s->pool[i].state != B_FILLING)
			return 1;
	return 0;
}

static struct batch *free_batch(struct eb_sink *s)
{
	for (size_t i = 0; i < s->npool; i++)
		if (s->pool[i].state == B_FREE)
			return &s->pool[i];
	return NULL;
}

/* ---- the interface ------------------------------------------------------- */

int eb_put(struct eb_sink *s, const char *entry, size_t len, uint32_t size,
	   int input, unsigned long line)
{
	struct batch *b = s->filling;
	struct entry *e;

	if (b && (b->n == s->cfg.max_entries ||
		  b->total + size >= s->cfg.max_request)) {
		batch_queue(s, b, 0);
		s->filling = b = NULL;
		pump(s, 0);
	}
	while (b == NULL && !s->fatal[0])
		if ((b = free_batch(s)) == NULL)
			pump(s, 100);
	if (s->fatal[0])
		return -1;
	b->state = B_FILLING;
	s->filling = b;
	e = &b->e[b->n];
	e->off = b->text.len;
	e->len = len;
	e->size = size;
	e->input = input;
	e->line = line;
	e->code = NULL;
	buf_put(&b->text, entry, len);
	if (buf_failed(&b->text)) {
		fail_for_good(s, "%s%s", "out of memory batching entries", "");
		return -1;
	}
	b->n++;
	b->total += size;
	return 0;
}

void eb_poll(struct eb_sink *s)
{
	pump(s, 0);
}

/* Second interrupt: entries waiting to be sent again are given up. */
static void abandon_retries(struct eb_sink *s)
{
	for (size_t i = 0; i < s->npool; i++) {
		struct batch *b = &s->pool[i];

		if (b->state != B_QUEUED || b->attempt == 0)
			continue;
		for (size_t k = 0; k < b->n; k++)
			give_up(s, &b->e[k], b->e[k].code, b->attempt);
		batch_free(b);
	}
}

int eb_flush(struct eb_sink *s, const volatile sig_atomic_t *abandon)
{
	if (s->filling) {
		if (s->filling->n)
			batch_queue(s, s->filling, 0);
		else
			s->filling->state = B_FREE;
		s->filling = NULL;
	}
	while (busy(s)) {
		if (abandon && *abandon)
			abandon_retries(s);
		pump(s, 100);
	}
	return s->fatal[0] ? -1 : 0;
}

const char *eb_fatal(const struct eb_sink *s)
{
	return s->fatal[0] ? s->fatal : NULL;
}

void eb_stats_get(const struct eb_sink *s, struct eb_stats *st)
{
	*st = s->st;
}

/* The answer's bytes; a larger answer than the buffer's limit aborts
 * the call (and shows as a bad response). */
static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct batch *b = ctx;

	buf_put(&b->resp, p, size * n);
	return buf_failed(&b->resp) ? 0 : size * n;
}

/* The answer's headers: keep X-Amzn-ErrorType, the error code. A value
 * too long for the field is not kept: the body names the code too. */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	static const char name[] = "x-amzn-errortype:";
	struct batch *b = ctx;
	size_t len = size * n, k = sizeof name - 1;

	if (len <= k || strncasecmp(p, name, k) != 0)
		return len;
	while (k < len && (p[k] == ' ' || p[k] == '\t'))
		k++;
	while (len > k && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
			   p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len - k < sizeof b->errtype) {
		memcpy(b->errtype, p + k, len - k);
		b->errtype[len - k] = '\0';
	}
	return size * n;
}

/* One reusable curl handle per batch, set up once. */
static int batch_init(struct eb_sink *s, struct batch *b)
{
	buf_init(&b->text, RP_ENTRY_TEXT_MAX(s->cfg.max_request));
	buf_init(&b->body, RP_ENTRY_TEXT_MAX(s->cfg.max_request) + 65536);
	buf_init(&b->resp, 1u << 20);
	if (s->cfg.dry_run)
		return 0;
	if ((b->easy = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(b->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(b->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(b->easy, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(b->easy, CURLOPT_USERNAME,
			 getenv("AWS_ACCESS_KEY_ID"));
	curl_easy_setopt(b->easy, CURLOPT_PASSWORD,
			 getenv("AWS_SECRET_ACCESS_KEY"));
	curl_easy_setopt(b->easy, CURLOPT_USERAGENT, "scrub/" SCRUB_VERSION);
	curl_easy_setopt(b->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(b->easy, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(b->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(b->easy, CURLOPT_HEADERDATA, b);
	curl_easy_setopt(b->easy, CURLOPT_ERRORBUFFER, b->errbuf);
	curl_easy_setopt(b->easy, CURLOPT_PRIVATE, b);
	curl_easy_setopt(b->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(b->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(b->easy, CURLOPT_TIMEOUT_MS, s->cfg.timeout_ms);
	return 0;
}

/* Append a request header; on failure the list so far stays in
 * s->headers (freed with the sink), not lost. */
static int add_header(struct eb_sink *s, const char *header)
{
	struct curl_slist *l = curl_slist_append(s->headers, header);

	if (l == NULL)
		return -1;
	s->headers = l;
	return 0;
}

static int setup_http(struct eb_sink *s, char *err, size_t errlen)
{
	const char *key = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	char *hdr = NULL;
	int failed;

	if (!key || !*key || !secret || !*secret) {
		snprintf(err, errlen, "PutEvents needs credentials: set "
			 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
			 "AWS_SESSION_TOKEN for temporary ones)");
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (s->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}

	/* Every header given here is signed along (aws-contracts 2g). A
	 * session token has no fixed size limit. */
	if (token && *token) {
		static const char name[] = "X-Amz-Security-Token: ";

		hdr = scrub_malloc(sizeof name + strlen(token));
		if (hdr != NULL) {
			memcpy(hdr, name, sizeof name - 1);
			strcpy(hdr + sizeof name - 1, token);
		}
	}
	failed = add_header(s, "Content-Type: application/x-amz-json-1.1") ||
		 add_header(s, "X-Amz-Target: AWSEvents.PutEvents") ||
		 (token && *token && (hdr == NULL || add_header(s, hdr)));
	free(hdr);
	if (failed) {
		snprintf(err, errlen, "cannot set the request headers: out of "
			 "memory");
		return -1;
	}
	return 0;
}

int eb_open(struct eb_sink **out, const struct eb_config *cfg, char *err,
	    size_t errlen)
{
	struct eb_sink *s = scrub_calloc(1, sizeof *s);
	struct json_limits jl = { 64, 1u << 16, 1u << 20 };

	*out = s;
	if (s == NULL || sodium_init() < 0 || json_doc_init(&s->doc, &jl)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = *cfg;
	/* A dry run needs no region; the China regions have their own
	 * domain. */
	if (cfg->endpoint)
		snprintf(s->url, sizeof s->url, "%s", cfg->endpoint);
	else if (cfg->region)
		snprintf(s->url, sizeof s->url,
			 "https://events.%s.amazonaws.com%s/", cfg->region,
			 strncmp(cfg->region, "cn-", 3) == 0 ? ".cn" : "");
	if (cfg->region)
		snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:events",
			 cfg->region);
	if (!cfg->dry_run && setup_http(s, err, errlen) != 0)
		return -1;
	s->npool = (size_t)cfg->connections * 2 + 1;
	s->pool = scrub_calloc(s->npool, sizeof *s->pool);
	if (s->pool == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->npool; i++)
		if (batch_init(s, &s->pool[i]) != 0) {
			snprintf(err, errlen, "cannot start libcurl");
			return -1;
		}
	return 0;
}

void eb_free(struct eb_sink *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->pool && i < s->npool; i++) {
		struct batch *b = &s->pool[i];

		if (b->easy) {
			if (b->state == B_FLYING)
				curl_multi_remove_handle(s->multi, b->easy);
			curl_easy_cleanup(b->easy);
		}
		buf_free(&b->text);
		buf_free(&b->body);
		buf_free(&b->resp);
	}
	free(s->pool);
	if (s->multi) {
		curl_multi_cleanup(s->multi);
		curl_global_cleanup();
	}
	curl_slist_free_all(s->headers);
	for (size_t i = 0; i < s->ncodes; i++)
		free(s->codes[i]);
	json_doc_free(&s->doc);
	free(s);
}

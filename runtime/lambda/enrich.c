/* enrich.c - one invocation of the enrichment: records in, scrubbed events
 * out, as a JSON array in record order with dropped events left out.
 *
 * The payload is one of
 *   - a Pipes batch from a Kinesis source: a JSON array of flat Kinesis
 *     records ("eventSource": "aws:kinesis") whose `data` is the base64
 *     of one EventBridge event;
 *   - a direct invocation: one EventBridge event, or an array of them.
 *
 * Each emitted event is spliced into the response exactly as the policy
 * produced it, byte for byte. Pipes does not support partial failure of an
 * enrichment, so by default the first record the policy or the decoding
 * rejects fails the whole batch (Pipes retries it, or hands it to the
 * pipe's dead-letter queue); with SCRUB_ON_REJECT=drop it is left out and
 * counted instead. Exceeding the response limits is an error too, never a
 * silent truncation. Messages name a record by its position and Kinesis
 * sequence number and a rejection by its code: never by content.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "lambda.h"

int lam_enricher_init(struct lam_enricher *en, const struct lam_config *cfg,
		      const struct lam_log *lg, const scrub_program *p)
{
	/* A payload of n bytes has fewer than n / 2 + 2 values, and one
	 * level of nesting around the events it carries. */
	struct json_limits jl = {
		.max_depth = cfg->limits.max_depth + 1,
		.max_nodes = LAM_PAYLOAD_LIMIT / 2 + 2,
		.max_arena = LAM_PAYLOAD_LIMIT,
	};

	memset(en, 0, sizeof *en);
	en->cfg = cfg;
	en->lg = lg;
	buf_init(&en->resp, cfg->max_response);
	buf_init(&en->data, LAM_PAYLOAD_LIMIT);
	en->w = scrub_worker_new(p, &cfg->limits);
	if (en->w == NULL || json_doc_init(&en->doc, &jl) != 0) {
		lam_enricher_free(en);
		return -1;
	}
	return 0;
}

void lam_enricher_free(struct lam_enricher *en)
{
	scrub_worker_free(en->w);
	json_doc_free(&en->doc);
	buf_free(&en->resp);
	buf_free(&en->data);
	en->w = NULL;
}

/* One invocation in progress. */
struct run {
	struct lam_enricher *en;
	struct lam_batch *b;
	const char *request_id;
	int64_t deadline_ms;
	int kinesis;		/* the payload is a Kinesis batch */
	uint64_t emitted;	/* events in the response so far */
	uint64_t index;		/* the record at hand, from 1 */
	char who[192];		/* "record 2 of 3 (sequence number
				 * ...)" */
};

static void batch_fail(struct run *x, const char *type, const char *fmt,
		       ...) __attribute__((format(printf, 3, 4)));

static void batch_fail(struct run *x, const char *type, const char *fmt,
		       ...)
{
	va_list ap;

	x->b->error_type = type;
	va_start(ap, fmt);
	vsnprintf(x->b->message, sizeof x->b->message, fmt, ap);
	va_end(ap);
}

/* A rejected record: the batch fails, or the record is dropped. */
static void reject(struct run *x, const char *code, const char *message,
		   const struct scrub_result *r)
{
	char where[256] = "", text[sizeof x->b->message];

	if (r && r->rule && r->policy_file)
		snprintf(where, sizeof where, " (rule '%s', policy %s:%u)",
			 r->rule, r->policy_file, r->policy_line);
	else if (r && r->policy_file)
		snprintf(where, sizeof where, " (policy %s:%u)",
			 r->policy_file, r->policy_line);
	snprintf(text, sizeof text, "%s rejected: %s: %s%s", x->who, code,
		 message, where);
	if (x->en->cfg->drop_rejects)
		lam_log(x->en->lg, LAM_WARN, x->request_id, "%s; dropped "
			"(SCRUB_ON_REJECT=drop)", text);
	else
		batch_fail(x, "Scrub.RecordRejected", "%s", text);
}

static void emit(struct run *x, const struct scrub_result *r)
{
	const struct lam_config *cfg = x->en->cfg;
	struct buf *resp = &x->en->resp;

	if (x->emitted == cfg->max_batch) {
		batch_fail(x, "Scrub.TooManyEvents", "%s would be event %llu "
			   "of the response; SCRUB_MAX_BATCH allows %llu (an "
			   "event bus target takes 10): lower the pipe's "
			   "batch size", x->who,
			   (unsigned long long)x->emitted + 1,
			   (unsigned long long)cfg->max_batch);
		return;
	}
	if (x->emitted++)
		buf_putc(resp, ',');
	buf_put(resp, r->out, r->out_len);
	/* Room must remain for the closing bracket. */
	if (resp->err == BUF_NOMEM)
		batch_fail(x, "Scrub.OutOfMemory", "out of memory building "
			   "the response at %s", x->who);
	else if (buf_failed(resp) || resp->len + 1 > cfg->max_response)
		batch_fail(x, "Scrub.ResponseTooLarge", "the response would "
			   "be larger than %llu bytes (SCRUB_MAX_RESPONSE) "
			   "with %s: lower the pipe's batch size",
			   (unsigned long long)cfg->max_response, x->who);
}

/* ---- Kinesis records ----------------------------------------------------- */

static json_ref member(struct json_doc *d, json_ref obj, const char *key)
{
	return json_member(d, obj, key, strlen(key));
}

/* A string member's decoded text, or NULL. */
static const char *string_member(struct json_doc *d, json_ref obj,
				 const char *key, size_t *len)
{
	json_ref m = member(d, obj, key);

	if (json_type_of(d, m) != JSON_STRING)
		return NULL;
	return json_string(d, m, len);
}

/* Is this a record from Kinesis? The array's first element says what
 * the whole payload is. */
static int is_kinesis(struct json_doc *d, json_ref first)
{
	size_t len;
	const char *s = string_member(d, first, "eventSource", &len);

	return s && len == 11 && memcmp(s, "aws:kinesis", 11) == 0;
}

/* A Kinesis sequence number: "0|([1-9]\d{0,128})" (the Kinesis API's
 * pattern), so up to 129 decimal digits. */
static int sequence_number(const char *s, size_t len)
{
	if (s == NULL || len == 0 || len > 129 || (len > 1 && s[0] == '0'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The event a record carries: its `data`, base64-decoded. Returns 0, or
 * -1 with the reject code and reason. */
static int record_data(struct run *x, json_ref rec, const char **ev,
		       size_t *evlen, const char **code, const char **why)
{
	struct json_doc *d = &x->en->doc;
	struct buf *data = &x->en->data;
	size_t len;
	const char *s;

	*code = "invalid_record";
	if (json_type_of(d, rec) != JSON_OBJECT) {
		*why = "the record is not an object";
		return -1;
	}
	s = string_member(d, rec, "sequenceNumber", &len);
	if (!sequence_number(s, len)) {
		*why = "the record has no sequenceNumber (0, or up to 129 "
		       "digits not starting with 0)";
		return -1;
	}
	snprintf(x->who + strlen(x->who), sizeof x->who - strlen(x->who),
		 " (sequence number %.*s)", (int)len, s);
	s = string_member(d, rec, "data", &len);
	if (s == NULL) {
		*why = "the record has no data string";
		return -1;
	}
	buf_reset(data);
	if (len / 4 * 3 + 3 > data->cap && buf_grow(data, len / 4 * 3 + 3)) {
		*code = "out_of_memory";
		*why = "no memory to decode the record's data";
		return -1;
	}
	if (sodium_base642bin((unsigned char *)data->data, data->cap, s, len,
			      NULL, evlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		*code = "invalid_base64";
		*why = "the record's data is not valid base64";
		return -1;
	}
	*ev = data->data;
	return 0;
}

/* ---- the batch ----------------------------------------------------------- */

static void run_record(struct run *x, json_ref rec)
{
	struct json_doc *d = &x->en->doc;
	struct scrub_result r;
	const char *ev = NULL, *code, *why;
	size_t evlen = 0;

	snprintf(x->who, sizeof x->who, "record %llu of %llu",
		 (unsigned long long)x->index,
		 (unsigned long long)x->b->records);
	if (x->deadline_ms &&
	    lam_now_ms() > x->deadline_ms - LAM_DEADLINE_MARGIN_MS) {
		batch_fail(x, "Scrub.DeadlineExceeded", "stopped before %s: "
			   "less than %d ms left before the invocation's "
			   "deadline", x->who, LAM_DEADLINE_MARGIN_MS);
		return;
	}
	if (x->kinesis) {
		if (record_data(x, rec, &ev, &evlen, &code, &why) != 0)
			goto host_reject;
	} else if (is_kinesis(d, rec)) {
		/* Run as an event, it would pass on its data unread. */
		code = "invalid_record";
		why = "a Kinesis record among EventBridge events";
		goto host_reject;
	} else {
		ev = json_text(d, rec);
		evlen = json_node(d, rec)->len;
	}
	switch (scrub_run(x->en->w, ev, evlen, &r)) {
	case SCRUB_EMIT:
		emit(x, &r);
		break;
	case SCRUB_DROP:
		break;
	case SCRUB_REJECT:
		reject(x, r.code, r.message, &r);
		break;
	}
	return;
host_reject:
	scrub_worker_note_reject(x->en->w, code);
	reject(x, code, why, NULL);
}

static void run_payload(struct run *x, const char *payload, size_t len)
{
	struct json_doc *d = &x->en->doc;
	enum json_type t;
	json_ref rec;

	if (json_parse(d, payload, len, 0, 0) != JSON_OK) {
		batch_fail(x, "Scrub.InvalidPayload", "the payload is not "
			   "valid JSON: %s at byte %zu", d->err_msg,
			   d->err_offset);
		return;
	}
	t = json_type_of(d, d->root);
	if (t != JSON_ARRAY && t != JSON_OBJECT) {
		batch_fail(x, "Scrub.InvalidPayload", "the payload is a "
			   "JSON %s, not an array of records or an event",
			   json_type_name(t));
		return;
	}
	buf_reset(&x->en->resp);
	buf_putc(&x->en->resp, '[');
	if (t == JSON_OBJECT) {
		x->b->records = x->index = 1;
		run_record(x, d->root);
	} else {
		rec = json_first(d, d->root);
		x->b->records = json_length(d, d->root);
		x->kinesis = rec && is_kinesis(d, rec);
		for (x->index = 1; rec && !x->b->error_type; x->index++) {
			run_record(x, rec);
			rec = json_next(d, rec);
		}
	}
	if (!x->b->error_type)
		buf_putc(&x->en->resp, ']');
}

/* What happened in this batch: `after` less `before`, reason by reason. */
static void counters_delta(const struct scrub_counters *after,
			   const struct scrub_counters *before,
			   struct scrub_counters *d)
{
	const struct scrub_count *tabs[2][2] = {
		{ after->drops, before->drops },
		{ after->rejects, before->rejects },
	};
	size_t ns[2][2] = {
		{ after->ndrops, before->ndrops },
		{ after->nrejects, before->nrejects },
	};
	struct scrub_count *out[2] = { d->drops, d->rejects };
	size_t *nout[2] = { &d->ndrops, &d->nrejects };

	memset(d, 0, sizeof *d);
	d->events = after->events - before->events;
	d->emitted = after->emitted - before->emitted;
	d->dropped = after->dropped - before->dropped;
	d->rejected = after->rejected - before->rejected;
	for (int t = 0; t < 2; t++) {
		for (size_t i = 0; i < ns[t][0]; i++) {
			uint64_t n = tabs[t][0][i].count;

			for (size_t j = 0; j < ns[t][1]; j++)
				if (strcmp(tabs[t][1][j].name,
					   tabs[t][0][i].name) == 0)
					n -= tabs[t][1][j].count;
			if (n == 0)
				continue;
			out[t][*nout[t]].name = tabs[t][0][i].name;
			out[t][(*nout[t])++].count = n;
		}
	}
}

void lam_enrich(struct lam_enricher *en, const char *payload, size_t len,
		const char *request_id, int64_t deadline_ms,
		struct lam_batch *b)
{
	struct scrub_counters before, after;
	struct run x = {
		.en = en, .b = b, .request_id = request_id,
		.deadline_ms = deadline_ms,
	};
	double t0 = lam_mono_ms();

	memset(b, 0, sizeof *b);
	scrub_worker_counters(en->w, &before);
	run_payload(&x, payload, len);
	scrub_worker_counters(en->w, &after);
	counters_delta(&after, &before, &b->counts);
	b->duration_ms = lam_mono_ms() - t0;
}

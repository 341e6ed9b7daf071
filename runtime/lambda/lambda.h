/* lambda.h - the Pipe enrichment Lambda (`bootstrap`), a custom runtime
 * for provided.al2023 around libscrub.
 *
 *   config.c     settings from the environment, the policy and the key
 *   rapi.c       the Lambda Runtime API client (libcurl)
 *   enrich.c     one invocation: Kinesis records in, scrubbed events out
 *   logs.c       structured JSON log lines and the CloudWatch EMF line
 *   bootstrap.c  init, then the next -> response/error loop
 *
 * Nothing here ever writes event data anywhere but into a response: log
 * lines and error messages name records by position and sequence number,
 * and rejections by code and policy line.
 */
#ifndef SCRUB_LAMBDA_H
#define SCRUB_LAMBDA_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "../../vm/buf.h"
#include "../../vm/json.h"
#include "../scrub.h"

/* Lambda's synchronous invocation limit, documented as "6 MB": the
 * largest payload read or written is 6,291,556 bytes, the figure
 * Lambda's own error for an oversized response names. */
#define LAM_PAYLOAD_LIMIT 6291556u
/* The default response limit: Pipes' "6MB" read as 6 MiB. */
#define LAM_RESPONSE_DEFAULT 6291456u
/* An event-bus target takes at most 10 items per invocation. */
#define LAM_BATCH_DEFAULT 10u
/* Stop before a record when the deadline is closer than this. */
#define LAM_DEADLINE_MARGIN_MS 50

/* ---- logs.c -------------------------------------------------------------- */

enum lam_level { LAM_ERROR, LAM_WARN, LAM_INFO, LAM_DEBUG };

struct lam_log {
	enum lam_level level;	/* lines above it are not written */
	int fd;			/* standard output in Lambda */
};

/* The level named by `name` (ERROR, WARN, INFO, DEBUG; also Lambda's
 * TRACE and FATAL), or -1. */
int lam_level_parse(const char *name);

/* One line {"timestamp","level","requestId","message"}; `request_id` may
 * be NULL (during init). The message must hold no event data. */
void lam_log(const struct lam_log *lg, enum lam_level level,
	     const char *request_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* `s` as a JSON string, cut at the first byte that is not valid UTF-8
 * (a message cut short by its buffer may end inside a character). */
void lam_json_string(struct buf *b, const char *s);

/* What one invocation did, for its metrics line. */
struct lam_batch {
	const char *error_type;	/* NULL when the batch succeeded */
	char message[1024];	/* the error, naming no event data */
	uint64_t records;	/* records (or events) in the payload */
	struct scrub_counters counts;	/* this invocation only */
	double duration_ms;
};

/* The CloudWatch embedded-metric-format line for one invocation. */
void lam_emf(const struct lam_log *lg, const char *policy,
	     const char *request_id, const struct lam_batch *b);

/* ---- config.c ------------------------------------------------------------ */

struct lam_config {
	const char *api;	/* AWS_LAMBDA_RUNTIME_API, host:port */
	int drop_rejects;	/* SCRUB_ON_REJECT=drop */
	uint64_t max_batch;	/* SCRUB_MAX_BATCH */
	uint64_t max_response;	/* SCRUB_MAX_RESPONSE */
	struct scrub_limits limits;	/* SCRUB_MAX_DEPTH ... */
};

/* What init produced. On failure `error_type` and `message` say why
 * (Lambda's Category.Reason form), and nothing is left allocated. */
struct lam_init_error {
	const char *error_type;
	char message[1024];
};

/* Read the settings, load and verify the policy, bind its parameters and
 * the key. Returns the program, or NULL with *e filled in. */
scrub_program *lam_configure(struct lam_config *cfg, struct lam_log *lg,
			     struct lam_init_error *e);

/* ---- rapi.c -------------------------------------------------------------- */

struct lam_rapi {
	CURL *curl;
	char base[320];		/* http://HOST:PORT/2018-06-01/runtime */
	struct buf body;	/* the current invocation's payload */
	char request_id[128];
	char trace_id[1024];
	int64_t deadline_ms;	/* Unix epoch ms, 0 if not given */
	int body_too_large;	/* the payload went over its limit */
	char error[CURL_ERROR_SIZE];
};

/* How a Runtime API call ended. */
enum lam_rapi_status {
	LAM_API_OK,		/* 200 for next, 202 for the posts */
	LAM_API_TOO_LARGE,	/* 413: the response was refused */
	LAM_API_REFUSED,	/* 400 or 403: log it and carry on */
	LAM_API_FATAL,		/* 500, another status, or no connection:
				 * the runtime must exit */
};

int lam_rapi_init(struct lam_rapi *r, const char *api);
void lam_rapi_free(struct lam_rapi *r);

/* Wait for the next invocation (no timeout: the sandbox may be frozen
 * in between). On LAM_API_OK, request_id, trace_id, deadline_ms and body
 * describe it; on LAM_API_FATAL r->error says what went wrong. */
enum lam_rapi_status lam_rapi_next(struct lam_rapi *r);

/* Post the invocation's response, or its error. */
enum lam_rapi_status lam_rapi_respond(struct lam_rapi *r, const char *body,
				      size_t len);
enum lam_rapi_status lam_rapi_fail(struct lam_rapi *r, const char *type,
				   const char *message);

/* Report a failed init (before any invocation). */
enum lam_rapi_status lam_rapi_init_error(struct lam_rapi *r,
					 const char *type,
					 const char *message);

/* ---- enrich.c ------------------------------------------------------------ */

struct lam_enricher {
	const struct lam_config *cfg;
	const struct lam_log *lg;
	scrub_worker *w;
	struct json_doc doc;	/* the payload, indexed */
	struct buf resp;	/* the response: a JSON array */
	struct buf data;	/* one record's decoded data */
};

int lam_enricher_init(struct lam_enricher *en, const struct lam_config *cfg,
		      const struct lam_log *lg, const scrub_program *p);
void lam_enricher_free(struct lam_enricher *en);

/* Run one payload. On success b->error_type is NULL and en->resp holds the
 * response; otherwise the batch failed and b says why. `deadline_ms` is
 * the invocation's deadline (0: none). */
void lam_enrich(struct lam_enricher *en, const char *payload, size_t len,
		const char *request_id, int64_t deadline_ms,
		struct lam_batch *b);

/* Milliseconds since the Unix epoch, and a monotonic clock in ms. */
int64_t lam_now_ms(void);
double lam_mono_ms(void);

#endif

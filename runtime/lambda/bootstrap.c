/* bootstrap.c - the Lambda custom runtime's entry point.
 *
 * Init: read the settings, load and verify the policy, bind its
 * parameters and key; any failure is posted to /runtime/init/error and the
 * process exits (Lambda reports it on the first invocation). Then, for
 * ever: wait for the next invocation, set _X_AMZN_TRACE_ID from its trace
 * header, run the batch, write its metrics line, and post the response
 * or the error. A Runtime API failure (a 500, an unexpected status, a lost
 * connection) ends the process, as the API asks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lambda.h"

/* Post the batch's outcome. Returns 0 to carry on, -1 to exit. */
static int answer(struct lam_rapi *api, struct lam_enricher *en,
		  struct lam_batch *b)
{
	const struct lam_log *lg = en->lg;
	enum lam_rapi_status st = LAM_API_OK;
	const char *what = "response";

	if (b->error_type == NULL) {
		st = lam_rapi_respond(api, en->resp.data, en->resp.len);
		if (st == LAM_API_TOO_LARGE) {
			b->error_type = "Scrub.ResponseTooLarge";
			snprintf(b->message, sizeof b->message, "the Runtime "
				 "API refused the %zu-byte response as too "
				 "large: lower SCRUB_MAX_RESPONSE",
				 en->resp.len);
		}
	}
	if (b->error_type) {
		lam_log(lg, LAM_ERROR, api->request_id, "batch failed (%s): %s",
			b->error_type, b->message);
		what = "error";
		st = lam_rapi_fail(api, b->error_type, b->message);
	}
	if (st == LAM_API_OK)
		return 0;
	lam_log(lg, LAM_ERROR, api->request_id, "the Runtime API did not "
		"take the %s: %s%s", what, api->error,
		st == LAM_API_REFUSED ? "" : "; exiting");
	return st == LAM_API_REFUSED ? 0 : -1;
}

static void invoke(struct lam_rapi *api, struct lam_enricher *en,
		   const char *policy, struct lam_batch *b)
{
	const char *trace;

	if (api->trace_id[0])
		setenv("_X_AMZN_TRACE_ID", api->trace_id, 1);
	else
		unsetenv("_X_AMZN_TRACE_ID");
	trace = getenv("_X_AMZN_TRACE_ID");
	lam_log(en->lg, LAM_DEBUG, api->request_id, "invocation of %zu "
		"bytes, trace %s", api->body.len, trace ? trace : "none");

	if (buf_failed(&api->body)) {
		memset(b, 0, sizeof *b);
		b->error_type = api->body.err == BUF_LIMIT
			? "Scrub.InvalidPayload" : "Scrub.OutOfMemory";
		snprintf(b->message, sizeof b->message, "the payload is "
			 "larger than %u bytes%s", LAM_PAYLOAD_LIMIT,
			 api->body.err == BUF_LIMIT ? ""
			 : ", or there is no memory to hold it");
	} else {
		lam_enrich(en, api->body.data ? api->body.data : "",
			   api->body.len, api->request_id, api->deadline_ms,
			   b);
	}
	/* Logs first: once the response is out, the sandbox may freeze. */
	lam_emf(en->lg, policy, api->request_id, b);
}

static int serve(struct lam_rapi *api, struct lam_enricher *en,
		 const char *policy)
{
	struct lam_batch b;

	for (;;) {
		if (lam_rapi_next(api) != LAM_API_OK) {
			lam_log(en->lg, LAM_ERROR, NULL, "the Runtime API "
				"failed: %s; exiting", api->error);
			return 1;
		}
		invoke(api, en, policy, &b);
		if (answer(api, en, &b) != 0)
			return 1;
	}
}

int main(void)
{
	struct lam_log lg = { .level = LAM_INFO, .fd = STDOUT_FILENO };
	struct lam_config cfg = { .api = getenv("AWS_LAMBDA_RUNTIME_API") };
	struct lam_init_error ie = { NULL, "" };
	struct lam_enricher en;
	struct lam_rapi api;
	scrub_program *p;
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    lam_rapi_init(&api, cfg.api) != 0) {
		lam_log(&lg, LAM_ERROR, NULL, "no Runtime API to talk to: "
			"AWS_LAMBDA_RUNTIME_API is %s", cfg.api ? "invalid"
			: "not set");
		return 1;
	}
	p = lam_configure(&cfg, &lg, &ie);
	if (p && lam_enricher_init(&en, &cfg, &lg, p) != 0) {
		ie.error_type = "Scrub.OutOfMemory";
		snprintf(ie.message, sizeof ie.message, "out of memory "
			 "setting up the policy's worker");
		scrub_program_free(p);
		p = NULL;
	}
	if (p == NULL) {
		lam_log(&lg, LAM_ERROR, NULL, "init failed (%s): %s",
			ie.error_type, ie.message);
		if (lam_rapi_init_error(&api, ie.error_type, ie.message) !=
		    LAM_API_OK)
			lam_log(&lg, LAM_ERROR, NULL, "the Runtime API did "
				"not take the init error: %s", api.error);
		rc = 1;
	} else {
		rc = serve(&api, &en, scrub_program_name(p));
		lam_enricher_free(&en);
		scrub_program_free(p);
	}
	lam_rapi_free(&api);
	curl_global_cleanup();
	return rc;
}

/* rapi.c - a client of the Lambda Runtime API, version 2018-06-01:
 *
 *   GET  /runtime/invocation/next            wait for an invocation
 *   POST /runtime/invocation/{id}/response   its result
 *   POST /runtime/invocation/{id}/error      or why it failed
 *   POST /runtime/init/error                 init failed; then exit
 *
 * One curl handle lives as long as the process, so every call reuses one
 * keep-alive connection to the local endpoint. No call has a timeout: a
 * /next may wait for as long as the sandbox stays frozen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lambda.h"

int lam_rapi_init(struct lam_rapi *r, const char *api)
{
	memset(r, 0, sizeof *r);
	if (api == NULL || api[0] == '\0' ||
	    strlen(api) > sizeof r->base - 40)
		return -1;
	snprintf(r->base, sizeof r->base, "http://%s/2018-06-01/runtime",
		 api);
	buf_init(&r->body, LAM_PAYLOAD_LIMIT);
	r->curl = curl_easy_init();
	return r->curl ? 0 : -1;
}

void lam_rapi_free(struct lam_rapi *r)
{
	if (r->curl)
		curl_easy_cleanup(r->curl);
	buf_free(&r->body);
	r->curl = NULL;
}

/* ---- the invocation's headers -------------------------------------------- */

/* Copy the value of header `name` from one header line into `out`, if the
 * line is that header and its value fits and uses only `ok` characters.
 * A value that does not qualify leaves `out` empty. */
static void header(const char *line, size_t len, const char *name,
		   char *out, size_t outlen, int (*ok)(int c))
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
		       line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	out[0] = '\0';
	if (len == 0 || len >= outlen)
		return;
	for (size_t i = 0; i < len; i++)
		if (!ok((unsigned char)line[i]))
			return;
	memcpy(out, line, len);
	out[len] = '\0';
}

/* The request id goes into URL paths: RFC 3986 unreserved characters. */
static int id_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

static int trace_char(int c)
{
	return c > 0x20 && c < 0x7f;
}

static int digit(int c)
{
	return c >= '0' && c <= '9';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct lam_rapi *r = ctx;
	char deadline[24] = "";

	header(p, n * size, "Lambda-Runtime-Aws-Request-Id", r->request_id,
	       sizeof r->request_id, id_char);
	header(p, n * size, "Lambda-Runtime-Trace-Id", r->trace_id,
	       sizeof r->trace_id, trace_char);
	header(p, n * size, "Lambda-Runtime-Deadline-Ms", deadline,
	       sizeof deadline - 4, digit);
	if (deadline[0])
		r->deadline_ms = strtoll(deadline, NULL, 10);
	return n * size;
}

/* The payload; past its limit the rest is read and thrown away, so the
 * invocation can still get its error response. */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct lam_rapi *r = ctx;

	buf_put(&r->body, p, n * size);
	return n * size;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return n * size;
}

/* ---- calls --------------------------------------------------------------- */

static void setup(struct lam_rapi *r, const char *url)
{
	/* A reset keeps the connection and drops every option. */
	curl_easy_reset(r->curl);
	curl_easy_setopt(r->curl, CURLOPT_URL, url);
	curl_easy_setopt(r->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->error);
	r->error[0] = '\0';
}

static enum lam_rapi_status perform(struct lam_rapi *r, const char *what,
				    long ok)
{
	CURLcode rc = curl_easy_perform(r->curl);
	long status = 0;

	if (rc != CURLE_OK) {
		if (r->error[0] == '\0')
			snprintf(r->error, sizeof r->error, "%s",
				 curl_easy_strerror(rc));
		return LAM_API_FATAL;
	}
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	snprintf(r->error, sizeof r->error, "%s: HTTP status %ld", what,
		 status);
	if (status == ok)
		return LAM_API_OK;
	if (status == 413)
		return LAM_API_TOO_LARGE;
	if (status == 400 || status == 403)
		return LAM_API_REFUSED;
	return LAM_API_FATAL;
}

enum lam_rapi_status lam_rapi_next(struct lam_rapi *r)
{
	enum lam_rapi_status st;
	char url[512];

	buf_reset(&r->body);
	r->request_id[0] = r->trace_id[0] = '\0';
	r->deadline_ms = 0;
	snprintf(url, sizeof url, "%s/invocation/next", r->base);
	setup(r, url);
	curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(r->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, r);
	st = perform(r, "next invocation", 200);
	if (st != LAM_API_OK)
		return LAM_API_FATAL;
	if (r->request_id[0] == '\0') {
		snprintf(r->error, sizeof r->error, "next invocation: no "
			 "usable Lambda-Runtime-Aws-Request-Id header");
		return LAM_API_FATAL;
	}
	return LAM_API_OK;
}

/* The request headers of a post: an error's type, or a plain response. */
static struct curl_slist *post_headers(const char *type)
{
	char error_type[160];
	const char *lines[] = {
		/* No "Expect: 100-continue" round trip for large bodies. */
		"Expect:",
		type ? "Content-Type: application/vnd.aws.lambda.error+json"
		     : "Content-Type: application/json",
		type ? error_type : NULL,
	};
	struct curl_slist *h = NULL, *next;

	snprintf(error_type, sizeof error_type,
		 "Lambda-Runtime-Function-Error-Type: %s", type ? type : "");
	for (size_t i = 0; i < 3 && lines[i]; i++) {
		next = curl_slist_append(h, lines[i]);
		if (next == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = next;
	}
	return h;
}

static enum lam_rapi_status post(struct lam_rapi *r, const char *url,
				 const char *what, const char *body,
				 size_t len, const char *type)
{
	struct curl_slist *h = post_headers(type);
	enum lam_rapi_status st;

	if (h == NULL) {
		snprintf(r->error, sizeof r->error, "%s: out of memory", what);
		return LAM_API_FATAL;
	}
	setup(r, url);
	curl_easy_setopt(r->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)len);
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, discard);
	st = perform(r, what, 202);
	curl_slist_free_all(h);
	return st;
}

enum lam_rapi_status lam_rapi_respond(struct lam_rapi *r, const char *body,
				      size_t len)
{
	char url[512];

	snprintf(url, sizeof url, "%s/invocation/%s/response", r->base,
		 r->request_id);
	return post(r, url, "invocation response", body, len, NULL);
}

/* {"errorMessage": ..., "errorType": ..., "stackTrace": []} */
static enum lam_rapi_status post_error(struct lam_rapi *r, const char *url,
				       const char *what, const char *type,
				       const char *message)
{
	enum lam_rapi_status st;
	struct buf b;

	buf_init(&b, 64u << 10);
	buf_puts(&b, "{\"errorMessage\":");
	lam_json_string(&b, message);
	buf_puts(&b, ",\"errorType\":");
	lam_json_string(&b, type);
	buf_puts(&b, ",\"stackTrace\":[]}");
	if (buf_failed(&b)) {
		snprintf(r->error, sizeof r->error, "%s: out of memory", what);
		st = LAM_API_FATAL;
	} else {
		st = post(r, url, what, b.data, b.len, type);
	}
	buf_free(&b);
	return st;
}

enum lam_rapi_status lam_rapi_fail(struct lam_rapi *r, const char *type,
				   const char *message)
{
	char url[512];

	snprintf(url, sizeof url, "%s/invocation/%s/error", r->base,
		 r->request_id);
	return post_error(r, url, "invocation error", type, message);
}

enum lam_rapi_status lam_rapi_init_error(struct lam_rapi *r,
					 const char *type,
					 const char *message)
{
	char url[512];

	snprintf(url, sizeof url, "%s/init/error", r->base);
	return post_error(r, url, "init error", type, message);
}

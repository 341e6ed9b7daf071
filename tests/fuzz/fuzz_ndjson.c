/* fuzz_ndjson.c - `scrub run`'s line reader (runtime/cli/common.c) on
 * arbitrary input, with a small line limit so that long lines, lines
 * longer than the buffer and lines split across reads all occur.
 *
 * Properties: every line handed out lies within the input and is the
 * bytes between two newlines (or the end), in order; a line over the
 * limit (a CR that ends it not counted: it is the line's end, not the
 * event's) is reported as too long with no bytes; together the lines
 * account for every byte of the input. Each line also runs through a policy.
 * Input that starts with gzip's magic is inflated: there the lines are
 * not the input's bytes, and bad gzip data is an error with a message,
 * not a crash. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../runtime/cli/cli.h"
#include "fuzz.h"

enum { MAX_LINE = 64 };

static scrub_program *prog;
static scrub_worker *worker;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (scrub_program_open("tests/e2e/cases/mask/policy.scrub", &prog,
			       NULL, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz-ndjson: %s\n", err);
		exit(2);
	}
	worker = scrub_worker_new(prog, NULL);
	if (worker == NULL)
		exit(2);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndjson in;
	const char *line;
	size_t len, at = 0;
	int too_long, rc, fd = memfd_create("fuzz-ndjson", 0);
	int gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	char path[64];

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		fuzz_fail("memfd");
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (ndjson_open(&in, path, MAX_LINE) != 0)
		fuzz_fail("ndjson_open");
	while ((rc = ndjson_next(&in, &line, &len, &too_long)) > 0) {
		const uint8_t *nl;
		size_t end, counted;
		struct scrub_result r;

		if (gzip) {
			if (too_long ? len != 0 : len > MAX_LINE)
				fuzz_fail("an inflated line over the limit");
			if (!too_long)
				scrub_run(worker, line, len, &r);
			continue;
		}
		nl = memchr(data + at, '\n', size - at);
		end = nl ? (size_t)(nl - data) : size;
		counted = end - at - (end > at && data[end - 1] == '\r');

		if (too_long) {
			if (len != 0 || counted <= MAX_LINE)
				fuzz_fail("a short line called too long");
		} else if (len != end - at || counted > MAX_LINE ||
			   memcmp(line, data + at, len)) {
			fuzz_fail("a line is not the input's next line");
		} else {
			scrub_run(worker, line, len, &r);
		}
		at = nl ? end + 1 : size;
	}
	if (gzip && rc < 0 && ndjson_strerror(&in, errno)[0] == '\0')
		fuzz_fail("bad gzip data without a message");
	if (!gzip && (rc < 0 || at != size))
		fuzz_fail("the lines do not cover the input");
	ndjson_close(&in);
	close(fd);
	return 0;
}

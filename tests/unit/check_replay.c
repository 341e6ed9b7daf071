/* check_replay.c - the replay driver's pure parts: RFC 3339 time stamps,
 * the quick look for an event's time, and PutEvents entries with their
 * sizes by AWS's formula. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/cli/replay.h"
#include "helpers.h"

static const struct {
	const char *in;
	long long sec;
	int nsec;
} times[] = {
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2023-04-21T14:38:48Z", 1682087928, 0 },
	{ "2023-04-21t14:38:48z", 1682087928, 0 },
	{ "2023-04-21T16:38:48+02:00", 1682087928, 0 },
	{ "2023-04-21T09:08:48-05:30", 1682087928, 0 },
	{ "2023-04-21T14:38:48.5Z", 1682087928, 500000000 },
	{ "2023-04-21T14:38:48.123456789Z", 1682087928, 123456789 },
	/* Digits past nanoseconds are read and dropped. */
	{ "2023-04-21T14:38:48.1234567891Z", 1682087928, 123456789 },
	{ "2024-02-29T00:00:00Z", 1709164800, 0 },
	{ "2000-02-29T00:00:00Z", 951782400, 0 },
	{ "1969-12-31T23:59:59Z", -1, 0 },
	/* A leap second is the next second's start. */
	{ "2016-12-31T23:59:60Z", 1483228800, 0 },
	{ "9999-12-31T23:59:59Z", 253402300799LL, 0 },
};

START_TEST(test_time_parse)
{
	struct rp_time t;

	ck_assert_int_eq(rp_time_parse(times[_i].in, strlen(times[_i].in),
				       &t), 0);
	ck_assert_int_eq(t.sec, times[_i].sec);
	ck_assert_int_eq(t.nsec, times[_i].nsec);
}
END_TEST

static const char *const bad_times[] = {
	"", "2023-04-21", "2023-04-21T14:38:48", "2023-04-21 14:38:48Z",
	"2023-4-21T14:38:48Z", "2023-04-21T14:38Z", "2023-04-21T14:38:48.Z",
	"2023-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
	"2023-04-31T00:00:00Z", "2023-04-21T24:00:00Z", "2023-04-21T14:60:00Z",
	"2023-04-21T14:38:61Z", "2023-04-21T14:38:48+2:00",
	"2023-04-21T14:38:48+02:60", "2023-04-21T14:38:48+24:00",
	"2023-04-21T14:38:48Z ", "2023-04-21T14:38:48+02:00Z", "yesterday",
	"2023-04-21T14:38:48UTC", "+2023-04-21T14:38:48Z",
};

START_TEST(test_time_bad)
{
	struct rp_time t;

	ck_assert_msg(rp_time_parse(bad_times[_i], strlen(bad_times[_i]),
				    &t) != 0, "accepted '%s'", bad_times[_i]);
}
END_TEST

START_TEST(test_time_cmp)
{
	struct rp_time a = { 10, 5 }, b = { 10, 6 }, c = { 11, 0 };

	ck_assert_int_eq(rp_time_cmp(&a, &b), -1);
	ck_assert_int_eq(rp_time_cmp(&b, &a), 1);
	ck_assert_int_eq(rp_time_cmp(&b, &c), -1);
	ck_assert_int_eq(rp_time_cmp(&a, &a), 0);
}
END_TEST

/* The quick look: the time string's body, or "-" for "parse it whole". */
static const struct {
	const char *ev, *want;
} finds[] = {
	{ "{\"time\":\"T1\"}", "T1" },
	{ " { \"time\" : \"T1\" } ", "T1" },
	{ "{\"a\":1,\"b\":[1,{\"time\":\"no\"}],\"time\":\"T2\",\"c\":{}}",
	  "T2" },
	{ "{\"s\":\"x\\\"time\\\":\\\"no\\\"\",\"time\":\"T3\"}", "T3" },
	{ "{\"s\":\"ends in a backslash \\\\\",\"time\":\"T4\"}", "T4" },
	{ "{\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,\"time\":\"T5\"}",
	  "T5" },
	{ "{\"time\":\"\"}", "" },
	/* Brackets are counted, not paired: an event in the window gets a
	 * full parse (and its reject), one outside is dropped unparsed. */
	{ "{\"a\":[1,2},\"time\":\"T\"}", "T" },
	/* Not decided here: */
	{ "{\"a\":1}", "-" },
	{ "{\"time\":1}", "-" },
	{ "{\"time\":\"a\\u0062\"}", "-" },
	{ "{\"ti\\u006de\":\"T\"}", "-" },
	{ "{\"time\":\"T1\",\"time\":\"T2\"}", "-" },
	{ "[\"time\"]", "-" },
	{ "{\"time\":\"T\"", "-" },
	{ "{\"time\":\"T\"}x", "-" },
	{ "{\"time\":\"T\",}", "-" },
	{ "{\"a\":,\"time\":\"T\"}", "-" },
	{ "", "-" },
};

START_TEST(test_find_time)
{
	const char *s;
	size_t n;
	char got[64] = "-";

	if (rp_find_time(finds[_i].ev, strlen(finds[_i].ev), &s, &n))
		snprintf(got, sizeof got, "%.*s", (int)n, s);
	ck_assert_str_eq(got, finds[_i].want);
}
END_TEST

/* Bug: the key was compared using the end of its value, so "time" was
 * never found quickly and every event took the slow path. */
START_TEST(test_find_time_bug_key_end)
{
	const char *ev = "{\"time\":\"2023-04-21T14:38:48Z\",\"x\":1}";
	const char *s = NULL;
	size_t n = 0;

	ck_assert_int_eq(rp_find_time(ev, strlen(ev), &s, &n), 1);
	ck_assert_int_eq(n, 20);
	ck_assert_int_eq(memcmp(s, "2023-04-21T14:38:48Z", 20), 0);
}
END_TEST

/* Entries: the JSON sent, and the size by AWS's formula (14 for Time,
 * then the UTF-8 bytes of Source, DetailType, Detail and Resources). */
static const struct {
	const char *ev, *entry;
	unsigned size;
} entries[] = {
	{ "{\"source\":\"s\",\"detail-type\":\"T\",\"detail\":{}}",
	  "{\"Source\":\"s\",\"DetailType\":\"T\",\"Detail\":\"{}\","
	  "\"EventBusName\":\"bus\"}", 4 },
	{ "{\"time\":\"2023-04-21T14:38:48Z\",\"source\":\"caf\\u00e9\","
	  "\"detail-type\":\"T\",\"resources\":[\"arn:1\",\"é\"],"
	  "\"detail\":{\"q\":\"\\\"é\"}}",
	  "{\"Time\":1682087928,\"Source\":\"caf\\u00e9\",\"Resources\":"
	  "[\"arn:1\",\"é\"],\"DetailType\":\"T\",\"Detail\":"
	  "\"{\\\"q\\\":\\\"\\\\\\\"é\\\"}\",\"EventBusName\":\"bus\"}",
	  14 + 5 + 1 + 12 + 5 + 2 },
};

START_TEST(test_entry)
{
	struct json_limits lim = { 100, 1000, 65536 };
	struct json_doc d;
	struct buf out;
	uint32_t size = 0;
	const char *code = NULL;
	char msg[256] = "";

	ck_assert_int_eq(json_doc_init(&d, &lim), 0);
	buf_init(&out, 1u << 20);
	ck_assert_msg(rp_entry(&d, entries[_i].ev, strlen(entries[_i].ev),
			       "\"bus\"", &out, &size, &code, msg,
			       sizeof msg) == 0, "%s: %s", code, msg);
	ck_assert_int_eq(out.len, strlen(entries[_i].entry));
	ck_assert_int_eq(memcmp(out.data, entries[_i].entry, out.len), 0);
	ck_assert_uint_eq(size, entries[_i].size);
	buf_free(&out);
	json_doc_free(&d);
}
END_TEST

static const struct {
	const char *ev, *code;
} bad_entries[] = {
	{ "{\"detail-type\":\"T\",\"detail\":{}}", "invalid_entry" },
	{ "{\"source\":1,\"detail-type\":\"T\",\"detail\":{}}",
	  "invalid_entry" },
	{ "{\"source\":\"s\",\"detail\":{}}", "invalid_entry" },
	{ "{\"source\":\"s\",\"detail-type\":\"T\",\"detail\":[]}",
	  "invalid_entry" },
	{ "{\"source\":\"s\",\"detail-type\":\"T\"}", "invalid_entry" },
	{ "{\"source\":\"s\",\"detail-type\":\"T\",\"detail\":{},"
	  "\"resources\":\"arn\"}", "invalid_entry" },
	{ "{\"source\":\"s\",\"detail-type\":\"T\",\"detail\":{},"
	  "\"resources\":[null]}", "invalid_entry" },
	{ "{\"source\":\"s\",\"detail-type\":\"T\",\"detail\":{},"
	  "\"time\":\"now\"}", "invalid_time" },
	{ "{\"source\":\"s\",\"detail-type\":\"T\",\"detail\":{},"
	  "\"time\":0}", "invalid_time" },
};

START_TEST(test_entry_bad)
{
	struct json_limits lim = { 100, 1000, 65536 };
	struct json_doc d;
	struct buf out;
	uint32_t size;
	const char *code = NULL;
	char msg[256];

	ck_assert_int_eq(json_doc_init(&d, &lim), 0);
	buf_init(&out, 1u << 20);
	ck_assert_int_eq(rp_entry(&d, bad_entries[_i].ev,
				  strlen(bad_entries[_i].ev), "\"bus\"", &out,
				  &size, &code, msg, sizeof msg), -1);
	ck_assert_str_eq(code, bad_entries[_i].code);
	buf_free(&out);
	json_doc_free(&d);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *t = tcase_create("replay");

	tcase_add_loop_test(t, test_time_parse, 0,
			    sizeof times / sizeof *times);
	tcase_add_loop_test(t, test_time_bad, 0,
			    sizeof bad_times / sizeof *bad_times);
	tcase_add_test(t, test_time_cmp);
	tcase_add_loop_test(t, test_find_time, 0,
			    sizeof finds / sizeof *finds);
	tcase_add_test(t, test_find_time_bug_key_end);
	tcase_add_loop_test(t, test_entry, 0,
			    sizeof entries / sizeof *entries);
	tcase_add_loop_test(t, test_entry_bad, 0,
			    sizeof bad_entries / sizeof *bad_entries);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(replay_suite());
}

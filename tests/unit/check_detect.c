/* check_detect.c - the detectors, one table row per case: a detector set,
 * a text, and the exact findings ("name start-end", in order). Positive
 * and negative cases come from each format's public rules (Luhn, ISO
 * 13616, SSA, RFC 5321/5322, RFC 4291/5952, E.164/NANP, AWS, RFC 7519,
 * HMRC, Service Canada). Then adversarial texts, whose scans must stay
 * linear, and the safe fakes, which must never be valid values. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vm/detect.h"
#include "../../vm/detect_impl.h"
#include "helpers.h"

static const struct {
	const char *with, *text, *expect;
} cases[] = {
	/* email: dot-atom local part, subdomains (RFC 5321/5322, practical) */
	{ "email", "write to jane.doe+tag@mail.example.co.uk today",
	  "email 9-40" },
	{ "email", "<info@presidio.site>, bob_smith%x@ex-ample.org.",
	  "email 1-19, email 22-46" },
	{ "email",
	  "local part of 64: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaa@x.io",
	  "email 18-87" },
	{ "email",
	  "local part of 65: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaa@x.io",
	  "" },
	{ "email", "leading dot: .jane@example.com",
	  "" },
	{ "email", "double dot: jane..doe@example.com",
	  "" },
	{ "email", "no tld: jane@localhost, digit tld: jane@example.c0m",
	  "" },
	{ "email",
	  "one-letter tld: jane@example.c, trailing dot: info@presidio.",
	  "" },
	{ "email", "label with hyphens: a@-bad.com b@ok-host.com",
	  "email 31-44" },
	/* credit_card: brand prefix and length, Luhn (ISO/IEC 7812) */
	{ "credit_card", "Visa 4111111111111111, Amex 3782 822463 10005",
	  "credit_card 5-21, credit_card 28-45" },
	{ "credit_card", "MC 5555-5555-5555-4444 and 2221000000000009",
	  "credit_card 3-22, credit_card 27-43" },
	{ "credit_card", "Diners 30569309025904, JCB 3530111333300000",
	  "credit_card 7-21, credit_card 27-43" },
	{ "credit_card",
	  "Discover 6011 0009 9013 9424, UnionPay 6200000000000005",
	  "credit_card 9-28, credit_card 39-55" },
	{ "credit_card", "Maestro 6759649826438453, UATP 122000000000003",
	  "credit_card 8-24, credit_card 31-46" },
	{ "credit_card",
	  "Visa 13 digits 4222222222222, 19 digits 4111 1111 1111 1111 "
	  "003",
	  "credit_card 15-28, credit_card 40-63" },
	{ "credit_card", "Luhn fails: 4111111111111112 4012-8888-8888-1882",
	  "" },
	{ "credit_card", "no brand: 9111111111111111 1234567812345670",
	  "" },
	{ "credit_card", "order number ORD-20230421000187, 7000000000000007",
	  "" },
	{ "credit_card",
	  "wrong length for brand: 411111111111111 (15) 37144963539843 "
	  "(14)",
	  "" },
	{ "credit_card", "mixed separators: 4111 1111-1111 1111",
	  "" },
	{ "credit_card",
	  "inside a longer number: 14111111111111111, 4111111111111111."
	  "5",
	  "" },
	{ "credit_card", "all one digit: 0000000000000000",
	  "" },
	/* iban: per-country length, mod-97 (ISO 13616, ISO 7064) */
	{ "iban", "DE89370400440532013000 and GB29 NWBK 6016 1331 9268 19",
	  "iban 0-22, iban 27-54" },
	{ "iban", "FR14-2004-1010-0505-0001-3M02-606, NO9386011117947",
	  "iban 0-33, iban 35-50" },
	{ "iban", "check fails: DE89370400440532013001, GB29NWBK60161331926810",
	  "" },
	{ "iban",
	  "wrong length: DE8937040044053201300, unknown country: AM4721"
	  "2110090000000235698740",
	  "" },
	{ "iban",
	  "lower case: de89370400440532013000, odd grouping: DE89 370 4"
	  "00440532013000",
	  "" },
	{ "iban", "check digits 00: DE00370400440532013000",
	  "" },
	/* us_ssn: SSA rules, with or without dashes */
	{ "us_ssn", "078-05-1123, 078.05.1123, 078 05 1123, 078051121",
	  "us_ssn 0-11, us_ssn 13-24, us_ssn 26-37, us_ssn 39-48" },
	{ "us_ssn",
	  "area 000: 000-12-3456, 666: 666-12-3456, 9xx: 900-12-3456 99"
	  "9-12-3456",
	  "" },
	{ "us_ssn", "group 00: 123-00-4567, serial 0000: 123-45-0000",
	  "" },
	{ "us_ssn",
	  "voided: 078-05-1120 219-09-9999 123-45-6789, same digit: 111"
	  "-11-1111",
	  "" },
	{ "us_ssn", "mixed separators: 693-09.4444, ten digits 0780511201",
	  "" },
	/* phone: E.164 and NANP */
	{ "phone", "(415) 555-0132, 415.555.0132, 415-555-0132, 1-800-555-1234",
	  "phone 0-14, phone 16-28, phone 30-42, phone 44-58" },
	{ "phone", "+1 415 555 0132, +14155550132, +1-555-010-4477",
	  "phone 0-15, phone 17-29, phone 31-46" },
	{ "phone", "+44 20 7946 0018, +49 30 901820, +33 1 23 45 67 89",
	  "phone 0-16, phone 18-31, phone 33-50" },
	{ "phone", "+44 (0)20 7946 0018, +81-3-1234-5678",
	  "phone 0-19, phone 21-36" },
	{ "phone",
	  "area 1xx: (115) 555-0132, N11: 411-555-0132, exchange 1xx: 4"
	  "15-155-0132",
	  "" },
	{ "phone",
	  "+1 with 10 digits missing one: +1 415 555 013, unknown code "
	  "+28 1234 5678",
	  "" },
	{ "phone",
	  "too long: +1234567890123456, dates 2023-04-21, time 12:30:45",
	  "" },
	/* ipv4: dotted quad, each part 0-255, no leading zeros */
	{ "ipv4",
	  "src 192.168.0.1, net 10.0.0.0/8, edge 255.255.255.255 0.0.0."
	  "0",
	  "ipv4 4-15, ipv4 21-31, ipv4 38-53, ipv4 54-61" },
	{ "ipv4", "256.1.1.1 1.2.3 01.2.3.4 1.2.3.4.5",
	  "ipv4 25-32" },
	{ "ipv4", "Chrome/112.0.0.0 v1.2.3.4 host10.0.0.1",
	  "" },
	/* ipv6: RFC 4291 text forms, RFC 5952 compressed */
	{ "ipv6", "2001:db8::1, ::1, ::, fe80::1%eth0, 2001:db8::/32",
	  "ipv6 0-11, ipv6 13-16, ipv6 18-20, ipv6 22-34, ipv6 36-49" },
	{ "ipv6", "2001:0db8:0000:0000:0000:ff00:0042:8329 ::ffff:192.0.2.1",
	  "ipv6 0-39, ipv6 40-56" },
	{ "ipv6", "1::2::3, 12:34:56, 1:2:3:4:5:6:7, std::cout, 12345::1",
	  "" },
	/* mac_address: six octets, or Cisco dotted */
	{ "mac_address", "00:1A:2B:3C:4D:5E 00-1a-2b-3c-4d-5e 001a.2b3c.4d5e",
	  "mac_address 0-17, mac_address 18-35, mac_address 36-50" },
	{ "mac_address",
	  "broadcast FF:FF:FF:FF:FF:FF, zero 00:00:00:00:00:00, mixed 0"
	  "0:1A-2B:3C:4D:5E",
	  "" },
	/* aws_access_key_id: AKIA/ASIA/ABIA/ACCA and 16 characters */
	{ "aws_access_key_id", "AKIAIOSFODNN7EXAMPLE ASIAY34FZKBOKMUTVV7A",
	  "aws_access_key_id 0-20, aws_access_key_id 21-41" },
	{ "aws_access_key_id",
	  "AIDAEXAMPLEPRINCIPAL1 akiaiosfodnn7example AKIAIOSFODNN7EXAM"
	  "PLEX",
	  "" },
	/* aws_secret_access_key: 40 base64 characters of random text */
	{ "aws_secret_access_key",
	  "secret=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	  "aws_secret_access_key 7-47" },
	{ "aws_secret_access_key",
	  "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709, 41 wJalrXUtnF"
	  "EMI/K7MDENG/bPxRfiCYEXAMPLEKEYX",
	  "" },
	/* jwt: RFC 7519 compact serialization */
	{ "jwt",
	  "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0"
	  "NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
	  "jwt 7-115" },
	{ "jwt", "unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
	  "jwt 9-45" },
	{ "jwt",
	  "no alg eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2ln, not json eyJ"
	  "hbGciOi.eyJzdWIi.c2ln",
	  "" },
	/* private_key: PEM blocks */
	{ "private_key",
	  "k=-----BEGIN EC PRIVATE KEY-----\\\\nMHcCAQEEIIrYSSNQFaA2Hwf"
	  "1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\\\\n-----END EC PR"
	  "IVATE KEY----- done",
	  "private_key 2-130" },
	{ "private_key", "-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA75",
	  "private_key 0-50" },
	{ "private_key",
	  "-----BEGIN PUBLIC KEY----- MIIBIjANBg -----END PUBLIC KEY---"
	  "--",
	  "" },
	/* url_credentials: the user:password of a URL */
	{ "url_credentials",
	  "postgres://app:s3cr%40t@db.internal:5432/x https://user@host"
	  "/",
	  "url_credentials 11-23" },
	{ "url_credentials", "https://user:@host/ mailto:a:b@c",
	  "" },
	/* slack_token */
	{ "slack_token",
	  "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx xo"
	  "xp-523423-234243-234233-e039d02840a0b9379c",
	  "slack_token 0-57, slack_token 58-102" },
	{ "slack_token",
	  "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXX"
	  "XXXXXXXXXXXXXXXXX xoxb-1-2 xoxq-523423-234243-e039d02840a0b9"
	  "379c",
	  "slack_token 0-77" },
	/* stripe_key: sk_ and rk_, live and test */
	{ "stripe_key",
	  "sk_live_4eC39HqLyjWDarjtT1zdp7dc rk_test_4eC39HqLyjWDarjtT1z"
	  "dp7dc",
	  "stripe_key 0-32, stripe_key 33-65" },
	{ "stripe_key",
	  "pk_live_4eC39HqLyjWDarjtT1zdp7dc sk_live_short sk_prod_4eC39"
	  "HqLyjWDarjtT1zdp7dc",
	  "" },
	/* github_token: ghp_ gho_ ghu_ ghs_ ghr_ and github_pat_ */
	{ "github_token",
	  "ghp_16C7e42F292c6912E7710c838347Ae178B4a gho_16C7e42F292c691"
	  "2E7710c838347Ae178B4a",
	  "github_token 0-40, github_token 41-81" },
	{ "github_token",
	  "github_pat_11ABCDEFG0123456789abcd_efghijklmnopqrstuvwxyzABC"
	  "DEFGHIJKLMNOPQRSTUVWXYZ0123456789 ghp_tooshort ghx_16C7e42F2"
	  "92c6912E7710c838347Ae178B4a",
	  "github_token 0-93" },
	/* uk_nino: HMRC prefix rules, suffix A-D */
	{ "uk_nino", "AB 12 34 56 C, ab123456c, PR 123612C",
	  "uk_nino 0-13, uk_nino 15-24, uk_nino 26-36" },
	{ "uk_nino",
	  "prefix D: DA123456A, second O: AO123456A, BG123456A, suffix "
	  "E: AB123456E, QQ123456C",
	  "" },
	/* ca_sin: Luhn, first digit not 0 or 8 */
	{ "ca_sin", "130 692 544, 130-692-544, 130692544",
	  "ca_sin 0-11, ca_sin 13-24, ca_sin 26-35" },
	{ "ca_sin",
	  "130 692 545, 046 454 286, 812 345 678, 111 111 111, 130-692 "
	  "544",
	  "" },
	/* groups and priority */
	{ "pii", "jane@x.io 4111111111111111 AKIAIOSFODNN7EXAMPLE",
	  "email 0-9, credit_card 10-26" },
	{ "secrets", "jane@x.io 4111111111111111 AKIAIOSFODNN7EXAMPLE",
	  "aws_access_key_id 27-47" },
	{ "all", "https://bob:pw@jane.example.com/ 130692544",
	  "url_credentials 8-14, ca_sin 33-42" },
	{ "us_ssn,ca_sin", "130692544 078051121",
	  "ca_sin 0-9, us_ssn 10-19" },
	/* regression: the prefilter once ruled out a webhook, which has
	 * no dash */
	{ "slack_token",
	  "hook https://hooks.slack.com/services/T00000000/B00000000/"
	  "XXXXXXXXXXXXXXXXXXXXXXXX",
	  "slack_token 5-82" },
	/* an empty user name, as Redis URLs have */
	{ "url_credentials", "redis://:s3cret@cache:6379/0",
	  "url_credentials 8-15" },
	/* NINO digits in any grouping; phone extensions */
	{ "uk_nino", "The number is AZ 123 456 A.", "uk_nino 14-26" },
	{ "phone",
	  "312-515-2239 ext. 12, (312)515-2239 x7, 312-515-2239 xylophone",
	  "phone 0-20, phone 22-38, phone 40-52" },
	/* a PEM block inside a JSON string holds real newlines */
	{ "private_key",
	  "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKd\n"
	  "-----END PRIVATE KEY-----\nafter",
	  "private_key 0-77" },
	{ "private_key",
	  "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n"
	  "-----END EC PRIVATE KEY-----",
	  "private_key 0-37" },
};

struct collect {
	struct buf out;
};

static int collect(void *ctx, const struct vm_finding *f)
{
	struct collect *c = ctx;
	char span[64];

	if (c->out.len)
		buf_puts(&c->out, ", ");
	buf_puts(&c->out, vm_detect_name(f->det));
	snprintf(span, sizeof span, " %zu-%zu", f->start, f->end);
	buf_puts(&c->out, span);
	return 0;
}

/* The findings of the named detectors in `text`, as one string. */
static char *scan(const char *with, const char *text, size_t len,
		  uint64_t *work)
{
	uint32_t set = 0;
	char err[128];
	const char *p = with;
	struct vm_dset *d;
	struct vm_dscan *s = vm_dscan_new();
	struct collect c;

	while (*p) {
		size_t n = strcspn(p, ",");

		set |= vm_detect_lookup(p, n);
		p += n + (p[n] == ',');
	}
	d = vm_dset_new(set, err, sizeof err);
	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_ptr_nonnull(s);
	buf_init(&c.out, 1u << 20);
	buf_putc(&c.out, '\0');
	c.out.len = 0;
	ck_assert_int_eq(vm_detect_scan(d, s, text, len, collect, &c, work),
			 0);
	buf_putc(&c.out, '\0');
	vm_dset_free(d);
	vm_dscan_free(s);
	return c.out.data;
}

START_TEST(test_detector)
{
	char *got = scan(cases[_i].with, cases[_i].text,
			 strlen(cases[_i].text), NULL);

	ck_assert_msg(strcmp(got, cases[_i].expect) == 0,
		      "%s in \"%s\":\n  expected \"%s\"\n  got      \"%s\"",
		      cases[_i].with, cases[_i].text, cases[_i].expect, got);
	free(got);
}
END_TEST

/* Names, groups and their sets. */
START_TEST(test_names)
{
	struct buf b;

	ck_assert_uint_eq(vm_detect_count(), 18);
	ck_assert_uint_eq(vm_detect_lookup("email", 5), 1u << 8);
	ck_assert_uint_eq(vm_detect_lookup("emails", 6), 0);
	ck_assert_uint_eq(vm_detect_lookup("all", 3), vm_detect_all());
	ck_assert_uint_eq(vm_detect_lookup("pii", 3) |
			  vm_detect_lookup("secrets", 7), vm_detect_all());
	ck_assert_uint_eq(vm_detect_lookup("pii", 3) &
			  vm_detect_lookup("secrets", 7), 0);
	ck_assert_str_eq(vm_detect_label(10), "CREDIT_CARD");
	buf_init(&b, 4096);
	vm_detect_describe(vm_detect_lookup("pii", 3), &b);
	buf_putc(&b, '\0');
	ck_assert_str_eq(b.data, "email, iban, credit_card, ca_sin, us_ssn, "
			 "uk_nino, phone, mac_address, ipv6, ipv4");
	buf_reset(&b);
	vm_detect_describe(vm_detect_lookup("secrets", 7), &b);
	buf_putc(&b, '\0');
	ck_assert_str_eq(b.data, "private_key, jwt, url_credentials, "
			 "aws_access_key_id, aws_secret_access_key, "
			 "slack_token, stripe_key, github_token");
	buf_free(&b);
	ck_assert_ptr_null(vm_dset_new(0, (char[64]){ 0 }, 64));
	ck_assert_ptr_null(vm_dset_new(1u << 31, (char[64]){ 0 }, 64));
}
END_TEST

/* Texts built to make a backtracking engine go quadratic: each must
 * give exactly these findings, and cost a number of validations (the
 * work counter) linear in its length: at most 4 per byte, where a
 * quadratic scan of these 128 KiB would need billions. */
static const struct {
	const char *unit, *tail, *expect;
} adversarial[] = {
	{ "a", "", "" },
	{ "1", "", "" },
	{ "1 ", "", "" },
	{ "1-", "", "" },
	{ "a@", "", "" },
	{ "a.", "", "" },
	{ "aa.", "", "" },
	{ "1:", "", "" },
	{ "ab:", "", "" },
	{ "+1 ", "", "" },
	{ "1.1.", "", "ipv4 0-7" },
	{ "A/", "", "" },
	{ "eyJa.", "", "" },
	{ "xoxb-1-", "", "" },
	{ "a://b:c", "", "" },
	{ "DE89 ", "", "" },
	{ "+1 (1", "", "" },
	{ "0000.", "", "" },
	/* a long address after a run that almost was one */
	{ "x@aa.", "jane@example.com", "email 131072-131088" },
	{ "4111 ", "4111111111111111", "credit_card 131072-131088" },
};

START_TEST(test_adversarial)
{
	size_t n = strlen(adversarial[_i].unit), len = 0;
	size_t tail = strlen(adversarial[_i].tail);
	char *text = malloc((1u << 17) + tail + 1), *got;
	uint64_t work = 0;

	while (len + n <= 1u << 17) {
		memcpy(text + len, adversarial[_i].unit, n);
		len += n;
	}
	while (len < 1u << 17)
		text[len++] = ' ';
	memcpy(text + len, adversarial[_i].tail, tail);
	len += tail;
	got = scan("all", text, len, &work);
	ck_assert_msg(strcmp(got, adversarial[_i].expect) == 0,
		      "\"%s\"...: expected \"%s\", got \"%s\"",
		      adversarial[_i].unit, adversarial[_i].expect, got);
	ck_assert_msg(work <= 4 * (uint64_t)len,
		      "\"%s\"...: %llu validations", adversarial[_i].unit,
		      (unsigned long long)work);
	free(got);
	free(text);
}
END_TEST

/* A fake from a fixed seed: the first 32 bytes counting from `from`. */
static char *fake(vm_faker f, const char *value, unsigned from)
{
	unsigned char seed[32];
	struct vm_rng r;
	struct buf b;

	for (unsigned i = 0; i < 32; i++)
		seed[i] = (unsigned char)(from + i);
	vm_rng_init(&r, seed);
	buf_init(&b, 1u << 16);
	f(&b, value, strlen(value), &r);
	buf_putc(&b, '\0');
	return b.data;
}

static const struct {
	vm_faker fn;
	const char *value, *expect;
} fakes[] = {
	{ vm_fake_email, "jane.doe@example.com",
	  "qsgv.vxi@example.invalid" },
	{ vm_fake_card, "4111 1111 1111 1111", "4688 1116 6047 5208" },
	{ vm_fake_iban, "GB29 NWBK 6016 1331 9268 19",
	  "GB21 QSGV 1166 0475 2081 60" },
	{ vm_fake_ssn, "078-05-1123", "911-49-4797" },
	{ vm_fake_sin, "130 692 544", "068 811 166" },
	{ vm_fake_nino, "ab 12 34 56 c", "qq 68 81 11 c" },
	{ vm_fake_phone, "(415) 555-0132", "(408) 555-0111" },
	{ vm_fake_phone, "+44 20 7946 0018", "+99 96 8811 1660" },
	{ vm_fake_ipv4, "10.1.2.3/24", "192.0.2.146/24" },
	{ vm_fake_ipv6, "fe80::1%eth0",
	  "2001:db8:9212:bc97:1565:56f6:2890:b1af%eth0" },
	{ vm_fake_mac, "00:1A:2B:3C:4D:5E", "00:00:5E:00:53:92" },
	{ vm_fake_token, "AKIAIOSFODNN7EXAMPLE", "AKIAQSGVVXIM0OVTWYKD" },
	{ vm_fake_shape, "user:Pa55word", "qsgv:Vx66oovt" },
	{ vm_fake_pem, "-----BEGIN PRIVATE KEY-----\nMC4C\n"
	  "-----END PRIVATE KEY-----",
	  "-----BEGIN PRIVATE KEY-----\nQS8V\n-----END PRIVATE KEY-----" },
};

START_TEST(test_fake_golden)
{
	char *got = fake(fakes[_i].fn, fakes[_i].value, 0);

	ck_assert_msg(strcmp(got, fakes[_i].expect) == 0,
		      "fake of \"%s\": expected \"%s\", got \"%s\"",
		      fakes[_i].value, fakes[_i].expect, got);
	free(got);
}
END_TEST

/* Whatever the seed, a fake keeps the shape and is never a valid value
 * of its kind. */
START_TEST(test_fake_never_real)
{
	static const char *const nets[] = { "192.0.2.", "198.51.100.",
					    "203.0.113." };

	for (unsigned from = 0; from < 2000; from += 2) {
		char *email = fake(vm_fake_email, "jane.doe@example.com", from);
		char *card = fake(vm_fake_card, "4111 1111 1111 1111", from);
		char *iban = fake(vm_fake_iban, "GB29 NWBK 6016 1331 9268 19",
				  from);
		char *ssn = fake(vm_fake_ssn, "078-05-1123", from);
		char *sin = fake(vm_fake_sin, "130 692 544", from);
		char *nino = fake(vm_fake_nino, "AB 12 34 56 C", from);
		char *nanp = fake(vm_fake_phone, "+1 415 555 0132", from);
		char *intl = fake(vm_fake_phone, "+44 20 7946 0018", from);
		char *ip4 = fake(vm_fake_ipv4, "10.1.2.3", from);
		char *ip6 = fake(vm_fake_ipv6, "2001:db8::1/64", from);
		char *mac = fake(vm_fake_mac, "00-1a-2b-3c-4d-5e", from);
		int doc = 0;

		ck_assert_str_eq(email + 8, "@example.invalid");
		ck_assert(strlen(card) == 19 && card[0] == '4' &&
			  card[4] == ' ' && !vm_valid_card(card, 19));
		ck_assert(strlen(iban) == 27 && memcmp(iban, "GB", 2) == 0 &&
			  !vm_valid_iban(iban, 27));
		ck_assert(ssn[0] == '9' && ssn[3] == '-' && ssn[4] <= '4' &&
			  !vm_valid_ssn(ssn, 11));
		ck_assert(strlen(sin) == 11 && !vm_valid_sin(sin, 11));
		ck_assert(strlen(nino) == 13 && !vm_valid_nino(nino, 13));
		ck_assert_msg(memcmp(nanp + 7, "555 01", 6) == 0, "%s", nanp);
		ck_assert_msg(memcmp(intl, "+99 9", 5) == 0, "%s", intl);
		for (int i = 0; i < 3; i++)
			doc |= strncmp(ip4, nets[i], strlen(nets[i])) == 0;
		ck_assert_msg(doc, "%s", ip4);
		ck_assert_msg(strncmp(ip6, "2001:db8:", 9) == 0 &&
			      strcmp(ip6 + strlen(ip6) - 3, "/64") == 0, "%s",
			      ip6);
		ck_assert_msg(strncmp(mac, "00-00-5e-00-53-", 15) == 0, "%s",
			      mac);
		free(email);
		free(card);
		free(iban);
		free(ssn);
		free(sin);
		free(nino);
		free(nanp);
		free(intl);
		free(ip4);
		free(ip6);
		free(mac);
	}
}
END_TEST

/* Published check-digit vectors. */
START_TEST(test_checksums)
{
	ck_assert(vm_luhn("79927398713", 11));
	ck_assert(!vm_luhn("79927398710", 11));
	ck_assert(vm_luhn("046 454 286", 11));
	ck_assert_uint_eq(vm_iban_mod97("GB82WEST12345698765432", 22), 1);
	ck_assert_uint_eq(vm_iban_mod97("GB82WEST12345698765431", 22), 71);
}
END_TEST

static Suite *detect_suite(void)
{
	Suite *s = suite_create("detect");
	TCase *t = tcase_create("detectors");

	tcase_add_loop_test(t, test_detector, 0,
			    sizeof cases / sizeof *cases);
	tcase_add_test(t, test_names);
	tcase_add_loop_test(t, test_adversarial, 0,
			    sizeof adversarial / sizeof *adversarial);
	tcase_add_loop_test(t, test_fake_golden, 0,
			    sizeof fakes / sizeof *fakes);
	tcase_add_test(t, test_fake_never_real);
	tcase_add_test(t, test_checksums);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(detect_suite());
}

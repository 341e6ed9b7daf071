/* fake.c - safe fake values: the same shape as what was found, derived
 * from a keyed hash of it (so the same value always gets the same fake),
 * and built so that it can never be a real value of its kind: emails
 * under example.invalid, cards and SINs that fail Luhn, IBANs that fail
 * mod-97, SSNs from the never-issued 9xx area, phone numbers from the
 * fictional 555-01XX range, IPs and MACs from the documentation ranges.
 */
#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "ascii.h"
#include "detect_impl.h"

void vm_rng_init(struct vm_rng *r, const unsigned char seed[32])
{
	memcpy(r->seed, seed, sizeof r->seed);
	r->counter = 0;
	r->pos = sizeof r->block;
}

/* Blocks of BLAKE2b keyed by the seed, over a counter. */
unsigned vm_rng_byte(struct vm_rng *r)
{
	if (r->pos == sizeof r->block) {
		unsigned char ctr[8];

		for (int i = 0; i < 8; i++)
			ctr[i] = (unsigned char)(r->counter >> (8 * i));
		r->counter++;
		crypto_generichash(r->block, sizeof r->block, ctr, sizeof ctr,
				   r->seed, sizeof r->seed);
		r->pos = 0;
	}
	return r->block[r->pos++];
}

static char random_digit(struct vm_rng *r)
{
	return (char)('0' + vm_rng_byte(r) % 10);
}

/* Digits stay digits, letters stay letters of the same case, the rest
 * (separators) stays as it is. */
static char shape_char(unsigned char c, struct vm_rng *r)
{
	if (vm_is_digit(c))
		return random_digit(r);
	if (c >= 'A' && c <= 'Z')
		return (char)('A' + vm_rng_byte(r) % 26);
	if (c >= 'a' && c <= 'z')
		return (char)('a' + vm_rng_byte(r) % 26);
	return (char)c;
}

void vm_fake_shape(struct buf *out, const char *s, size_t len,
		   struct vm_rng *r)
{
	for (size_t i = 0; i < len; i++)
		buf_putc(out, shape_char((unsigned char)s[i], r));
}

/* Tokens keep the documented prefix that says what they are. */
void vm_fake_token(struct buf *out, const char *s, size_t len,
		   struct vm_rng *r)
{
	static const char *const prefixes[] = {
		"https://hooks.slack.com/", "github_pat_", "xoxe.xoxb-",
		"xoxe.xoxp-", "sk_live_", "sk_test_", "rk_live_", "rk_test_",
		"xoxa-", "xoxb-", "xoxo-", "xoxp-", "xoxr-", "xoxs-", "xoxe-",
		"xapp-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "AKIA",
		"ASIA", "ABIA", "ACCA", "eyJ",
	};
	size_t keep = 0;

	for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
		size_t n = strlen(prefixes[i]);

		if (n <= len && memcmp(s, prefixes[i], n) == 0) {
			keep = n;
			break;
		}
	}
	buf_put(out, s, keep);
	vm_fake_shape(out, s + keep, len - keep, r);
}

void vm_fake_email(struct buf *out, const char *s, size_t len,
		   struct vm_rng *r)
{
	const char *at = memchr(s, '@', len);

	vm_fake_shape(out, s, (size_t)(at - s), r);
	buf_puts(out, "@example.invalid");
}

/* Fill the digits of `s` into out, keeping its separators: the first
 * `nfixed` digits from `fixed`, the rest random. Returns the offset in
 * out of the last digit written. */
static size_t fill_digits(struct buf *out, const char *s, size_t len,
			  const char *fixed, size_t nfixed, struct vm_rng *r)
{
	size_t k = 0, last = out->len;

	for (size_t i = 0; i < len; i++) {
		if (!vm_is_digit((unsigned char)s[i])) {
			buf_putc(out, s[i]);
			continue;
		}
		last = out->len;
		buf_putc(out, k < nfixed ? fixed[k] : random_digit(r));
		k++;
	}
	return last;
}

/* Change the check digit at `last` so that Luhn fails over [from, end). */
static void break_luhn(struct buf *out, size_t from, size_t last)
{
	if (buf_failed(out) || !vm_luhn(out->data + from, out->len - from))
		return;
	out->data[last] = (char)('0' + (out->data[last] - '0' + 1) % 10);
}

void vm_fake_card(struct buf *out, const char *s, size_t len,
		  struct vm_rng *r)
{
	size_t from = out->len, last;

	/* The first digit keeps the kind of card; the rest is random and
	 * the check digit wrong, so no issuer can have it. */
	last = fill_digits(out, s, len, s, 1, r);
	break_luhn(out, from, last);
}

void vm_fake_sin(struct buf *out, const char *s, size_t len,
		 struct vm_rng *r)
{
	size_t from = out->len, last;

	/* No SIN starts with 0, and a real one passes Luhn. */
	last = fill_digits(out, s, len, "0", 1, r);
	break_luhn(out, from, last);
}

void vm_fake_ssn(struct buf *out, const char *s, size_t len,
		 struct vm_rng *r)
{
	char d[9];
	unsigned group = 1 + vm_rng_byte(r) % 49;
	unsigned serial = 1 + (vm_rng_byte(r) << 8 | vm_rng_byte(r)) % 9999;

	/* Area 9xx is never issued as an SSN, and ITINs (also 9xx) use
	 * groups 50-65 and 70-99: groups 01-49 are neither. */
	d[0] = '9';
	d[1] = random_digit(r);
	d[2] = random_digit(r);
	d[3] = (char)('0' + group / 10);
	d[4] = (char)('0' + group % 10);
	for (int i = 8; i >= 5; i--, serial /= 10)
		d[i] = (char)('0' + serial % 10);
	fill_digits(out, s, len, d, 9, r);
}

void vm_fake_nino(struct buf *out, const char *s, size_t len,
		  struct vm_rng *r)
{
	size_t letters = 0;

	/* Q is never a prefix letter (HMRC's own examples use QQ). */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int lower = c >= 'a' && c <= 'z';

		if (vm_is_digit(c)) {
			buf_putc(out, random_digit(r));
		} else if (c == ' ') {
			buf_putc(out, ' ');
		} else if (letters++ < 2) {
			buf_putc(out, lower ? 'q' : 'Q');
		} else {
			buf_putc(out, (char)((lower ? 'a' : 'A') +
					     vm_rng_byte(r) % 4));
		}
	}
}

void vm_fake_phone(struct buf *out, const char *s, size_t len,
		   struct vm_rng *r)
{
	char d[16];
	size_t n = 0, k = 0, ext = 0, all = len;

	/* An extension (" x12", " ext. 12") gets random digits. */
	while (ext < len && s[ext] != 'x' && s[ext] != 'e')
		ext++;
	len = ext;
	for (size_t i = 0; i < len && n < sizeof d; i++)
		n += vm_is_digit((unsigned char)s[i]) ? 1 : 0;
	if (s[0] == '+' && s[1] != '1') {
		/* Country code 999 is reserved: no such number exists. */
		memcpy(d, "999", 3);
		k = 3;
	} else {
		/* NANP: 555-0100 to 555-0199 are reserved for fiction in
		 * every area code. */
		if (n == 11)
			d[k++] = '1';
		d[k++] = (char)('2' + vm_rng_byte(r) % 8);
		d[k++] = (char)('0' + vm_rng_byte(r) % 9);
		d[k++] = random_digit(r);
		memcpy(d + k, "55501", 5);
		k += 5;
	}
	fill_digits(out, s, len, d, k, r);
	fill_digits(out, s + ext, all - ext, NULL, 0, r);
}

/* ---- network addresses -------------------------------------------------- */

/* The zone and prefix length of an address ("%eth0/64"), kept as they are. */
static const char *suffix_of(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '%' || s[i] == '/')
			return s + i;
	return s + len;
}

void vm_fake_ipv4(struct buf *out, const char *s, size_t len,
		  struct vm_rng *r)
{
	static const char *const nets[] = {
		"192.0.2.", "198.51.100.", "203.0.113.",	/* RFC 5737 */
	};
	const char *suffix = suffix_of(s, len);
	char host[4];
	unsigned h = vm_rng_byte(r);

	buf_puts(out, nets[vm_rng_byte(r) % 3]);
	host[0] = (char)('0' + h / 100);
	host[1] = (char)('0' + h / 10 % 10);
	host[2] = (char)('0' + h % 10);
	buf_put(out, host + (h < 10 ? 2 : h < 100 ? 1 : 0),
		h < 10 ? 1 : h < 100 ? 2 : 3);
	buf_put(out, suffix, (size_t)(s + len - suffix));
}

void vm_fake_ipv6(struct buf *out, const char *s, size_t len,
		  struct vm_rng *r)
{
	unsigned char a[16] = { 0x20, 0x01, 0x0d, 0xb8 };	/* RFC 3849 */
	char text[INET6_ADDRSTRLEN];
	const char *suffix = suffix_of(s, len);

	for (int i = 4; i < 16; i++)
		a[i] = (unsigned char)vm_rng_byte(r);
	inet_ntop(AF_INET6, a, text, sizeof text);
	buf_puts(out, text);
	buf_put(out, suffix, (size_t)(s + len - suffix));
}

void vm_fake_mac(struct buf *out, const char *s, size_t len,
		 struct vm_rng *r)
{
	static const char hex[] = "0123456789abcdef";
	char d[12] = { '0', '0', '0', '0', '5', 'e', '0', '0', '5', '3' };
	unsigned b = vm_rng_byte(r);
	int upper = 0;
	size_t k = 0;

	/* 00-00-5E-00-53-00 to -FF: documentation addresses (RFC 7042). */
	d[10] = hex[b >> 4];
	d[11] = hex[b & 15];
	for (size_t i = 0; i < len; i++)
		upper |= s[i] >= 'A' && s[i] <= 'F';
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':' || s[i] == '-' || s[i] == '.') {
			buf_putc(out, s[i]);
			continue;
		}
		buf_putc(out, (char)(upper && d[k] >= 'a' ? d[k] - 32 : d[k]));
		k++;
	}
}

/* ---- bank accounts and keys --------------------------------------------- */

void vm_fake_iban(struct buf *out, const char *s, size_t len,
		  struct vm_rng *r)
{
	char iban[34];
	size_t from = out->len, n = 0;
	unsigned v;

	buf_put(out, s, 4);
	vm_fake_shape(out, s + 4, len - 4, r);
	if (buf_failed(out))
		return;
	/* The check digits that would be right, then others. */
	for (size_t i = from; i < out->len && n < sizeof iban; i++)
		if (out->data[i] != ' ' && out->data[i] != '-')
			iban[n++] = out->data[i];
	iban[2] = iban[3] = '0';
	v = 98 - vm_iban_mod97(iban, n);
	v = v == 98 ? 97 : v + 1;
	out->data[from + 2] = (char)('0' + v / 10);
	out->data[from + 3] = (char)('0' + v % 10);
}

/* The BEGIN and END lines stay; the key material is random. */
void vm_fake_pem(struct buf *out, const char *s, size_t len,
		 struct vm_rng *r)
{
	const char *body = memmem(s + 11, len - 11, "-----", 5) + 5;
	const char *end = memmem(body, (size_t)(s + len - body),
				 "-----END ", 9);

	if (end == NULL)
		end = s + len;
	buf_put(out, s, (size_t)(body - s));
	vm_fake_shape(out, body, (size_t)(end - body), r);
	buf_put(out, end, (size_t)(s + len - end));
}

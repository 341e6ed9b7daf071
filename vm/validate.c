/* validate.c - the checks that turn a pattern's candidate into a finding.
 *
 * Each validator gets exactly the bytes its detector's pattern matched,
 * so it may rely on that pattern's shape (which characters occur where)
 * and checks only what a regular expression cannot: checksums, number
 * ranges, tables, agreement between parts. The rule each one implements
 * is stated in the README, detector by detector.
 */
#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "ascii.h"
#include "detect_impl.h"

static int is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

/* The digits of `s`, at most `max` of them, into `out`; returns how many
 * there are (max + 1 when there are more). */
static size_t digits_of(const char *s, size_t len, char *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (!vm_is_digit((unsigned char)s[i]))
			continue;
		if (n == max)
			return max + 1;
		out[n++] = s[i];
	}
	return n;
}

static int all_same(const char *d, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (d[i] != d[0])
			return 0;
	return 1;
}

static unsigned number(const char *d, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

int vm_luhn(const char *s, size_t len)
{
	unsigned sum = 0, twice = 0;

	for (size_t i = len; i-- > 0;) {
		unsigned d;

		if (!vm_is_digit((unsigned char)s[i]))
			continue;
		d = (unsigned)(s[i] - '0');
		if (twice)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
		twice = !twice;
	}
	return sum % 10 == 0;
}

/* ---- payment cards ------------------------------------------------------ */

#define L(n) (1u << (n))
#define L16_19 (L(16) | L(17) | L(18) | L(19))
#define L14_19 (L(14) | L(15) | L16_19)
#define L13_19 (L(13) | L14_19)

/* Issuer prefixes (IIN ranges) and the lengths each brand issues. */
static const struct brand {
	unsigned lo, hi;	/* prefix range, inclusive */
	unsigned digits;	/* length of the prefix */
	unsigned lengths;	/* bit n: n-digit numbers exist */
} brands[] = {
	{ 4, 4, 1, L(13) | L(16) | L(19) },		/* Visa */
	{ 51, 55, 2, L(16) },				/* Mastercard */
	{ 2221, 2720, 4, L(16) },			/* Mastercard */
	{ 34, 34, 2, L(15) },				/* Amex */
	{ 37, 37, 2, L(15) },				/* Amex */
	{ 6011, 6011, 4, L16_19 },			/* Discover */
	{ 644, 649, 3, L16_19 },			/* Discover */
	/* Discover, and RuPay too. */
	{ 65, 65, 2, L16_19 },
	{ 62, 62, 2, L16_19 },				/* UnionPay */
	{ 3528, 3589, 4, L16_19 },			/* JCB */
	{ 36, 36, 2, L14_19 },				/* Diners Club */
	{ 300, 305, 3, L14_19 },			/* Diners Club */
	{ 3095, 3095, 4, L14_19 },			/* Diners Club */
	{ 38, 39, 2, L14_19 },				/* Diners Club */
	{ 5018, 5018, 4, L13_19 },			/* Maestro */
	{ 5020, 5020, 4, L13_19 },			/* Maestro */
	{ 5038, 5038, 4, L13_19 },			/* Maestro */
	{ 5893, 5893, 4, L13_19 },			/* Maestro */
	{ 6304, 6304, 4, L13_19 },			/* Maestro */
	{ 6759, 6759, 4, L13_19 },			/* Maestro */
	{ 6761, 6763, 4, L13_19 },			/* Maestro */
	{ 5019, 5019, 4, L(16) },			/* Dankort */
	{ 2200, 2204, 4, L16_19 },			/* Mir */
	{ 1, 1, 1, L(15) },				/* UATP */
	{ 60, 60, 2, L(16) },				/* RuPay */
	{ 81, 82, 2, L(16) },				/* RuPay */
	{ 508, 508, 3, L(16) },				/* RuPay */
	{ 9792, 9792, 4, L(16) },			/* Troy */
};

static int known_brand(const char *d, size_t n)
{
	for (size_t i = 0; i < sizeof brands / sizeof *brands; i++) {
		const struct brand *b = &brands[i];
		unsigned p = number(d, b->digits);

		if (p >= b->lo && p <= b->hi && (b->lengths & L(n)))
			return 1;
	}
	return 0;
}

int vm_valid_card(const char *s, size_t len)
{
	char d[20];
	size_t n = digits_of(s, len, d, 19);

	return n >= 13 && n <= 19 && !all_same(d, n) && known_brand(d, n) &&
	       vm_luhn(d, n);
}

/* ---- bank accounts ------------------------------------------------------ */

/* ISO 13616 (SWIFT IBAN registry): country code and IBAN length. */
static const char iban_lengths[] =
	"AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28"
	"CZ24DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23"
	"GL18GR27GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28"
	"LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28"
	"NL18NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24"
	"SI19SK24SM27SO23ST25SV28TL23TN24TR26UA29VA22VG24XK20YE30";

static size_t iban_length(const char *cc)
{
	for (const char *p = iban_lengths; *p; p += 4)
		if (p[0] == cc[0] && p[1] == cc[1])
			return (size_t)(p[2] - '0') * 10 + (size_t)(p[3] - '0');
	return 0;
}

unsigned vm_iban_mod97(const char *iban, size_t n)
{
	unsigned r = 0;

	/* The first four characters move to the end; letters count as
	 * 10..35 (ISO 7064 MOD 97-10). */
	for (size_t k = 0; k < n; k++) {
		unsigned char c = (unsigned char)iban[(k + 4) % n];

		if (vm_is_digit(c))
			r = (r * 10 + (c - '0')) % 97;
		else
			r = (r * 100 + (c - 'A' + 10)) % 97;
	}
	return r;
}

int vm_valid_iban(const char *s, size_t len)
{
	char iban[35];
	size_t n = 0;
	char sep = 0;

	/* Printed IBANs are grouped in fours by one kind of separator. */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '-') {
			if ((sep && s[i] != sep) || n % 4 != 0)
				return 0;
			sep = s[i];
			continue;
		}
		if (n == 34)
			return 0;
		iban[n++] = s[i];
	}
	return n == iban_length(iban) && memcmp(iban + 2, "02", 2) >= 0 &&
	       memcmp(iban + 2, "98", 2) <= 0 && vm_iban_mod97(iban, n) == 1;
}

/* ---- national identifiers ----------------------------------------------- */

int vm_valid_ssn(const char *s, size_t len)
{
	static const char *const voided[] = {
		"078051120", "219099999", "123456789",
	};
	char d[10];
	unsigned area;

	if (digits_of(s, len, d, 9) != 9 || all_same(d, 9))
		return 0;
	area = number(d, 3);
	if (area == 0 || area == 666 || area >= 900 ||
	    number(d + 3, 2) == 0 || number(d + 5, 4) == 0)
		return 0;
	for (size_t i = 0; i < sizeof voided / sizeof *voided; i++)
		if (memcmp(d, voided[i], 9) == 0)
			return 0;
	return 1;
}

int vm_valid_sin(const char *s, size_t len)
{
	char d[10];

	return digits_of(s, len, d, 9) == 9 && d[0] != '0' && d[0] != '8' &&
	       !all_same(d, 9) && vm_luhn(d, 9);
}

int vm_valid_nino(const char *s, size_t len)
{
	static const char *const unused[] = {
		"BG", "GB", "KN", "NK", "NT", "TN", "ZZ",
	};
	char p[2];

	(void)len;
	/* The pattern starts with the two prefix letters. */
	p[0] = (char)(is_lower((unsigned char)s[0]) ? s[0] - 32 : s[0]);
	p[1] = (char)(is_lower((unsigned char)s[1]) ? s[1] - 32 : s[1]);
	if (strchr("DFIQUV", p[0]) || strchr("DFIOQUV", p[1]))
		return 0;
	for (size_t i = 0; i < sizeof unused / sizeof *unused; i++)
		if (memcmp(p, unused[i], 2) == 0)
			return 0;
	return 1;
}

/* ---- phone numbers ------------------------------------------------------ */

/* ITU-T E.164 country codes in service, other than 1 (NANP). */
static const char *const country_codes[] = {
	"7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40",
	"41", "43", "44", "45", "46", "47", "48", "49", "51", "52", "53",
	"54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
	"66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95",
	"98", "211", "212", "213", "216", "218", "220", "221", "222", "223",
	"224", "225", "226", "227", "228", "229", "230", "231", "232", "233",
	"234", "235", "236", "237", "238", "239", "240", "241", "242", "243",
	"244", "245", "246", "247", "248", "249", "250", "251", "252", "253",
	"254", "255", "256", "257", "258", "260", "261", "262", "263", "264",
	"265", "266", "267", "268", "269", "290", "291", "297", "298", "299",
	"350", "351", "352", "353", "354", "355", "356", "357", "358", "359",
	"370", "371", "372", "373", "374", "375", "376", "377", "378", "379",
	"380", "381", "382", "383", "385", "386", "387", "389", "420", "421",
	"423", "500", "501", "502", "503", "504", "505", "506", "507", "508",
	"509", "590", "591", "592", "593", "594", "595", "596", "597", "598",
	"599", "670", "672", "673", "674", "675", "676", "677", "678", "679",
	"680", "681", "682", "683", "685", "686", "687", "688", "689", "690",
	"691", "692", "800", "808", "850", "852", "853", "855", "856", "870",
	"878", "880", "881", "882", "883", "886", "888", "960", "961", "962",
	"963", "964", "965", "966", "967", "968", "970", "971", "972", "973",
	"974", "975", "976", "977", "979", "991", "992", "993", "994", "995",
	"996", "998",
};

/* The length of the country code that `d` starts with, or 0. */
static size_t country_code(const char *d, size_t n)
{
	for (size_t i = 0; i < sizeof country_codes / sizeof *country_codes;
	     i++) {
		size_t k = strlen(country_codes[i]);

		if (k < n && memcmp(d, country_codes[i], k) == 0)
			return k;
	}
	return 0;
}

/* NANP area code or exchange: [2-9]XX, not N11 (service codes). */
static int nanp_code(const char *d)
{
	return d[0] >= '2' && !(d[1] == '1' && d[2] == '1');
}

/* +CC NUMBER: a trunk "(0)" after the country code is not dialled. */
static int valid_e164(const char *s, size_t len)
{
	char d[16];
	size_t n = 0, parens = 0, cc;

	for (size_t i = 1; i < len; i++) {
		if (s[i] == '(') {
			parens++;
			if (i + 2 < len && s[i + 1] == '0' && s[i + 2] == ')')
				i += 2;
			continue;
		}
		if (!vm_is_digit((unsigned char)s[i]))
			continue;
		if (n == 15)
			return 0;
		d[n++] = s[i];
	}
	if (parens > 1 || n < 7)
		return 0;
	if (d[0] == '1')
		return n == 11 && nanp_code(d + 1);
	cc = country_code(d, n);
	return cc > 0 && n >= 7 && n - cc >= 4;
}

int vm_valid_phone(const char *s, size_t len)
{
	char d[12];
	size_t n;

	/* The number without its extension (" x12", " ext. 12"). */
	for (n = 0; n < len; n++)
		if (s[n] == 'x' || s[n] == 'e')
			len = n;
	if (s[0] == '+')
		return valid_e164(s, len);
	n = digits_of(s, len, d, 11);
	if (n == 11)
		memmove(d, d + 1, 10);
	return nanp_code(d) && nanp_code(d + 3);
}

/* ---- network addresses -------------------------------------------------- */

int vm_valid_mac(const char *s, size_t len)
{
	int zero = 1, ones = 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':' || c == '-' || c == '.')
			continue;
		zero &= c == '0';
		ones &= c == 'f' || c == 'F';
	}
	return !zero && !ones;
}

int vm_valid_ipv6(const char *s, size_t len)
{
	char text[48];
	unsigned char addr[16];
	size_t n = 0;

	/* The address without its zone and prefix length. */
	while (n < len && s[n] != '%' && s[n] != '/')
		n++;
	if (n >= sizeof text)
		return 0;
	memcpy(text, s, n);
	text[n] = '\0';
	return inet_pton(AF_INET6, text, addr) == 1;
}

/* ---- secrets ------------------------------------------------------------ */

/* 40 base64 characters of a random secret: all three kinds of character
 * and the spread of random text, not a word or a hex digest. */
int vm_valid_aws_secret(const char *s, size_t len)
{
	unsigned count[256] = { 0 };
	int upper = 0, lower = 0, digit = 0;
	double h = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		count[c]++;
		upper |= is_upper(c);
		lower |= is_lower(c);
		digit |= vm_is_digit(c);
	}
	for (size_t c = 0; c < 256; c++)
		if (count[c])
			h -= (double)count[c] / (double)len *
			     log2((double)count[c] / (double)len);
	return upper && lower && digit && h >= 3.5;
}

static int b64url(unsigned char c)
{
	if (is_upper(c))
		return c - 'A';
	if (is_lower(c))
		return c - 'a' + 26;
	if (vm_is_digit(c))
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* Decode base64url (no padding) into out, at most `max` bytes; returns
 * the decoded length, or -1 if the text is not base64url of that size. */
static long b64url_decode(const char *s, size_t len, unsigned char *out,
			  size_t max)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64url((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)n;
}

/* A decoded segment that is a JSON object: '{' ... '}' around it. */
static int json_object_text(const unsigned char *p, size_t n)
{
	size_t a = 0, b = n;

	while (a < b && (p[a] == ' ' || p[a] == '\t' || p[a] == '\r' ||
			 p[a] == '\n'))
		a++;
	while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t' ||
			 p[b - 1] == '\r' || p[b - 1] == '\n'))
		b--;
	return b - a >= 2 && p[a] == '{' && p[b - 1] == '}';
}

/* Whether base64url text decodes to a JSON object, judged by its first
 * and last non-blank bytes: only the two ends are decoded, so a claims
 * set of any size costs one pass over its characters. */
static int b64url_object(const char *s, size_t len)
{
	unsigned char head[6], tail[6];
	size_t from = len > 8 ? (len - 5) / 4 * 4 : 0;
	long h, t;

	if (len % 4 == 1)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (b64url((unsigned char)s[i]) < 0)
			return 0;
	h = b64url_decode(s, len < 8 ? len : 8, head, sizeof head);
	t = b64url_decode(s + from, len - from, tail, sizeof tail);
	if (h < 1 || t < 1)
		return 0;
	while (h > 1 && (head[0] == ' ' || head[0] == '\t' ||
			 head[0] == '\r' || head[0] == '\n'))
		memmove(head, head + 1, (size_t)--h);
	while (t > 1 && (tail[t - 1] == ' ' || tail[t - 1] == '\t' ||
			 tail[t - 1] == '\r' || tail[t - 1] == '\n'))
		t--;
	return head[0] == '{' && tail[t - 1] == '}';
}

/* RFC 7519: a JOSE header that is a JSON object with "alg" (RFC 7515
 * 4.1.1), a dot, and a claims set that is a JSON object. */
int vm_valid_jwt(const char *s, size_t len)
{
	unsigned char buf[2048];
	const char *dot = memchr(s, '.', len), *end;
	long n;

	n = b64url_decode(s, (size_t)(dot - s), buf, sizeof buf);
	if (n < 0 || !json_object_text(buf, (size_t)n) ||
	    memmem(buf, (size_t)n, "\"alg\"", 5) == NULL)
		return 0;
	dot++;
	end = memchr(dot, '.', len - (size_t)(dot - s));
	if (end == NULL)
		end = s + len;
	return b64url_object(dot, (size_t)(end - dot));
}

/* The END line, when there is one, names the same kind of key. */
int vm_valid_pem(const char *s, size_t len)
{
	const char *begin = s + strlen("-----BEGIN ");
	const char *label_end = memmem(begin, len - 11, "-----", 5);
	const char *end = memmem(s, len, "-----END ", 9);
	size_t label = (size_t)(label_end - begin);

	if (end == NULL)
		return 1;
	end += 9;
	return (size_t)(s + len - end) == label + 5 &&
	       memcmp(end, begin, label) == 0;
}

/* A Slack token's random part is long; a webhook URL carries its own. */
int vm_valid_slack(const char *s, size_t len)
{
	size_t last = 0;

	if (s[0] == 'h')
		return 1;
	while (last < len && s[len - 1 - last] != '-')
		last++;
	return len >= 20 && last >= 8;
}

/* ---- email -------------------------------------------------------------- */

/* RFC 5321 limits: a local part of at most 64 bytes (the pattern) with
 * no empty dot-atom, a domain of at most 253. */
int vm_valid_email(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t local = (size_t)(at - s);

	if (s[0] == '.' || at[-1] == '.' || memmem(s, local, "..", 2))
		return 0;
	return len - local - 1 <= 253;
}

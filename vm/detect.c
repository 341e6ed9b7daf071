/* detect.c - the detector table, detector sets and the one-pass scan.
 *
 * Every pattern fragment below is written so that the regex engine's work
 * stays linear in the text: a lookbehind lets a candidate start only at
 * the edge of a token (never in the middle of a run it could have started
 * earlier), repetitions that cannot give anything back are possessive, and
 * the ones that may give back (to drop a trailing word from an IBAN, say)
 * are bounded. A validator refusing a candidate costs at most that bound
 * in retries. The patterns look at ASCII only, so they are compiled
 * without UTF mode: any bytes can be scanned and offsets are bytes.
 */
#include "detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "alloc.h"
#include "detect_impl.h"

/* ---- the patterns ------------------------------------------------------- */

/* -----BEGIN [WORDS ]PRIVATE KEY[ BLOCK]----- through the matching END
 * line; without one, through the end of the base64 body. A literal "\n"
 * (an escaped newline in a log line) counts as body. */
#define RE_PRIVATE_KEY							\
	"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----"	\
	"(?:(?!-----END )[A-Za-z0-9+/=\\t\\n\\r \\\\:,._()-])*+"	\
	"(?:-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)?"

/* Two or three base64url segments, the first two JSON objects ("eyJ"). */
#define RE_JWT								\
	"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]++\\.eyJ[A-Za-z0-9_-]++"	\
	"(?:\\.[A-Za-z0-9_-]*+)?(?![A-Za-z0-9_-]|\\.[A-Za-z0-9_-])"

/* scheme://USER:PASSWORD@host: the finding is USER:PASSWORD. */
#define RE_URL_CREDENTIALS						\
	"(?<=[A-Za-z0-9]://)[A-Za-z0-9._~%!$&'()*+,;=-]{0,128}+"	\
	":[A-Za-z0-9._~%!$&'()*+,;=:-]{1,256}+(?=@[A-Za-z0-9\\[])"

#define RE_AWS_ACCESS_KEY_ID						\
	"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"

#define RE_AWS_SECRET_ACCESS_KEY					\
	"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"

#define RE_SLACK_TOKEN							\
	"(?<![A-Za-z0-9_-])(?:xox[abposr]-(?:[0-9]++-)++[A-Za-z0-9]++"	\
	"(?:-[A-Za-z0-9]++)*+"						\
	"|xoxe(?:\\.xox[bp])?-[0-9]-[A-Za-z0-9]{10,}+"			\
	"|xapp-[0-9]-[A-Z0-9]++-[0-9]++-[A-Za-z0-9]++"			\
	"|https://hooks\\.slack\\.com/(?:services|workflows|triggers)/"	\
	"T[A-Za-z0-9_]++/[A-Za-z0-9_]++/[A-Za-z0-9_]++)(?![A-Za-z0-9_-])"

#define RE_STRIPE_KEY							\
	"(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,247}+"	\
	"(?![A-Za-z0-9_])"

#define RE_GITHUB_TOKEN							\
	"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}"			\
	"|github_pat_[A-Za-z0-9_]{82})(?![A-Za-z0-9_])"

/* local@label.label.tld: at most 64 bytes before the @, 126 labels. */
#define RE_EMAIL							\
	"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}+@"			\
	"(?:(?>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)\\.){1,126}" \
	"[A-Za-z]{2,63}+(?![A-Za-z0-9-])"

/* CC, check digits, then 11 to 30 letters and digits, with optional
 * single spaces or dashes between them (the validator wants groups of
 * four); may give back characters to drop a trailing word. */
#define RE_IBAN								\
	"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ -]?[A-Z0-9]){11,30}"	\
	"(?![A-Za-z0-9])"

/* 13 to 19 digits, run together or grouped 4-4-4-N or 4-6-N by single
 * spaces or dashes (one kind per number). */
#define CARD_GROUPS(S)							\
	"[0-9]{4}(?:" S "[0-9]{4}){2}" S "[0-9]{1,4}(?:" S "[0-9]{1,3})?" \
	"|[0-9]{4}" S "[0-9]{6}" S "[0-9]{4,5}"
#define RE_CREDIT_CARD							\
	"(?<![A-Za-z0-9_]|[0-9][.,])(?:[0-9]{13,19}+|" CARD_GROUPS(" ")	\
	"|" CARD_GROUPS("-") ")(?![A-Za-z0-9_]|[.,][0-9])"

#define RE_US_SSN							\
	"(?<![A-Za-z0-9_]|[0-9][.-])(?:[0-9]{3}-[0-9]{2}-[0-9]{4}"	\
	"|[0-9]{3}\\.[0-9]{2}\\.[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}"	\
	"|[0-9]{9})(?![A-Za-z0-9_]|[.-][0-9])"

#define RE_CA_SIN							\
	"(?<![A-Za-z0-9_]|[0-9][.-])(?:[0-9]{3} [0-9]{3} [0-9]{3}"	\
	"|[0-9]{3}-[0-9]{3}-[0-9]{3}|[0-9]{9})(?![A-Za-z0-9_]|[.-][0-9])"

/* Two letters, six digits, a letter; single spaces anywhere between. */
#define RE_UK_NINO							\
	"(?<![A-Za-z0-9_])[A-Za-z]{2} ?(?:[0-9] ?){5}[0-9] ?[A-Da-d]"	\
	"(?![A-Za-z0-9_])"

/* +CC... with single spaces, dots or dashes and one (area) group, at most
 * 25 characters; or a NANP number written nationally: [1] NPA NXX XXXX,
 * the area code maybe in parentheses. Either may have an extension. */
#define RE_PHONE							\
	"(?<![A-Za-z0-9_+])(?:\\+[0-9](?:[0-9]|[ .-](?=[0-9(])"	\
	"|\\((?=[0-9]{1,4}\\))|\\)(?=[ .-]?[0-9])){6,24}"		\
	"|(?<![0-9][.-])(?:1[ .-]?)?"					\
	"(?:\\([2-9][0-9]{2}\\) ?|[2-9][0-9]{2}[ .-]?)"			\
	"[2-9][0-9]{2}[ .-]?[0-9]{4})"					\
	"(?: ?(?:x|ext\\.?|extension) ?[0-9]{1,6})?"			\
	"(?![A-Za-z0-9_]|[.-][0-9])"

#define HEX2 "[0-9A-Fa-f]{2}"
#define HEX4 "[0-9A-Fa-f]{4}"
#define RE_MAC_ADDRESS							\
	"(?<![A-Za-z0-9_]|[0-9A-Fa-f][:.-])(?:" HEX2 "(?::" HEX2 "){5}"	\
	"|" HEX2 "(?:-" HEX2 "){5}|" HEX4 "\\." HEX4 "\\." HEX4 ")"	\
	"(?![A-Za-z0-9_]|[:.-][0-9A-Fa-f])"

#define OCTET "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#define IPV4 OCTET "(?:\\." OCTET "){3}"

/* Any text form of RFC 4291 (inet_pton decides), with an optional zone
 * (%eth0) and prefix length. */
#define RE_IPV6								\
	"(?<![A-Za-z0-9_:.])(?:[0-9A-Fa-f]{1,4}:|:)(?:[0-9A-Fa-f]{0,4}:){1,7}" \
	"(?:" IPV4 "|[0-9A-Fa-f]{1,4})?(?:%[A-Za-z0-9._~-]{1,32}+)?"	\
	"(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?"			\
	"(?![A-Za-z0-9_:]|\\.[0-9])"

/* Dotted quad, no leading zeros, optional prefix length; not glued to a
 * word, nor a version after a name ("Chrome/112.0.0.0"). */
#define RE_IPV4								\
	"(?<![A-Za-z0-9_.]|[A-Za-z]/)" IPV4				\
	"(?:/(?:3[0-2]|[12][0-9]|[0-9]))?(?![A-Za-z0-9_])"

/* ---- the table ---------------------------------------------------------- */

enum { G_PII = 1, G_SECRETS = 2 };

/* X(ID, name, groups, fragment, validator, fake). The order is the
 * bytecode's bit order (append only) and the priority when two
 * detectors match at the same position. */
#define VM_DETECTORS(X)							\
	X(PRIVATE_KEY, "private_key", G_SECRETS, RE_PRIVATE_KEY,	\
	  vm_valid_pem, vm_fake_pem)					\
	X(JWT, "jwt", G_SECRETS, RE_JWT, vm_valid_jwt, vm_fake_token)	\
	X(URL_CREDENTIALS, "url_credentials", G_SECRETS,		\
	  RE_URL_CREDENTIALS, NULL, vm_fake_shape)			\
	X(AWS_ACCESS_KEY_ID, "aws_access_key_id", G_SECRETS,		\
	  RE_AWS_ACCESS_KEY_ID, NULL, vm_fake_token)			\
	X(AWS_SECRET_ACCESS_KEY, "aws_secret_access_key", G_SECRETS,	\
	  RE_AWS_SECRET_ACCESS_KEY, vm_valid_aws_secret, vm_fake_shape)	\
	X(SLACK_TOKEN, "slack_token", G_SECRETS, RE_SLACK_TOKEN,	\
	  vm_valid_slack, vm_fake_token)				\
	X(STRIPE_KEY, "stripe_key", G_SECRETS, RE_STRIPE_KEY, NULL,	\
	  vm_fake_token)						\
	X(GITHUB_TOKEN, "github_token", G_SECRETS, RE_GITHUB_TOKEN,	\
	  NULL, vm_fake_token)						\
	X(EMAIL, "email", G_PII, RE_EMAIL, vm_valid_email,		\
	  vm_fake_email)						\
	X(IBAN, "iban", G_PII, RE_IBAN, vm_valid_iban, vm_fake_iban)	\
	X(CREDIT_CARD, "credit_card", G_PII, RE_CREDIT_CARD,		\
	  vm_valid_card, vm_fake_card)					\
	X(CA_SIN, "ca_sin", G_PII, RE_CA_SIN, vm_valid_sin,		\
	  vm_fake_sin)							\
	X(US_SSN, "us_ssn", G_PII, RE_US_SSN, vm_valid_ssn,		\
	  vm_fake_ssn)							\
	X(UK_NINO, "uk_nino", G_PII, RE_UK_NINO, vm_valid_nino,		\
	  vm_fake_nino)							\
	X(PHONE, "phone", G_PII, RE_PHONE, vm_valid_phone, vm_fake_phone) \
	X(MAC_ADDRESS, "mac_address", G_PII, RE_MAC_ADDRESS,		\
	  vm_valid_mac, vm_fake_mac)					\
	X(IPV6, "ipv6", G_PII, RE_IPV6, vm_valid_ipv6, vm_fake_ipv6)	\
	X(IPV4, "ipv4", G_PII, RE_IPV4, NULL, vm_fake_ipv4)

enum {
#define DET_ENUM(id, name, groups, re, valid, fake) DET_##id,
	VM_DETECTORS(DET_ENUM)
#undef DET_ENUM
	DET__COUNT
};

struct detector {
	const char *name;
	const char *label;
	unsigned groups;
	const char *pattern;
	vm_validator valid;
	vm_faker fake;
};

static const struct detector detectors[DET__COUNT] = {
#define DET_ROW(id, name, groups, re, valid, fake) \
	[DET_##id] = { name, #id, groups, re, valid, fake },
	VM_DETECTORS(DET_ROW)
#undef DET_ROW
};

_Static_assert(DET__COUNT <= 32, "a detector set is a 32-bit mask");

static const struct {
	const char *name;
	unsigned groups;
} group_names[] = {
	{ "pii", G_PII },
	{ "secrets", G_SECRETS },
	{ "all", G_PII | G_SECRETS },
};

#define NGROUPS (sizeof group_names / sizeof *group_names)

static const char *const words[] = {
#define DET_WORD(id, name, groups, re, valid, fake) name,
	VM_DETECTORS(DET_WORD)
#undef DET_WORD
	"pii", "secrets", "all", NULL,
};

uint32_t vm_detect_count(void)
{
	return DET__COUNT;
}

const char *vm_detect_name(uint32_t i)
{
	return i < DET__COUNT ? detectors[i].name : "?";
}

const char *vm_detect_label(uint32_t i)
{
	return i < DET__COUNT ? detectors[i].label : "?";
}

vm_faker vm_detect_faker(uint32_t i)
{
	return i < DET__COUNT ? detectors[i].fake : vm_fake_shape;
}

uint32_t vm_detect_all(void)
{
	return DET__COUNT == 32 ? 0xFFFFFFFFu : (1u << DET__COUNT) - 1;
}

static uint32_t group_set(unsigned groups)
{
	uint32_t set = 0;

	for (uint32_t i = 0; i < DET__COUNT; i++)
		if (detectors[i].groups & groups)
			set |= 1u << i;
	return set;
}

uint32_t vm_detect_lookup(const char *name, size_t len)
{
	for (uint32_t i = 0; i < DET__COUNT; i++)
		if (strlen(detectors[i].name) == len &&
		    memcmp(detectors[i].name, name, len) == 0)
			return 1u << i;
	for (size_t g = 0; g < NGROUPS; g++)
		if (strlen(group_names[g].name) == len &&
		    memcmp(group_names[g].name, name, len) == 0)
			return group_set(group_names[g].groups);
	return 0;
}

const char *const *vm_detect_words(void)
{
	return words;
}

void vm_detect_describe(uint32_t set, struct buf *out)
{
	int first = 1;

	for (uint32_t i = 0; i < DET__COUNT; i++) {
		if (!(set & 1u << i))
			continue;
		if (!first)
			buf_puts(out, ", ");
		buf_puts(out, detectors[i].name);
		first = 0;
	}
}

/* ---- compiled sets and scanning ----------------------------------------- */

struct vm_dset {
	uint32_t set;
	pcre2_code *re;
};

struct vm_dscan {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	/* The match under way. */
	const char *text;
	uint32_t det;		/* the detector whose branch accepted */
	uint64_t work;
};

struct vm_dset *vm_dset_new(uint32_t set, char *err, size_t errlen)
{
	struct vm_dset *d;
	struct buf pat;
	int code;
	PCRE2_SIZE off;

	if (set == 0 || (set & ~vm_detect_all())) {
		snprintf(err, errlen, "detector set 0x%x is not valid", set);
		return NULL;
	}
	d = scrub_calloc(1, sizeof *d);
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->set = set;
	/* One branch per detector: (?:FRAGMENT)(?C<index + 1>). */
	buf_init(&pat, 1u << 20);
	for (uint32_t i = 0; i < DET__COUNT; i++) {
		char callout[16];

		if (!(set & 1u << i))
			continue;
		buf_puts(&pat, pat.len ? "|(?:" : "(?:");
		buf_puts(&pat, detectors[i].pattern);
		snprintf(callout, sizeof callout, ")(?C%u)", i + 1);
		buf_puts(&pat, callout);
	}
	if (buf_failed(&pat)) {
		buf_free(&pat);
		free(d);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Without the start-up optimizations: their SIMD search reads past
	 * the end of the text (harmlessly, but valgrind cannot tell), and
	 * the lookbehinds make them save little. */
	d->re = pcre2_compile((PCRE2_SPTR)pat.data, pat.len,
			      PCRE2_NO_START_OPTIMIZE, &code, &off, NULL);
	buf_free(&pat);
	if (d->re == NULL) {
		PCRE2_UCHAR msg[120];

		/* Only an allocation can fail here: the patterns are ours. */
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "detector pattern: %s", (char *)msg);
		free(d);
		return NULL;
	}
	/* Without JIT (some platforms) the interpreter runs the callouts
	 * just the same. */
	pcre2_jit_compile(d->re, PCRE2_JIT_COMPLETE);
	return d;
}

void vm_dset_free(struct vm_dset *d)
{
	if (d == NULL)
		return;
	pcre2_code_free(d->re);
	free(d);
}

uint32_t vm_dset_set(const struct vm_dset *d)
{
	return d->set;
}

/* At the end of a detector's branch: validate the candidate. Returning
 * nonzero makes the engine backtrack and look further. */
static int on_candidate(pcre2_callout_block *cb, void *data)
{
	struct vm_dscan *s = data;
	uint32_t det = cb->callout_number - 1;
	size_t start = cb->start_match, end = cb->current_position;

	s->work += 1 + (end - start) / 16;
	if (detectors[det].valid &&
	    !detectors[det].valid(s->text + start, end - start))
		return 1;
	s->det = det;
	return 0;
}

struct vm_dscan *vm_dscan_new(void)
{
	struct vm_dscan *s = scrub_calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->md = pcre2_match_data_create(1, NULL);
	s->mctx = pcre2_match_context_create(NULL);
	s->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (s->md == NULL || s->mctx == NULL || s->jit == NULL) {
		vm_dscan_free(s);
		return NULL;
	}
	pcre2_jit_stack_assign(s->mctx, NULL, s->jit);
	pcre2_set_callout(s->mctx, on_candidate, s);
	/* The patterns are built to stay linear; the limits only guard
	 * against a mistake in them. */
	pcre2_set_match_limit(s->mctx, VM_DETECT_MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, 10000);
	return s;
}

void vm_dscan_free(struct vm_dscan *s)
{
	if (s == NULL)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	pcre2_jit_stack_free(s->jit);
	free(s);
}

/* The detectors that could find something in `text`, judged from what
 * it holds: each needs some character or a number of digits that its
 * every match has. Most strings of an event (names, codes, states) rule
 * out every detector, and then the pattern need not run at all. */
static uint32_t possible(const char *text, size_t len)
{
	size_t digits = 0, hex = 0;
	int at = 0, colon = 0, dash = 0, dot = 0, under = 0;
	uint32_t set = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		digits += c >= '0' && c <= '9';
		hex += (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
						  (c | 0x20) <= 'f');
		at |= c == '@';
		colon |= c == ':';
		dash |= c == '-';
		dot |= c == '.';
		under |= c == '_';
	}
#define MAYBE(id, cond) set |= (cond) ? 1u << DET_##id : 0
	MAYBE(PRIVATE_KEY, dash);
	MAYBE(JWT, dot);
	MAYBE(URL_CREDENTIALS, colon && at);
	MAYBE(AWS_ACCESS_KEY_ID, len >= 20);
	MAYBE(AWS_SECRET_ACCESS_KEY, len >= 40 && digits >= 1);
	MAYBE(SLACK_TOKEN, dash || colon);
	MAYBE(STRIPE_KEY, under);
	MAYBE(GITHUB_TOKEN, under);
	MAYBE(EMAIL, at);
	MAYBE(IBAN, digits >= 2 && len >= 15);
	MAYBE(CREDIT_CARD, digits >= 13);
	MAYBE(CA_SIN, digits >= 9);
	MAYBE(US_SSN, digits >= 9);
	MAYBE(UK_NINO, digits >= 6);
	MAYBE(PHONE, digits >= 7);
	MAYBE(MAC_ADDRESS, hex >= 12 && (colon || dash || dot));
	MAYBE(IPV6, colon);
	MAYBE(IPV4, dot && digits >= 4);
#undef MAYBE
	return set;
}

int vm_detect_scan(const struct vm_dset *d, struct vm_dscan *s,
		   const char *text, size_t len, vm_finding_fn fn, void *ctx,
		   uint64_t *work)
{
	PCRE2_SIZE at = 0, *ov = pcre2_get_ovector_pointer(s->md);
	int rc = 0;

	s->text = text;
	s->work = 0;
	if ((d->set & possible(text, len)) == 0)
		return 0;
	while (at < len) {
		struct vm_finding f;

		rc = pcre2_match(d->re, (PCRE2_SPTR)text, len, at, 0, s->md,
				 s->mctx);
		if (rc == PCRE2_ERROR_NOMATCH) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		f.start = ov[0];
		f.end = ov[1];
		f.det = s->det;
		rc = fn(ctx, &f);
		if (rc != 0)
			break;
		/* Every branch consumes at least one byte. */
		at = f.end > f.start ? f.end : f.start + 1;
	}
	if (work)
		*work += s->work;
	return rc;
}

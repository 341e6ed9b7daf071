/* detect_impl.h - what the detector table in detect.c is built from: the
 * validators (validate.c) and the fake-value makers (fake.c). Not a public
 * header: hosts use detect.h, the VM's operators use redact.h. */
#ifndef SCRUB_DETECT_IMPL_H
#define SCRUB_DETECT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A validator: 1 if the candidate `s` (len bytes, matched by the
 * detector's pattern) is valid, 0 if not. */
typedef int (*vm_validator)(const char *s, size_t len);

/* A deterministic byte stream derived from a keyed hash of the value. */
struct vm_rng {
	unsigned char seed[32];
	uint64_t counter;
	unsigned char block[64];
	unsigned pos;
};

void vm_rng_init(struct vm_rng *r, const unsigned char seed[32]);
unsigned vm_rng_byte(struct vm_rng *r);

/* A fake maker: append to `out` a value of the same shape as `s` that can
 * never be a real one of its kind, drawn from `rng`. */
typedef void (*vm_faker)(struct buf *out, const char *s, size_t len,
			 struct vm_rng *rng);

/* Validators, one per detector with a check beyond its pattern. */
int vm_valid_email(const char *s, size_t len);
int vm_valid_card(const char *s, size_t len);
int vm_valid_iban(const char *s, size_t len);
int vm_valid_ssn(const char *s, size_t len);
int vm_valid_sin(const char *s, size_t len);
int vm_valid_nino(const char *s, size_t len);
int vm_valid_phone(const char *s, size_t len);
int vm_valid_mac(const char *s, size_t len);
int vm_valid_ipv6(const char *s, size_t len);
int vm_valid_aws_secret(const char *s, size_t len);
int vm_valid_jwt(const char *s, size_t len);
int vm_valid_pem(const char *s, size_t len);
int vm_valid_slack(const char *s, size_t len);

/* ISO 7064 MOD 97-10 of an IBAN without separators (1 when valid). */
unsigned vm_iban_mod97(const char *iban, size_t n);

/* Luhn's check over the digits of `s` (other bytes skipped): 1 if the
 * sum is a multiple of 10. */
int vm_luhn(const char *s, size_t len);

/* Fakes. */
void vm_fake_shape(struct buf *out, const char *s, size_t len,
		   struct vm_rng *rng);
void vm_fake_token(struct buf *out, const char *s, size_t len,
		   struct vm_rng *rng);
void vm_fake_email(struct buf *out, const char *s, size_t len,
		   struct vm_rng *rng);
void vm_fake_card(struct buf *out, const char *s, size_t len,
		  struct vm_rng *rng);
void vm_fake_iban(struct buf *out, const char *s, size_t len,
		  struct vm_rng *rng);
void vm_fake_ssn(struct buf *out, const char *s, size_t len,
		 struct vm_rng *rng);
void vm_fake_sin(struct buf *out, const char *s, size_t len,
		 struct vm_rng *rng);
void vm_fake_nino(struct buf *out, const char *s, size_t len,
		  struct vm_rng *rng);
void vm_fake_phone(struct buf *out, const char *s, size_t len,
		   struct vm_rng *rng);
void vm_fake_mac(struct buf *out, const char *s, size_t len,
		 struct vm_rng *rng);
void vm_fake_ipv4(struct buf *out, const char *s, size_t len,
		  struct vm_rng *rng);
void vm_fake_ipv6(struct buf *out, const char *s, size_t len,
		  struct vm_rng *rng);
void vm_fake_pem(struct buf *out, const char *s, size_t len,
		 struct vm_rng *rng);

/* The fake maker of detector `i` (detect.c). */
vm_faker vm_detect_faker(uint32_t i);

#endif

/* ip.h - IP address text, shared by the VM's operators and the compiler's
 * checks of CIDR patterns. */
#ifndef SCRUB_IP_H
#define SCRUB_IP_H

#include <stddef.h>

/* Parse dotted-quad IPv4 (1-3 digits per part, each at most 255) or any
 * IPv6 text form inet_pton accepts (no zone identifiers). Fills 4 or 16
 * bytes of `addr`; returns 4, 16, or 0 when `s` is not an address. */
int vm_parse_ip(const char *s, size_t len, unsigned char addr[16]);

/* An address as EventBridge's matcher reads one for `cidr`: event-ruler
 * takes IPv4 as four dotted numbers and IPv6 as hex digits and colons
 * only (so "::ffff:10.0.0.1" is no address there), and Java's address
 * parser then turns an IPv4-mapped IPv6 address ("::ffff:a00:1") into the
 * IPv4 one. Returns 4 or 16 as vm_parse_ip, or 0. */
int vm_parse_cidr_ip(const char *s, size_t len, unsigned char addr[16]);

#endif

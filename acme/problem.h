/* problem.h - RFC 7807 / RFC 8555 section 6.7 problem documents turned into one line. */
#ifndef ACME_PROBLEM_H
#define ACME_PROBLEM_H

#include <stddef.h>

#define ACME_ERR_NS "urn:ietf:params:acme:error:"

/*
 * Write a one-line message for the problem document body[0..len) into buf (cap bytes), e.g.
 * "unauthorized: Incorrect TXT record ... [dns:www.example.test: ...]". Control characters from
 * the server are replaced by '?'. A body that is not a problem document gives "HTTP <status>".
 * Returns buf.
 */
char *acme_problem_line(const unsigned char *body, size_t len, long status, char *buf, size_t cap);

/*
 * The short type of the problem ("badNonce", "alreadyRevoked", ...) copied into buf; "" when the
 * body is not an ACME problem document, or its type is outside the ACME namespace, has other
 * characters than letters and digits, or does not fit in cap. Returns buf.
 */
char *acme_problem_type(const unsigned char *body, size_t len, char *buf, size_t cap);

#endif

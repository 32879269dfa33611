/*
 * tls_session: saved TLS sessions, so that the next run resumes instead
 * of making a full handshake.
 */
#ifndef KEYLOCK_TLS_SESSION_H
#define KEYLOCK_TLS_SESSION_H

#include <stddef.h>
#include <sys/types.h>

#include "digest.h"

/* Reads the session saved for server name (url->display) under settings
   tag into buf; its length, or -1 if there is none that can be used. */
ssize_t	tls_session_read(const char *name,
	    const char tag[DIGEST_HEX_LEN + 1], unsigned char *buf,
	    size_t size);
/* Saves len bytes of session for server name under tag; failures are
   ignored (the next run makes a full handshake). */
void	tls_session_write(const char *name,
	    const char tag[DIGEST_HEX_LEN + 1], const unsigned char *der,
	    size_t len);

#endif

/*
 * digest: SHA-256 (libmd) as lower-case hex, one-shot or fed piece by
 * piece.  Pieces fed with digest_u64() and digest_str() are length
 * prefixed (8 bytes big-endian), so no two lists of strings collide.
 */
#ifndef KEYLOCK_DIGEST_H
#define KEYLOCK_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <sha2.h>

#define DIGEST_HEX_LEN	64

struct digest {
	SHA2_CTX	ctx;
};

/* Writes the hex SHA-256 of len bytes at p into hex. */
void	digest_sha256(const void *p, size_t len,
	    char hex[DIGEST_HEX_LEN + 1]);
/* Starts a digest. */
void	digest_init(struct digest *d);
/* Feeds len raw bytes. */
void	digest_bytes(struct digest *d, const void *p, size_t len);
/* Feeds n as 8 bytes big-endian. */
void	digest_u64(struct digest *d, uint64_t n);
/* Feeds s with its length in front. */
void	digest_str(struct digest *d, const char *s);
/* Writes the hex SHA-256 of what fd reads until EOF into hex; 0, or -1
   (errno) on a read error. */
int	digest_fd(int fd, char hex[DIGEST_HEX_LEN + 1]);
/* Ends the digest and writes its hex into hex. */
void	digest_end(struct digest *d, char hex[DIGEST_HEX_LEN + 1]);

#endif

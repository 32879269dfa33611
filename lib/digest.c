/*
 * digest: SHA-256 through libmd.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"

void
digest_sha256(const void *p, size_t len, char hex[DIGEST_HEX_LEN + 1])
{
	SHA256Data(p, len, hex);
}

void
digest_init(struct digest *d)
{
	SHA256Init(&d->ctx);
}

void
digest_bytes(struct digest *d, const void *p, size_t len)
{
	SHA256Update(&d->ctx, p, len);
}

void
digest_u64(struct digest *d, uint64_t n)
{
	uint8_t b[8];
	int i;

	for (i = 7; i >= 0; i--, n >>= 8)
		b[i] = (uint8_t)(n & 0xff);
	SHA256Update(&d->ctx, b, sizeof(b));
}

void
digest_str(struct digest *d, const char *s)
{
	size_t len = strlen(s);

	digest_u64(d, len);
	SHA256Update(&d->ctx, (const uint8_t *)s, len);
}

void
digest_end(struct digest *d, char hex[DIGEST_HEX_LEN + 1])
{
	SHA256End(&d->ctx, hex);
}

int
digest_fd(int fd, char hex[DIGEST_HEX_LEN + 1])
{
	SHA2_CTX ctx;
	uint8_t buf[65536];
	ssize_t n;

	SHA256Init(&ctx);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			SHA256End(&ctx, hex);
			return -1;
		}
		SHA256Update(&ctx, buf, (size_t)n);
	}
	SHA256End(&ctx, hex);
	return 0;
}

/*
 * spool: an unlinked temporary file (spool.h).  O_TMPFILE where the
 * file system has it, else mkstemp(3) and unlink at once: either way
 * nothing is left behind, whatever ends keylock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fdio.h"
#include "spool.h"

int
spool_open(struct spool *sp)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	sp->size = 0;
	sp->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (sp->fd != -1)
		return 0;
	if (snprintf(path, sizeof(path), "%s/keylock.XXXXXX", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((sp->fd = mkostemp(path, O_CLOEXEC)) == -1)
		return -1;
	unlink(path);
	return 0;
}

int
spool_write(struct spool *sp, const void *buf, size_t len)
{
	if (fdio_write_all(sp->fd, buf, len) == -1)
		return -1;
	sp->size += len;
	return 0;
}

int
spool_replay(struct spool *sp, int (*fn)(void *arg, const void *buf,
    size_t len), void *arg)
{
	char buf[65536];
	uint64_t off = 0;
	ssize_t n;

	while (off < sp->size) {
		n = pread(sp->fd, buf, sp->size - off < sizeof(buf) ?
		    (size_t)(sp->size - off) : sizeof(buf), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (fn(arg, buf, (size_t)n) == -1)
			return -1;
		off += (uint64_t)n;
	}
	return 0;
}

void
spool_close(struct spool *sp)
{
	if (sp->fd != -1)
		close(sp->fd);
	sp->fd = -1;
	sp->size = 0;
}

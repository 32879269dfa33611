/*
 * tls_session: a file per server in the tls/ directory under the lock
 * directory (paths.h): $XDG_RUNTIME_DIR/keylock/tls/HOST:PORT, holding
 * the hex digest of the TLS settings it was made under (the tag), a
 * newline, and the session in DER.
 *
 * Invariants:
 * - a session file is a secret (whoever holds it can pose as the server
 *   to this user until it expires): the directory is private (safedir,
 *   strict), files are mode 0600, written whole under a temporary name
 *   and renamed, and never opened through a symlink;
 * - reading is best effort: a file that is missing, not the user's, not
 *   private, too long, or made under other settings is no session; the
 *   caller then makes a full handshake (and the bytes it gets are still
 *   only a candidate for OpenSSL to parse and check);
 * - nothing here prints or fails a run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fdio.h"
#include "paths.h"
#include "safedir.h"
#include "tls_session.h"

/* The tls/ directory, created private; a descriptor, or -1. */
static int
tls_session_dir(void)
{
	char err[300], *dir = paths_lock_dir(), *p = NULL;
	int fd = -1;

	if (dir != NULL && asprintf(&p, "%s/tls", dir) != -1)
		fd = safedir_open(p, 1, err, sizeof(err));
	free(dir);
	free(p);
	return fd;
}

/* Nonzero if name can be a file name in the directory. */
static int
tls_session_name_ok(const char *name)
{
	return *name != '\0' && *name != '.' && strchr(name, '/') == NULL &&
	    strlen(name) < 200;
}

ssize_t
tls_session_read(const char *name, const char tag[DIGEST_HEX_LEN + 1],
    unsigned char *buf, size_t size)
{
	char head[DIGEST_HEX_LEN + 1];
	struct stat st;
	int dfd, fd = -1;
	ssize_t n = -1;

	if (!tls_session_name_ok(name) || (dfd = tls_session_dir()) == -1)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    st.st_size <= (off_t)sizeof(head) ||
	    st.st_size - (off_t)sizeof(head) > (off_t)size)
		goto out;
	if (read(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    memcmp(head, tag, DIGEST_HEX_LEN) != 0 ||
	    head[DIGEST_HEX_LEN] != '\n')
		goto out;
	n = read(fd, buf, size);
	if (n != st.st_size - (off_t)sizeof(head))
		n = -1;
out:
	if (fd != -1)
		close(fd);
	close(dfd);
	return n;
}

void
tls_session_write(const char *name, const char tag[DIGEST_HEX_LEN + 1],
    const unsigned char *der, size_t len)
{
	char tmp[256];
	int dfd, fd, ok;

	if (!tls_session_name_ok(name) || (dfd = tls_session_dir()) == -1)
		return;
	snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		goto out;
	ok = fdio_write_all(fd, tag, DIGEST_HEX_LEN) == 0 &&
	    fdio_write_all(fd, "\n", 1) == 0 &&
	    fdio_write_all(fd, der, len) == 0;
	if (close(fd) == -1 || !ok || renameat(dfd, tmp, dfd, name) == -1)
		unlinkat(dfd, tmp, 0);
out:
	close(dfd);
}

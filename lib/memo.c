/*
 * memo: the identity of a cached result.
 *
 * Version 2 of the encoding (version 1, keylock 0.1, had KEY and argv
 * only) appends, each length-prefixed: whether stderr is stored too
 * (--memo-stderr; an entry without it is another one); whether the
 * working directory counts and which; the number of environment variables, then each
 * name with 0 (unset) or 1 and its value; the number of files, then
 * each path with 0 (missing) or 1 and the SHA-256 of its content.
 * Values are hashed, never stored.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "digest.h"
#include "memo.h"

#define MEMO_ID_VERSION	2

/* Feeds the physical working directory; 0 or -1. */
static int
feed_cwd(struct digest *d, char *err, size_t errlen)
{
	char *cwd;

	if ((cwd = getcwd(NULL, 0)) == NULL) {
		snprintf(err, errlen, "--memo-cwd: %s", strerror(errno));
		return -1;
	}
	digest_str(d, cwd);
	free(cwd);
	return 0;
}

/* Feeds file path by its content; a missing one as such; 0 or -1. */
static int
feed_file(struct digest *d, const char *path, char *err, size_t errlen)
{
	char hex[DIGEST_HEX_LEN + 1];
	struct stat st;
	int fd, rc = -1, saved;

	digest_str(d, path);
	/* Without blocking: a FIFO named here must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1 && (errno == ENOENT || errno == ENOTDIR)) {
		digest_u64(d, 0);
		return 0;
	}
	if (fd != -1 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
		errno = EINVAL;
	else if (fd != -1 && digest_fd(fd, hex) == 0) {
		digest_u64(d, 1);
		digest_str(d, hex);
		rc = 0;
	}
	saved = errno;
	if (rc == -1)
		snprintf(err, errlen, "--memo-file %s: %s", path,
		    saved == EINVAL ? "not a regular file" : strerror(saved));
	if (fd != -1)
		close(fd);
	errno = saved;
	return rc;
}

int
memo_id_init(struct memo_id *id, const char *key, char *const argv[],
    const struct memo_inputs *in, char *err, size_t errlen)
{
	static const char tag[] = "keylock-memo";
	static const struct memo_inputs none;
	struct digest d;
	const char *v;
	size_t argc, i;

	if (in == NULL)
		in = &none;
	id->key = key;
	for (argc = 0; argv[argc] != NULL; argc++)
		;
	digest_init(&d);
	digest_bytes(&d, tag, sizeof(tag));	/* with its NUL */
	digest_u64(&d, MEMO_ID_VERSION);
	digest_str(&d, key);
	digest_u64(&d, argc);
	for (i = 0; i < argc; i++)
		digest_str(&d, argv[i]);
	digest_u64(&d, in->err != 0);
	digest_u64(&d, in->cwd != 0);
	if (in->cwd && feed_cwd(&d, err, errlen) == -1)
		goto fail;
	digest_u64(&d, in->nenv);
	for (i = 0; i < in->nenv; i++) {
		digest_str(&d, in->env[i]);
		digest_u64(&d, (v = getenv(in->env[i])) != NULL);
		if (v != NULL)
			digest_str(&d, v);
	}
	digest_u64(&d, in->nfiles);
	for (i = 0; i < in->nfiles; i++)
		if (feed_file(&d, in->files[i], err, errlen) == -1)
			goto fail;
	digest_end(&d, id->digest);
	return 0;
fail:
	digest_end(&d, id->digest);
	return -1;
}

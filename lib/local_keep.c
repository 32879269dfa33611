/*
 * local_keep: what the local backend does for locks that outlive one
 * command: cooldowns, and release or renewal by token.
 *
 * A cooldown is the file .cool.N beside lock file N (keyname_file()
 * never makes a name that starts with '.'), "SINCE_MS UNTIL_MS HOST\n",
 * written under the lock by a run that succeeded and replaced whole by
 * rename(2).  It is read under the lock by the next holder, so it is
 * never read half-written or before the run that set it has ended.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "clock.h"
#include "local_int.h"

#define LOCAL_STOP_WAIT	10000	/* ms a released holder may take */

void
local_cool_read(struct lock_local *ll, const char *name,
    struct lock_cooldown *c)
{
	char path[KEYNAME_FILE_MAX + 16], buf[HOLDER_HOST_MAX + 64];
	struct stat st;
	ssize_t n = -1;
	int fd;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), ".cool.%s", name);
	fd = openat(ll->dirfd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || lock_cooldown_parse(buf, (size_t)n, c) == -1 ||
	    c->until_ms <= clock_wall_ms())
		memset(c, 0, sizeof(*c));
}

void
local_cool_write(struct lock_local *ll, const char *name,
    const struct holder *self, int64_t ms)
{
	char path[KEYNAME_FILE_MAX + 16], tmp[KEYNAME_FILE_MAX + 40];
	char buf[HOLDER_HOST_MAX + 64];
	int fd, n;

	snprintf(path, sizeof(path), ".cool.%s", name);
	snprintf(tmp, sizeof(tmp), ".cool.%s~%ld", name, (long)getpid());
	n = snprintf(buf, sizeof(buf), "%" PRId64 " %" PRId64 " %s\n",
	    self->since_ms, self->since_ms + ms, self->host);
	fd = openat(ll->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return;
	if (write(fd, buf, (size_t)n) != n || close(fd) == -1 ||
	    renameat(ll->dirfd, tmp, ll->dirfd, path) == -1)
		unlinkat(ll->dirfd, tmp, 0);
}

/* Finds the holder of key with token (any kind: exclusive, shared or a
   slot): 1 (h filled), 0 none (*held: whether anyone holds key), -1. */
static int
local_token_find(struct lock_local *ll, const char *key, const char *token,
    struct holder *h, int *held)
{
	struct lock_state st;
	char name[KEYNAME_FILE_MAX + 1];
	size_t i;
	int found;

	if (keyname_file(key, name, sizeof(name)) == -1)
		return lock_seterr(&ll->base, LOCK_EUSAGE, "empty key");
	if (local_state(ll, name, &st) == -1)
		return -1;
	*held = st.nholders > 0;
	for (i = 0; i < st.nholders; i++)
		if (strcmp(st.holders[i].token, token) == 0)
			break;
	if ((found = i < st.nholders))
		*h = st.holders[i];
	lock_state_free(&st);
	return found;
}

/* key's holder if token holds it: 0 (h filled), or -1 (ELOST when the
   token does not hold it). */
static int
local_token_holder(struct lock_local *ll, const char *key,
    const char *token, struct holder *h)
{
	int held;

	switch (local_token_find(ll, key, token, h, &held)) {
	case -1:
		return -1;
	case 1:
		return 0;
	}
	if (!held)
		return lock_seterr(&ll->base, LOCK_ELOST, "%s is not held "
		    "(the lock was released or its holder ended)", key);
	return lock_seterr(&ll->base, LOCK_ELOST, "that token does not hold "
	    "%s (released, or taken by another holder)", key);
}

int
local_release_token(struct lock *l, const char *key, const char *token)
{
	struct lock_local *ll = (struct lock_local *)l;
	struct holder h, now;
	int held;

	if (local_token_holder(ll, key, token, &h) == -1)
		return -1;
	/* A flock is the holder's to let go: ask it to end, and wait. */
	if (h.pid <= 0 || lock_stop_process((pid_t)h.pid,
	    LOCAL_STOP_WAIT) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "cannot stop the holder "
		    "of %s (pid %ld): %s", key, h.pid, strerror(errno));
	/* Whatever the process did, the token must hold the key no more. */
	switch (local_token_find(ll, key, token, &now, &held)) {
	case -1:
		return -1;
	case 1:
		return lock_seterr(l, LOCK_EUNAVAIL, "the holder of %s "
		    "(pid %ld) did not let go within %ds", key, h.pid,
		    LOCAL_STOP_WAIT / 1000);
	}
	return 0;
}

int
local_renew(struct lock *l, const char *key, const char *token,
    int64_t ttl_ms)
{
	struct holder h;

	(void)ttl_ms;		/* a flock has no lease to extend */
	return local_token_holder((struct lock_local *)l, key, token, &h);
}

/*
 * lock_local: one flock(2) lock file per key in a private directory.
 *
 * Files in the lock directory, for a key whose file name is N
 * (keyname_file()):
 *
 *	N	the lock file: flock(LOCK_EX) on it is an exclusive lock,
 *		LOCK_SH a shared one (slot holders take LOCK_SH on it too,
 *		so an exclusive caller never meets them on its fast path).
 *		It holds the fence, the exclusive holder's record and the
 *		key (lockfile.h).
 *	.q.N/	the key's queue, shared holders' records and slot files
 *		(local_queue.c); local_wait.c takes keys in arrival order.
 *
 * An exclusive holder writes the fence and its record with one pwrite(2),
 * and nothing else, so an uncontended run creates, renames and unlinks
 * no file.  Shared and slot holders count the fence under the queue's
 * guard (they hold N together) and keep their records in .q.N; the
 * kernel cannot keep the two kinds apart, so each takes N, checks the
 * other holders' kind and writes its record under that guard at once
 * (local_wait.c).  A reader
 * trusts a record only when its checksum holds and its fence is the
 * file's: a torn read is never shown as the holder, nor the record of a
 * holder that released.  (A holder that died leaves its record until the
 * next holder writes its own, a moment after its flock.)
 *
 * Invariants: lock files, queue directories and slot files are never
 * unlinked (an unlinked flock file lets two holders in); only a holder
 * writes the fence, and an exclusive one without the guard only when no
 * one else can hold N; "status" and "list" never flock anything: they
 * ask /proc/locks which inodes are locked, and how.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "clock.h"
#include "keyname.h"
#include "local_int.h"
#include "lockfile.h"
#include "paths.h"
#include "safedir.h"
#include "wait.h"

#define READ_TRIES	3	/* a record caught mid-write is read again */

/* Allocates a local context; the lock directory is --dir, else
   $KEYLOCK_DIR, else the private default (vetted as such). */
static struct lock *
local_open(const struct lock_opts *o)
{
	struct lock_local *ll;
	const char *env = getenv("KEYLOCK_DIR");

	if ((ll = calloc(1, sizeof(*ll))) == NULL)
		return NULL;
	ll->base.be = &lock_local_backend;
	ll->dirfd = ll->lockfd = ll->qfd = ll->slotfd = ll->recfd = -1;
	memo_file_init(&ll->memo);
	if (o->dir == NULL && env != NULL && *env != '\0')
		ll->dir = strdup(env);
	else if (o->dir == NULL) {
		ll->dir = paths_lock_dir();
		ll->dir_strict = 1;
	} else
		ll->dir = strdup(o->dir);
	ll->cache_dir = paths_cache_dir();
	ll->cache_strict = 1;
	if (ll->dir == NULL) {
		local_close(&ll->base);
		return NULL;
	}
	return &ll->base;
}

/* Opens (creating and vetting) the lock directory; 0 or -1. */
static int
local_connect(struct lock *l)
{
	struct lock_local *ll = (struct lock_local *)l;
	char err[512];

	if (ll->dirfd != -1)
		return 0;
	if (*ll->dir == '\0')
		return lock_seterr(l, LOCK_EUSAGE, "no lock directory: use "
		    "--dir");
	ll->dirfd = safedir_open(ll->dir, ll->dir_strict, err, sizeof(err));
	if (ll->dirfd == -1)
		return lock_seterr(l, lock_errno_class(errno, LOCK_EUSAGE), "%s",
		    err);
	return 0;
}

int
local_read_holder(struct lock_local *ll, const char *name, struct holder *h)
{
	static const struct timespec again = { 0, 1000000 };
	char buf[LOCKFILE_KEY_OFF];
	ssize_t n;
	int fd, i, rc = -1;

	fd = openat(ll->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1)
		return -1;
	for (i = 0; i < READ_TRIES && rc == -1; i++) {
		if (i > 0)
			nanosleep(&again, NULL);
		n = pread(fd, buf, sizeof(buf), 0);
		if (n > 0 && lockfile_holder(buf, (size_t)n, h) == 0)
			rc = 0;
	}
	close(fd);
	return rc;
}

/*
 * The fence after the key, and the key (which repairs a file an earlier
 * layout or a crash left without one): a fence that could go backwards
 * is worse than no run, so 0 when the file cannot be read or written.
 */
uint64_t
local_count(int fd, const char *key, struct holder *self)
{
	char buf[LOCKFILE_KEY_OFF];
	struct iovec iov[2];
	ssize_t n;
	uint64_t fence;

	if ((n = pread(fd, buf, LOCKFILE_FENCE_LEN, 0)) == -1)
		return 0;
	fence = lockfile_fence(buf, (size_t)n);
	if (fence == LOCKFILE_NO_FENCE || fence + 1 == LOCKFILE_NO_FENCE)
		return errno = EINVAL, 0;	/* not ours: keep out */
	fence++;
	if (self != NULL) {
		self->fence = fence;
		self->since_ms = clock_wall_ms();
	}
	lockfile_format(fence, self, buf);
	iov[0] = (struct iovec){ buf, sizeof(buf) };
	iov[1] = (struct iovec){ (void *)key, strlen(key) };
	if (pwritev(fd, iov, 2, 0) != (ssize_t)(iov[0].iov_len +
	    iov[1].iov_len))
		return 0;
	return fence;
}

/* Takes the key of req for self; a lock_result. */
static enum lock_result
local_acquire(struct lock *l, const struct lock_request *req,
    struct lock_wait *w, struct holder *self)
{
	struct lock_local *ll = (struct lock_local *)l;
	enum lock_result rc;

	if (req->mode != LOCK_EXCLUSIVE && req->cooldown_ms > 0)
		return lock_seterr(l, LOCK_EUSAGE, "--cooldown works with "
		    "exclusive locks only"), LOCK_ERROR;
	if (keyname_file(req->key, ll->name, sizeof(ll->name)) == -1)
		return lock_seterr(l, LOCK_EUSAGE, "empty key"), LOCK_ERROR;
	self->until_ms = req->until_ms;
	self->cooldown_ms = req->cooldown_ms;
	self->shared = req->mode == LOCK_SHARED;
	self->slots = req->mode == LOCK_SLOTS ? req->count : 0;
	self->supersede = req->supersede;
	snprintf(self->note, sizeof(self->note), "%s",
	    req->note != NULL ? req->note : "");
	if (holder_new_token(self) == -1)
		return lock_seterr(l, lock_errno_class(errno, LOCK_EINTERNAL),
		    "cannot make a token: %s", strerror(errno)), LOCK_ERROR;
	if ((rc = local_wait(ll, req, w, self)) != LOCK_ACQUIRED)
		return rc;
	if (ll->mode == LOCK_EXCLUSIVE) {
		/* Under the lock, so the run that set it has ended. */
		local_cool_read(ll, ll->name, &l->cooldown);
		if (l->cooldown.until_ms > clock_wall_ms()) {
			local_release(l, 0);
			return LOCK_COOLING;
		}
		if (local_count(ll->lockfd, req->key, self) == 0) {
			lock_seterr(l, lock_errno_class(errno, LOCK_EINTERNAL),
			    "%s/%s: cannot update the fence: %s", ll->dir,
			    ll->name, strerror(errno));
			local_release(l, 0);
			return LOCK_ERROR;
		}
	}
	ll->self = *self;
	ll->cooldown_ms = req->cooldown_ms;
	return LOCK_ACQUIRED;
}

/* The local backend has no lease to keep alive. */
static int
local_keepalive(struct lock *l, struct lock_lease *lease)
{
	(void)l;
	lease->fd = -1;
	lease->check_at = CLOCK_FOREVER;
	lease->keeper = -1;
	return 0;
}

/* A flock is held until we let go: never lost. */
static int
local_lease_check(struct lock *l, struct lock_lease *lease)
{
	return local_keepalive(l, lease);
}

/* Starts the cooldown (succeeded), clears the holder record and
   unlocks; 0. */
int
local_release(struct lock *l, int succeeded)
{
	struct lock_local *ll = (struct lock_local *)l;
	static const char zero[LOCKFILE_SLOT_LEN];

	if (ll->lockfd == -1)
		return 0;
	if (ll->mode == LOCK_EXCLUSIVE) {
		if (succeeded && ll->cooldown_ms > 0)
			local_cool_write(ll, ll->name, &ll->self,
			    ll->cooldown_ms);
		(void)!pwrite(ll->lockfd, zero, sizeof(zero),
		    LOCKFILE_FENCE_LEN);
	} else if (ll->mode == LOCK_SHARED && ll->recfd != -1)
		unlinkat(ll->qfd, ll->recname, 0);
	else if (ll->recfd != -1)
		(void)!pwrite(ll->recfd, zero, HOLDER_SEALED_MAX, 0);
	/* Unlock before the close that a waiting slots head watches. */
	if (ll->slotfd != -1) {
		flock(ll->slotfd, LOCK_UN);
		close(ll->slotfd);
	}
	if (ll->recfd != -1)
		close(ll->recfd);
	if (ll->qfd != -1)
		close(ll->qfd);
	close(ll->lockfd);
	ll->lockfd = ll->slotfd = ll->recfd = ll->qfd = -1;
	return 0;
}

int
local_locked(struct local_locked **out)
{
	struct local_locked *v = NULL, *nv;
	char line[256], type[16], arrow[8], rw[8];
	unsigned int maj, min;
	unsigned long ino;
	int n = 0, cap = 0;
	FILE *f;

	if ((f = fopen("/proc/locks", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* "1: FLOCK ADVISORY WRITE 123 08:01:456 0 EOF"; waiters
		   have "->" before the type and do not hold anything. */
		if (sscanf(line, "%*d: %7s", arrow) != 1 ||
		    strcmp(arrow, "->") == 0)
			continue;
		if (sscanf(line, "%*d: %15s %*s %7s %*d %x:%x:%lu", type, rw,
		    &maj, &min, &ino) != 5 || strcmp(type, "FLOCK") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		v[n] = (struct local_locked){ maj, min, ino,
		    strcmp(rw, "WRITE") == 0 };
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

int
local_lock_kind(int dirfd, const char *name, const struct local_locked *v,
    int n)
{
	struct stat st;
	int i, kind = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	for (i = 0; i < n && kind < 2; i++)
		if (v[i].ino == st.st_ino && v[i].maj == major(st.st_dev) &&
		    v[i].min == minor(st.st_dev))
			kind = v[i].write ? 2 : 1;
	return kind;
}

/* Fills h for a held name (pid 0 when the record is missing). */
static void
local_holder_or_unknown(struct lock_local *ll, const char *name,
    struct holder *h)
{
	if (local_read_holder(ll, name, h) == -1) {
		memset(h, 0, sizeof(*h));
		strcpy(h->token, "-");
		strcpy(h->host, "unknown");
	}
	h->ttl_ms = -1;
}

/* Orders holders by the time they took the key. */
static int
local_since_cmp(const void *a, const void *b)
{
	const struct holder *x = a, *y = b;

	return x->since_ms < y->since_ms ? -1 : x->since_ms > y->since_ms;
}

/* local_state() with the flock'ed inodes v already read. */
static int
local_state_of(struct lock_local *ll, const char *name,
    const struct local_locked *v, int n, struct lock_state *st)
{
	struct holder h;
	int qfd, rc = 0;

	memset(st, 0, sizeof(*st));
	if (local_lock_kind(ll->dirfd, name, v, n) == 2) {
		local_holder_or_unknown(ll, name, &h);
		if (lock_state_one(st, &h) == -1)
			return lock_seterr(&ll->base, LOCK_EINTERNAL, "out of "
			    "memory");
	}
	if ((qfd = local_queue_open(ll, name, 0)) != -1) {
		rc = local_queue_state(qfd, v, n, st);
		close(qfd);
	}
	if (rc == -1) {
		lock_state_free(st);
		return lock_seterr(&ll->base, LOCK_EINTERNAL, "%s/.q.%s: %s",
		    ll->dir, name, strerror(errno));
	}
	if (st->nholders > 1)
		qsort(st->holders, st->nholders, sizeof(*st->holders),
		    local_since_cmp);
	return 0;
}

int
local_state(struct lock_local *ll, const char *name, struct lock_state *st)
{
	struct local_locked *v = NULL;
	int n, rc;

	memset(st, 0, sizeof(*st));
	if ((n = local_locked(&v)) == -1)
		return lock_seterr(&ll->base, LOCK_EINTERNAL, "/proc/locks: "
		    "%s", strerror(errno));
	rc = local_state_of(ll, name, v, n, st);
	free(v);
	return rc;
}

/* Fills st with key's holders, waiters and cooldown; never takes a
   lock. */
static int
local_status(struct lock *l, const char *key, struct lock_state *st)
{
	struct lock_local *ll = (struct lock_local *)l;
	char name[KEYNAME_FILE_MAX + 1];

	memset(st, 0, sizeof(*st));
	if (keyname_file(key, name, sizeof(name)) == -1)
		return lock_seterr(l, LOCK_EUSAGE, "empty key");
	if (local_state(ll, name, st) == -1)
		return -1;
	local_cool_read(ll, name, &st->cooldown);
	return 0;
}

/* The key of lock file name: decoded, or read from the file. */
static char *
local_key_of(struct lock_local *ll, const char *name)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd;

	if (name[0] != '#')
		return keyname_unfile(name);
	fd = openat(ll->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > LOCKFILE_KEY_OFF &&
	    (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		n = pread(fd, buf, (size_t)st.st_size, 0);
		if (n > LOCKFILE_KEY_OFF) {
			buf[n] = '\0';
			memmove(buf, buf + LOCKFILE_KEY_OFF,
			    (size_t)n - LOCKFILE_KEY_OFF + 1);
		} else {
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

/* Calls cb for every held key in the directory; 0 or -1. */
static int
local_list(struct lock *l, lock_list_cb cb, void *arg)
{
	struct lock_local *ll = (struct lock_local *)l;
	struct local_locked *v = NULL;
	struct lock_state st;
	struct dirent *de;
	DIR *d;
	char *key;
	enum lock_walk next = LOCK_WALK_NEXT;
	int n, dfd;

	if ((n = local_locked(&v)) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "/proc/locks: %s",
		    strerror(errno));
	if ((dfd = dup(ll->dirfd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		free(v);
		return lock_seterr(l, LOCK_EINTERNAL, "%s: %s", ll->dir,
		    strerror(errno));
	}
	rewinddir(d);
	while (next == LOCK_WALK_NEXT && (de = readdir(d)) != NULL) {
		/* Every kind of holder locks the lock file, shared or not. */
		if (de->d_name[0] == '.' ||
		    local_lock_kind(ll->dirfd, de->d_name, v, n) == 0)
			continue;
		if ((key = local_key_of(ll, de->d_name)) == NULL)
			continue;
		if (local_state_of(ll, de->d_name, v, n, &st) == 0) {
			if (st.nholders > 0)
				next = cb(arg, key, &st);
			lock_state_free(&st);
		}
		free(key);
	}
	closedir(d);
	free(v);
	return 0;
}

/* A flock held by another process cannot be broken from outside. */
static int
local_force_release(struct lock *l, const char *key, int *deleted)
{
	struct lock_state st;
	long pid = 0;

	*deleted = 0;
	if (local_status(l, key, &st) == 0 && st.nholders > 0)
		pid = st.holders[0].pid;
	lock_state_free(&st);
	if (pid > 0)
		return lock_seterr(l, LOCK_EUSAGE, "a local lock cannot be "
		    "released by force; stop its holder (pid %ld)", pid);
	return lock_seterr(l, LOCK_EUSAGE, "a local lock cannot be released "
	    "by force; it ends with its holder");
}

/* Frees the context; a held lock is released by the close. */
void
local_close(struct lock *l)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (ll == NULL)
		return;
	memo_file_close(&ll->memo);
	if (ll->lockfd != -1)
		local_release(l, 0);
	if (ll->dirfd != -1)
		close(ll->dirfd);
	free(ll->dir);
	free(ll->cache_dir);
	free(ll);
}

static const char *const local_schemes[] = { NULL };

const struct lock_backend lock_local_backend = {
	.name = "local",
	.schemes = local_schemes,
	.open = local_open,
	.connect = local_connect,
	.acquire = local_acquire,
	.keepalive = local_keepalive,
	.lease_check = local_lease_check,
	.release = local_release,
	.release_token = local_release_token,
	.renew = local_renew,
	.status = local_status,
	.list = local_list,
	.force_release = local_force_release,
	.memo = &local_memo,
	.close = local_close,
};

/*
 * lock_local: one flock(2) lock file per key in a private directory.
 *
 * Files in the lock directory, for a key whose file name is N
 * (keyname_file()):
 *
 *	N	the lock file: flock(LOCK_EX) on it is the lock.  It holds
 *		the fence, the holder's record and the key (lockfile.h).
 *
 * The holder writes the fence and its record with one pwrite(2), and
 * nothing else, so taking a lock creates, renames and unlinks no file.
 * A reader trusts a record only when its checksum holds and its fence is
 * the file's: a torn read is never shown as the holder, nor the record
 * of a holder that released.  (A holder that died leaves its record
 * until the next holder writes its own, a moment after its flock.)
 *
 * Invariants: lock files are never unlinked (an unlinked flock file lets
 * two holders in); only the lock holder writes the fence or the record;
 * "status" and "list" never flock anything: they ask /proc/locks whether
 * the lock file's inode is locked.  Waiting is a blocking flock() in a
 * forked helper that shares our open file description, so the wait is in
 * the kernel, and the helper's pipe is what the wait loop (wait.c)
 * watches.
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

/* A locked inode as /proc/locks shows it. */
struct locked {
	unsigned int	maj, min;
	unsigned long	ino;
};

/* A wait for the lock file fd: first a try without blocking, then a
   helper blocked in flock(2) on the same open file description. */
struct local_waiter {
	struct lock_local	*ll;
	int			 fd;
	pid_t			 pid;		/* the helper, or -1 */
	int			 pipe_r;	/* its "locked" pipe, or -1 */
	int			 locked;	/* the helper wrote to it */
	struct holder		 h;
};

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
	ll->dirfd = ll->lockfd = -1;
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

/* Reads the holder record of lock file name into h; 0, or -1 if none. */
static int
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
 * Counts the acquisition in the held lock file and writes self's record
 * beside it, and the key after them (which repairs a file an earlier
 * layout or a crash left without one); the new fence, or 0 (errno) when
 * the file cannot be read or written: a fence that could go backwards is
 * worse than no run.
 */
static uint64_t
local_write_holder(struct lock_local *ll, const char *key,
    struct holder *self)
{
	char buf[LOCKFILE_KEY_OFF];
	struct iovec iov[2];
	ssize_t n;
	uint64_t fence;

	if ((n = pread(ll->lockfd, buf, LOCKFILE_FENCE_LEN, 0)) == -1)
		return 0;
	fence = lockfile_fence(buf, (size_t)n);
	if (fence == LOCKFILE_NO_FENCE || fence + 1 == LOCKFILE_NO_FENCE)
		return errno = EINVAL, 0;	/* not ours: keep out */
	self->fence = ++fence;
	self->since_ms = clock_wall_ms();
	lockfile_format(fence, self, buf);
	iov[0] = (struct iovec){ buf, sizeof(buf) };
	iov[1] = (struct iovec){ (void *)key, strlen(key) };
	if (pwritev(ll->lockfd, iov, 2, 0) !=
	    (ssize_t)(iov[0].iov_len + iov[1].iov_len))
		return 0;
	return fence;
}

/* wait_ops: flock without blocking until the helper runs; then the
   helper's word. */
static enum wait_try
local_try(void *arg, int64_t *retry_at)
{
	struct local_waiter *lw = arg;

	*retry_at = CLOCK_FOREVER;
	if (lw->locked)
		return WAIT_TAKEN;
	if (lw->pid != -1)
		return WAIT_BUSY;
	if (flock(lw->fd, LOCK_EX | LOCK_NB) == 0)
		return WAIT_TAKEN;
	if (errno == EWOULDBLOCK)
		return WAIT_BUSY;
	lock_seterr(&lw->ll->base, LOCK_EINTERNAL, "flock %s/%s: %s",
	    lw->ll->dir, lw->ll->name, strerror(errno));
	return WAIT_FAILED;
}

/* wait_ops: starts the helper that blocks in flock(2); its pipe. */
static int
local_watch(void *arg, int64_t *retry_at)
{
	struct local_waiter *lw = arg;
	pid_t parent = getpid();
	int p[2];

	(void)retry_at;
	if (lw->pid != -1)
		return lw->pipe_r;
	if (pipe2(p, O_CLOEXEC) == -1)
		return lock_seterr(&lw->ll->base, lock_errno_class(errno,
		    LOCK_EINTERNAL), "pipe: %s", strerror(errno)), -2;
	if ((lw->pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return lock_seterr(&lw->ll->base, lock_errno_class(errno,
		    LOCK_EINTERNAL), "fork: %s", strerror(errno)), -2;
	}
	if (lw->pid == 0) {
		/* Never outlive the waiter: an orphan would lock for no one. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(p[0]);
		while (flock(lw->fd, LOCK_EX) == -1)
			if (errno != EINTR)
				_exit(1);
		(void)!write(p[1], "L", 1);
		_exit(0);
	}
	close(p[1]);
	return lw->pipe_r = p[0];
}

/* wait_ops: the helper has the lock, or it failed. */
static int
local_woken(void *arg)
{
	struct local_waiter *lw = arg;
	char c;

	if (read(lw->pipe_r, &c, 1) == 1) {
		lw->locked = 1;
		waitpid(lw->pid, NULL, 0);
		lw->pid = -1;
		return 0;
	}
	return lock_seterr(&lw->ll->base, LOCK_EINTERNAL, "flock: waiting "
	    "helper failed");
}

/* wait_ops: the holder's record, if there is a whole one. */
static const struct holder *
local_waited_for(void *arg)
{
	struct local_waiter *lw = arg;

	return local_read_holder(lw->ll, lw->ll->name, &lw->h) == 0 ?
	    &lw->h : NULL;
}

static const struct wait_ops local_wait_ops = {
	local_try, local_watch, local_woken, local_waited_for, NULL
};

/* Takes the key of req for self; a lock_result. */
static enum lock_result
local_acquire(struct lock *l, const struct lock_request *req,
    struct lock_wait *w, struct holder *self)
{
	struct lock_local *ll = (struct lock_local *)l;
	struct local_waiter lw = { .ll = ll, .fd = -1, .pid = -1,
	    .pipe_r = -1 };
	enum lock_result rc;

	if (req->mode != LOCK_EXCLUSIVE)
		return lock_seterr(l, LOCK_EUSAGE, "only exclusive locks are "
		    "supported"), LOCK_ERROR;
	if (keyname_file(req->key, ll->name, sizeof(ll->name)) == -1)
		return lock_seterr(l, LOCK_EUSAGE, "empty key"), LOCK_ERROR;
	self->until_ms = req->until_ms;
	self->cooldown_ms = req->cooldown_ms;
	snprintf(self->note, sizeof(self->note), "%s",
	    req->note != NULL ? req->note : "");
	lw.fd = openat(ll->dirfd, ll->name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (lw.fd == -1)
		return lock_seterr(l, lock_errno_class(errno, LOCK_EUNAVAIL),
		    "%s/%s: %s", ll->dir, ll->name, strerror(errno)),
		    LOCK_ERROR;
	rc = wait_for(l, w, &local_wait_ops, &lw);
	if (lw.pid != -1) {
		/* The helper may have locked just now: fd is closed below. */
		kill(lw.pid, SIGKILL);
		waitpid(lw.pid, NULL, 0);
	}
	if (lw.pipe_r != -1)
		close(lw.pipe_r);
	if (rc != LOCK_ACQUIRED) {
		close(lw.fd);
		return rc;
	}
	ll->lockfd = lw.fd;
	/* Under the lock, so the run that set it has ended. */
	local_cool_read(ll, ll->name, &l->cooldown);
	if (l->cooldown.until_ms > clock_wall_ms()) {
		local_release(l, 0);
		return LOCK_COOLING;
	}
	if (holder_new_token(self) == -1 ||
	    local_write_holder(ll, req->key, self) == 0) {
		lock_seterr(l, lock_errno_class(errno, LOCK_EINTERNAL), "%s/%s: "
		    "cannot update the fence: %s", ll->dir, ll->name,
		    strerror(errno));
		local_release(l, 0);
		return LOCK_ERROR;
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
	if (succeeded && ll->cooldown_ms > 0)
		local_cool_write(ll, ll->name, &ll->self, ll->cooldown_ms);
	(void)!pwrite(ll->lockfd, zero, sizeof(zero), LOCKFILE_FENCE_LEN);
	close(ll->lockfd);
	ll->lockfd = -1;
	return 0;
}

/* Reads the flock'ed inodes from /proc/locks; count, or -1. */
static int
local_locked(struct locked **out)
{
	struct locked *v = NULL, *nv;
	char line[256], type[16], arrow[8];
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
		if (sscanf(line, "%*d: %15s %*s %*s %*d %x:%x:%lu", type,
		    &maj, &min, &ino) != 4 || strcmp(type, "FLOCK") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = nv;
		}
		v[n].maj = maj;
		v[n].min = min;
		v[n].ino = ino;
		n++;
	}
	fclose(f);
	*out = v;
	return n;
}

/* Nonzero if the lock file name in the directory is flock'ed. */
static int
local_is_locked(struct lock_local *ll, const char *name,
    const struct locked *v, int n)
{
	struct stat st;
	int i;

	if (fstatat(ll->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i].ino == st.st_ino && v[i].maj == major(st.st_dev) &&
		    v[i].min == minor(st.st_dev))
			return 1;
	return 0;
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

int
local_holder(struct lock_local *ll, const char *key,
    char name[KEYNAME_FILE_MAX + 1], struct holder *h)
{
	struct locked *v = NULL;
	int n, held;

	if (keyname_file(key, name, KEYNAME_FILE_MAX + 1) == -1)
		return lock_seterr(&ll->base, LOCK_EUSAGE, "empty key");
	if ((n = local_locked(&v)) == -1)
		return lock_seterr(&ll->base, LOCK_EINTERNAL, "/proc/locks: "
		    "%s", strerror(errno));
	held = local_is_locked(ll, name, v, n);
	free(v);
	if (held)
		local_holder_or_unknown(ll, name, h);
	return held;
}

/* Fills st with key's holder and cooldown; never takes the lock. */
static int
local_status(struct lock *l, const char *key, struct lock_state *st)
{
	struct lock_local *ll = (struct lock_local *)l;
	struct holder h;
	char name[KEYNAME_FILE_MAX + 1];
	int held;

	memset(st, 0, sizeof(*st));
	if ((held = local_holder(ll, key, name, &h)) == -1)
		return -1;
	local_cool_read(ll, name, &st->cooldown);
	if (held && lock_state_one(st, &h) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "out of memory");
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
	struct locked *v = NULL;
	struct lock_state st;
	struct holder h;
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
		if (de->d_name[0] == '.' ||
		    !local_is_locked(ll, de->d_name, v, n))
			continue;
		if ((key = local_key_of(ll, de->d_name)) == NULL)
			continue;
		local_holder_or_unknown(ll, de->d_name, &h);
		st = (struct lock_state){ .holders = &h, .nholders = 1 };
		next = cb(arg, key, &st);
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

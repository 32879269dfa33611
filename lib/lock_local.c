/*
 * lock_local: one flock(2) lock file per key in a private directory.
 *
 * Files in the lock directory, for a key whose file name is N
 * (keyname_file()):
 *
 *	N	the lock file: flock(LOCK_EX) on it is the lock.  It holds
 *		the fence counter ("%020llu\n", 21 bytes), then a slot of
 *		SLOT_LEN bytes for the sealed holder record (holder.h),
 *		NUL-padded and zeroed at release, then the key itself, so
 *		hashed names can still be listed.
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
 * the kernel and the parent can still poll() signals and a deadline.
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
#include "lock.h"
#include "memo.h"
#include "safedir.h"

#define FENCE_LEN	21	/* "%020llu\n" */
#define SLOT_LEN	384	/* the sealed holder record, NUL-padded */
#define KEY_OFF		(FENCE_LEN + SLOT_LEN)
#define READ_TRIES	3	/* a record caught mid-write is read again */

_Static_assert(SLOT_LEN >= HOLDER_SEALED_MAX, "holder slot too small");

struct lock_local {
	struct lock	 base;
	char		*dir;
	int		 dir_strict;
	char		*cache_dir;
	int		 cache_strict;
	int		 dirfd;
	int		 lockfd;	/* held lock, or -1 */
	char		 name[KEYNAME_FILE_MAX + 1];
	struct memo_file memo;
};

/* A locked inode as /proc/locks shows it. */
struct locked {
	unsigned int	maj, min;
	unsigned long	ino;
};

static int	local_release(struct lock *);

/* Allocates a local context from opts. */
static struct lock *
local_open(const struct lock_opts *o)
{
	struct lock_local *ll;

	if ((ll = calloc(1, sizeof(*ll))) == NULL)
		return NULL;
	ll->base.be = &lock_local_backend;
	ll->dirfd = ll->lockfd = -1;
	ll->dir = o->dir != NULL ? strdup(o->dir) : NULL;
	ll->dir_strict = o->dir_is_default;
	ll->cache_dir = o->cache_dir != NULL ? strdup(o->cache_dir) : NULL;
	ll->cache_strict = o->cache_is_default;
	memo_file_init(&ll->memo);
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
	if (ll->dir == NULL)
		return lock_seterr(l, LOCK_EINTERNAL, "no lock directory");
	ll->dirfd = safedir_open(ll->dir, ll->dir_strict, err, sizeof(err));
	if (ll->dirfd == -1)
		return lock_seterr(l, LOCK_EUSAGE, "%s", err);
	return 0;
}

/* Reads the fence of a lock file's first bytes; 0 if there is none,
   (uint64_t)-1 if they are not a fence of ours. */
static uint64_t
local_parse_fence(const char *buf, ssize_t n)
{
	char f[FENCE_LEN + 1], *end;
	unsigned long long fence;

	if (n <= 0)
		return 0;
	if (n < FENCE_LEN)
		return (uint64_t)-1;
	memcpy(f, buf, FENCE_LEN);
	f[FENCE_LEN] = '\0';
	fence = strtoull(f, &end, 10);
	return *end == '\n' ? fence : (uint64_t)-1;
}

/* Reads the holder record of lock file name into h; 0, or -1 if none. */
static int
local_read_holder(struct lock_local *ll, const char *name, struct holder *h)
{
	static const struct timespec again = { 0, 1000000 };
	char buf[KEY_OFF];
	ssize_t n;
	int fd, i, rc = -1;

	fd = openat(ll->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	for (i = 0; i < READ_TRIES && rc == -1; i++) {
		if (i > 0)
			nanosleep(&again, NULL);
		n = pread(fd, buf, sizeof(buf), 0);
		if (n == (ssize_t)sizeof(buf) &&
		    holder_unseal(buf + FENCE_LEN, SLOT_LEN, h) == 0 &&
		    h->fence == local_parse_fence(buf, n))
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
	char buf[KEY_OFF];
	struct iovec iov[2];
	ssize_t n;
	uint64_t fence;

	if ((n = pread(ll->lockfd, buf, FENCE_LEN, 0)) == -1)
		return 0;
	if ((fence = local_parse_fence(buf, n)) == (uint64_t)-1)
		return errno = EINVAL, 0;	/* not ours: keep out */
	self->fence = ++fence;
	self->since_ms = clock_wall_ms();
	memset(buf, 0, sizeof(buf));
	snprintf(buf, FENCE_LEN + 1, "%020llu", (unsigned long long)fence);
	buf[FENCE_LEN - 1] = '\n';
	holder_seal(self, buf + FENCE_LEN);
	iov[0] = (struct iovec){ buf, sizeof(buf) };
	iov[1] = (struct iovec){ (void *)key, strlen(key) };
	if (pwritev(ll->lockfd, iov, 2, 0) !=
	    (ssize_t)(iov[0].iov_len + iov[1].iov_len))
		return 0;
	return fence;
}

/*
 * Blocks in flock() in a helper that shares fd's open file description,
 * while the parent polls the helper, w->sigfd and the deadlines.
 * Returns a lock_result.
 */
static int
local_wait(struct lock_local *ll, int fd, struct lock_wait *w)
{
	struct pollfd pfd[2];
	struct holder h;
	pid_t parent = getpid(), pid;
	int p[2], rc = LOCK_ERROR, notified = w->notify == NULL;
	int64_t until;
	char c;

	if (pipe2(p, O_CLOEXEC) == -1)
		return lock_seterr(&ll->base, LOCK_EINTERNAL, "pipe: %s",
		    strerror(errno)), LOCK_ERROR;
	if ((pid = fork()) == -1) {
		lock_seterr(&ll->base, LOCK_EINTERNAL, "fork: %s",
		    strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* Never outlive the waiter: an orphan would lock for no one. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(p[0]);
		while (flock(fd, LOCK_EX) == -1)
			if (errno != EINTR)
				_exit(1);
		c = 'L';
		(void)!write(p[1], &c, 1);
		_exit(0);
	}
	close(p[1]);
	p[1] = -1;
	pfd[0].fd = p[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = w->sigfd;
	pfd[1].events = POLLIN;
	for (;;) {
		until = w->deadline;
		if (!notified && w->notify_after < until)
			until = w->notify_after;
		switch (poll(pfd, w->sigfd >= 0 ? 2 : 1,
		    clock_poll_timeout(until))) {
		case -1:
			if (errno == EINTR)
				continue;
			lock_seterr(&ll->base, LOCK_EINTERNAL, "poll: %s",
			    strerror(errno));
			goto stop;
		case 0:
			if (!notified && clock_mono_ms() >= w->notify_after) {
				notified = 1;
				w->notify(w->arg, local_read_holder(ll,
				    ll->name, &h) == 0 ? &h : NULL);
				continue;
			}
			if (clock_mono_ms() < w->deadline)
				continue;
			rc = LOCK_BUSY;
			goto stop;
		}
		if (pfd[1].revents != 0) {
			rc = LOCK_INTERRUPTED;
			goto stop;
		}
		if (read(p[0], &c, 1) == 1) {
			rc = LOCK_ACQUIRED;
			waitpid(pid, NULL, 0);
			goto out;
		}
		lock_seterr(&ll->base, LOCK_EINTERNAL, "flock: waiting "
		    "helper failed");
		goto stop;
	}
stop:
	/* The helper may have locked just now: the caller closes fd. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	return rc;
}

/* Takes key for self; a lock_result. */
static int
local_acquire(struct lock *l, const char *key, struct lock_wait *w,
    struct holder *self)
{
	struct lock_local *ll = (struct lock_local *)l;
	int fd, rc;

	if (keyname_file(key, ll->name, sizeof(ll->name)) == -1)
		return lock_seterr(l, LOCK_EUSAGE, "empty key"), LOCK_ERROR;
	fd = openat(ll->dirfd, ll->name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return lock_seterr(l, LOCK_EUNAVAIL, "%s/%s: %s", ll->dir,
		    ll->name, strerror(errno)), LOCK_ERROR;
	rc = LOCK_ACQUIRED;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			rc = LOCK_ERROR;
			lock_seterr(l, LOCK_EINTERNAL, "flock %s/%s: %s",
			    ll->dir, ll->name, strerror(errno));
		} else if (w->deadline <= clock_mono_ms())
			rc = LOCK_BUSY;
		else
			rc = local_wait(ll, fd, w);
	}
	if (rc != LOCK_ACQUIRED) {
		close(fd);
		return rc;
	}
	ll->lockfd = fd;
	if (local_write_holder(ll, key, self) == 0) {
		lock_seterr(l, LOCK_EINTERNAL, "%s/%s: cannot update the "
		    "fence: %s", ll->dir, ll->name, strerror(errno));
		local_release(l);
		return LOCK_ERROR;
	}
	return LOCK_ACQUIRED;
}

/* The local backend has no lease to keep alive. */
static int
local_keepalive(struct lock *l)
{
	(void)l;
	return -1;
}

/* Clears the holder record and unlocks; 0. */
static int
local_release(struct lock *l)
{
	struct lock_local *ll = (struct lock_local *)l;
	static const char zero[SLOT_LEN];

	if (ll->lockfd == -1)
		return 0;
	(void)!pwrite(ll->lockfd, zero, sizeof(zero), FENCE_LEN);
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

/* 1 held (h filled), 0 free, -1 error; never takes the lock. */
static int
local_status(struct lock *l, const char *key, struct holder *h)
{
	struct lock_local *ll = (struct lock_local *)l;
	struct locked *v = NULL;
	char name[KEYNAME_FILE_MAX + 1];
	int n, held;

	if (keyname_file(key, name, sizeof(name)) == -1)
		return lock_seterr(l, LOCK_EUSAGE, "empty key");
	if ((n = local_locked(&v)) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "/proc/locks: %s",
		    strerror(errno));
	held = local_is_locked(ll, name, v, n);
	free(v);
	if (held)
		local_holder_or_unknown(ll, name, h);
	return held;
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
	fd = openat(ll->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > KEY_OFF &&
	    (buf = malloc((size_t)st.st_size + 1)) != NULL) {
		n = pread(fd, buf, (size_t)st.st_size, 0);
		if (n > KEY_OFF) {
			buf[n] = '\0';
			memmove(buf, buf + KEY_OFF, (size_t)n - KEY_OFF + 1);
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
	struct holder h;
	struct dirent *de;
	DIR *d;
	char *key;
	int n, dfd, rc = 0;

	if ((n = local_locked(&v)) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "/proc/locks: %s",
		    strerror(errno));
	if ((dfd = dup(ll->dirfd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		free(v);
		return lock_seterr(l, LOCK_EINTERNAL, "%s: %s", ll->dir,
		    strerror(errno));
	}
	rewinddir(d);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    !local_is_locked(ll, de->d_name, v, n))
			continue;
		if ((key = local_key_of(ll, de->d_name)) == NULL)
			continue;
		local_holder_or_unknown(ll, de->d_name, &h);
		if (cb(arg, key, &h) == -1)
			rc = -1;
		free(key);
	}
	closedir(d);
	free(v);
	return 0;
}

/* A flock held by another process cannot be broken from outside. */
static int
local_force_release(struct lock *l, const char *key)
{
	struct holder h;

	if (local_status(l, key, &h) == 1 && h.pid > 0)
		return lock_seterr(l, LOCK_EUSAGE, "a local lock cannot be "
		    "released by force; stop its holder (pid %ld)", h.pid);
	return lock_seterr(l, LOCK_EUSAGE, "a local lock cannot be released "
	    "by force; it ends with its holder");
}

/* Opens the memo cache for key, creating it when create is set; 0, 1
   when it has none (create unset), or -1. */
static int
local_memo_open(struct lock_local *ll, const char *key, int create)
{
	char err[512];
	int rc;

	if (ll->cache_dir == NULL)
		return lock_seterr(&ll->base, LOCK_EINTERNAL, "no cache "
		    "directory");
	rc = memo_file_open(&ll->memo, ll->cache_dir, ll->cache_strict, key,
	    create, err, sizeof(err));
	if (rc == -1)
		return lock_seterr(&ll->base, LOCK_EUSAGE, "%s", err);
	return rc;
}

/* 1 hit (copied to fd), 0 miss, -1 error. */
static int
local_memo_get(struct lock *l, const struct memo_id *id, int64_t max_age,
    int fd)
{
	struct lock_local *ll = (struct lock_local *)l;
	int rc;

	if ((rc = local_memo_open(ll, id->key, 0)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = memo_file_get(&ll->memo, id, max_age, fd)) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "cannot print the cached "
		    "result: %s", strerror(errno));
	return rc;
}

/* Starts a capture for id; 0 or -1. */
static int
local_memo_begin(struct lock *l, const struct memo_id *id)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (local_memo_open(ll, id->key, 1) == -1)
		return -1;
	if (memo_file_begin(&ll->memo, id) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "cache: %s",
		    strerror(errno));
	return 0;
}

/* Appends captured output; 0 or -1. */
static int
local_memo_append(struct lock *l, const void *buf, size_t len)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (memo_file_append(&ll->memo, buf, len) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "cache: %s",
		    strerror(errno));
	return 0;
}

/* Publishes the capture, then releases the lock; 0 or -1. */
static int
local_memo_commit(struct lock *l, int64_t ttl_ms)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (memo_file_commit(&ll->memo, ttl_ms) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "cache: %s",
		    strerror(errno));
	return local_release(l);
}

/* Drops the capture. */
static void
local_memo_abort(struct lock *l)
{
	memo_file_abort(&((struct lock_local *)l)->memo);
}

/* Drops every cached entry of key; how many, or -1. */
static long
local_memo_forget(struct lock *l, const char *key)
{
	struct lock_local *ll = (struct lock_local *)l;
	long n;
	int rc;

	if ((rc = local_memo_open(ll, key, 0)) != 0)
		return rc == 1 ? 0 : -1;
	if ((n = memo_file_forget(&ll->memo)) == -1)
		return lock_seterr(l, LOCK_EINTERNAL, "cache: %s",
		    strerror(errno));
	return n;
}

/* Calls cb for every fresh cached entry of key; 0 or -1. */
static int
local_memo_list(struct lock *l, const char *key, memo_list_cb cb, void *arg)
{
	struct lock_local *ll = (struct lock_local *)l;
	int rc;

	if ((rc = local_memo_open(ll, key, 0)) != 0)
		return rc == 1 ? 0 : -1;
	return memo_file_list(&ll->memo, cb, arg);
}

/* Frees the context; a held lock is released by the close. */
static void
local_close(struct lock *l)
{
	struct lock_local *ll = (struct lock_local *)l;

	if (ll == NULL)
		return;
	memo_file_close(&ll->memo);
	if (ll->lockfd != -1)
		local_release(l);
	if (ll->dirfd != -1)
		close(ll->dirfd);
	free(ll->dir);
	free(ll->cache_dir);
	free(ll);
}

const struct lock_backend lock_local_backend = {
	.name = "local",
	.open = local_open,
	.connect = local_connect,
	.acquire = local_acquire,
	.keepalive = local_keepalive,
	.release = local_release,
	.status = local_status,
	.list = local_list,
	.force_release = local_force_release,
	.memo_get = local_memo_get,
	.memo_begin = local_memo_begin,
	.memo_append = local_memo_append,
	.memo_commit = local_memo_commit,
	.memo_abort = local_memo_abort,
	.memo_forget = local_memo_forget,
	.memo_list = local_memo_list,
	.close = local_close,
};

/*
 * local_queue: the files of a key's queue, in directory .q.N beside lock
 * file N (a dot name, so "list" skips it; created on demand and, like
 * lock files, never removed):
 *
 *	next		the next ticket, "%020llu\n"; flock(LOCK_EX) on it is
 *			the queue's guard, held for moments only
 *	TICKET		a waiter's entry (20 digits), flock(LOCK_EX)ed by its
 *			owner for as long as it waits (lockfile.h: layout)
 *	wTICKET		the waiter's doorbell, a FIFO it reads: a byte in it
 *			wakes it (from its helper or a --supersede caller)
 *	hFENCE		a shared holder's record, locked while it holds
 *	sI		slot I: flock(LOCK_EX) on it is the slot; its
 *			holder's record
 *	~NAME		NAME being made where O_TMPFILE is missing
 *
 * Invariants: an entry or holder file appears under its name already
 * locked and with its record (made unnamed, with O_TMPFILE, and linked
 * in), so a file that can be flock(LOCK_SH|LOCK_NB)ed is dead and anyone
 * may unlink it; names are never reused (tickets and fences only grow),
 * so an unlink never hits a newer file.  Every file is created under the
 * guard, so a ~NAME found unlocked by a caller that holds the guard is
 * dead too.  Dead entries, shared holders' records and ~NAMEs are
 * unlinked by the next peek.  Probes take LOCK_SH only, which never
 * fails another probe.  Tickets are taken under the guard, so
 * entries are ordered by arrival.  A doorbell goes with its entry: made
 * before it, unlinked after it.  Slot files are never unlinked (a slot
 * is its file's flock).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "local_int.h"
#include "lockfile.h"

int
local_queue_open(struct lock_local *ll, const char *name, int create)
{
	char path[KEYNAME_FILE_MAX + 8];

	_Static_assert(KEYNAME_FILE_MAX + 3 <= 255, "queue name too long");
	snprintf(path, sizeof(path), ".q.%s", name);
	if (create && mkdirat(ll->dirfd, path, 0700) == -1 && errno != EEXIST)
		return -1;
	return openat(ll->dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

int
local_queue_guard(int qfd)
{
	int fd;

	fd = openat(qfd, "next", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/* The ticket a name stands for, or 0 if it is not an entry's. */
static uint64_t
queue_ticket(const char *name)
{
	if (strlen(name) != LOCKFILE_TICKET_LEN ||
	    strspn(name, "0123456789") != LOCKFILE_TICKET_LEN)
		return 0;
	return strtoull(name, NULL, 10);
}

/* Unlinks file name of qfd, and the doorbell if it is an entry. */
static void
queue_unlink(int qfd, const char *name)
{
	char bell[32];

	unlinkat(qfd, name, 0);
	if (queue_ticket(name) != 0) {
		snprintf(bell, sizeof(bell), "w%s", name);
		unlinkat(qfd, bell, 0);
	}
}

/* 1 if file name of qfd is locked by its owner (h filled from its
   record when not NULL), 0 if it is gone or dead (then unlinked). */
static int
queue_probe(int qfd, const char *name, struct holder *h)
{
	char buf[HOLDER_SEALED_MAX];
	ssize_t n;
	int fd, live = 0;

	fd = openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		queue_unlink(qfd, name);
	else if (errno == EWOULDBLOCK) {
		live = 1;
		if (h != NULL && ((n = pread(fd, buf, sizeof(buf), 0)) <= 0 ||
		    holder_unseal(buf, (size_t)n, h) == -1)) {
			memset(h, 0, sizeof(*h));
			strcpy(h->token, "-");
			strcpy(h->host, "unknown");
		}
	}
	close(fd);
	return live;
}

/* Opens qfd for reading its names from the start; NULL (errno). */
static DIR *
queue_dir(int qfd)
{
	DIR *d;
	int fd;

	if ((fd = dup(qfd)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

/* Whether name of a queue directory is swept when dead: entries,
   shared holders' records and (only under the guard, which every
   creator holds) temporary names. */
static int
queue_swept(const char *name, int guarded)
{
	return queue_ticket(name) != 0 || name[0] == 'h' ||
	    (guarded && name[0] == '~');
}

int
local_queue_peek(int qfd, int guarded)
{
	struct dirent *de;
	DIR *d;
	int live = 0;

	if ((d = queue_dir(qfd)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (queue_swept(de->d_name, guarded) &&
		    queue_probe(qfd, de->d_name, NULL) &&
		    queue_ticket(de->d_name) != 0)
			live = 1;
	closedir(d);
	return live;
}

/*
 * Creates file name in qfd locked with LOCK_EX and holding the len bytes
 * at buf, so that it is never seen unlocked or empty; the fd, or -1.
 * Without O_TMPFILE (some file systems) a temporary name stands in, which
 * a crash at the wrong moment leaves to the next guarded peek.  Under the
 * guard.
 */
int
local_queue_create(int qfd, const char *name, const void *buf, size_t len)
{
	char tmp[64], proc[64];
	int fd, rc = -1;

	fd = openat(qfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(tmp, sizeof(tmp), "~%s", name);
		fd = openat(qfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		*proc = '\0';
	} else
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX) == -1 ||
	    pwrite(fd, buf, len, 0) != (ssize_t)len)
		goto out;
	if (*proc != '\0')
		rc = linkat(AT_FDCWD, proc, qfd, name, AT_SYMLINK_FOLLOW);
	else if ((rc = renameat(qfd, tmp, qfd, name)) == -1)
		unlinkat(qfd, tmp, 0);
out:
	if (rc == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Takes the next ticket of the queue; it, or 0 (errno).  Under the
   guard. */
static uint64_t
queue_next(int gfd)
{
	char buf[LOCKFILE_TICKET_LEN + 2];
	ssize_t n;
	uint64_t t = 1;

	if ((n = pread(gfd, buf, sizeof(buf) - 1, 0)) == -1)
		return 0;
	buf[n] = '\0';
	if (n > 0)
		t = strtoull(buf, NULL, 10);
	if (t == 0 || t >= UINT64_MAX / 2)
		t = 1;
	snprintf(buf, sizeof(buf), "%020llu\n", (unsigned long long)t + 1);
	if (pwrite(gfd, buf, LOCKFILE_TICKET_LEN + 1, 0) !=
	    LOCKFILE_TICKET_LEN + 1)
		return 0;
	return t;
}

int
local_queue_join(struct local_queue *q, const struct holder *rec)
{
	char buf[HOLDER_SEALED_MAX], bell[32];
	size_t len;
	int gfd, e;

	if ((gfd = local_queue_guard(q->qfd)) == -1)
		return -1;
	len = holder_seal(rec, buf);
	if ((q->ticket = queue_next(gfd)) != 0) {
		snprintf(q->ename, sizeof(q->ename), "%020llu",
		    (unsigned long long)q->ticket);
		snprintf(bell, sizeof(bell), "w%s", q->ename);
		if (mkfifoat(q->qfd, bell, 0600) == 0)
			q->ffd = openat(q->qfd, bell, O_RDWR | O_NONBLOCK |
			    O_CLOEXEC);
		if (q->ffd != -1)
			q->efd = local_queue_create(q->qfd, q->ename, buf,
			    len);
	}
	e = errno;
	close(gfd);
	if (q->efd == -1) {
		local_queue_leave(q);
		errno = e;
		return -1;
	}
	return 0;
}

void
local_queue_leave(struct local_queue *q)
{
	char bell[32];

	if (q->ticket != 0) {
		if (q->efd != -1)
			unlinkat(q->qfd, q->ename, 0);
		snprintf(bell, sizeof(bell), "w%s", q->ename);
		unlinkat(q->qfd, bell, 0);
	}
	if (q->efd != -1)
		close(q->efd);
	if (q->ffd != -1)
		close(q->ffd);
	q->efd = q->ffd = -1;
	q->ticket = 0;
}

/* Orders entries by ticket. */
static int
queue_cmp(const void *a, const void *b)
{
	const struct local_qent *x = a, *y = b;

	return x->ticket < y->ticket ? -1 : x->ticket > y->ticket;
}

/* Appends e to *v (*n of them); 0, or -1 when out of memory. */
static int
queue_push(struct local_qent **v, size_t *n, const struct local_qent *e)
{
	struct local_qent *nv;

	if (*n < 4 || (*n & (*n - 1)) == 0) {
		nv = realloc(*v, (*n < 4 ? 4 : *n * 2) * sizeof(**v));
		if (nv == NULL)
			return -1;
		*v = nv;
	}
	(*v)[(*n)++] = *e;
	return 0;
}

int
local_queue_ahead(const struct local_queue *q, struct local_qent **out)
{
	struct local_qent e, *v = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int rc = 0;

	if ((d = queue_dir(q->qfd)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		e.ticket = queue_ticket(de->d_name);
		if (e.ticket == 0 || (q->ticket != 0 && e.ticket >= q->ticket))
			continue;
		if (queue_probe(q->qfd, de->d_name, &e.h))
			rc = queue_push(&v, &n, &e);
	}
	closedir(d);
	if (rc == -1) {
		free(v);
		return -1;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), queue_cmp);
	*out = v;
	return (int)n;
}

void
local_queue_supersede(const struct local_queue *q, const struct holder *rec)
{
	char buf[HOLDER_SEALED_MAX], name[24], bell[32];
	struct local_qent *v = NULL;
	size_t len;
	int i, n, fd;

	if ((n = local_queue_ahead(q, &v)) <= 0)
		return;
	len = holder_seal(rec, buf);
	for (i = 0; i < n; i++) {
		if (!v[i].h.supersede)
			continue;
		snprintf(name, sizeof(name), "%020llu",
		    (unsigned long long)v[i].ticket);
		fd = openat(q->qfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd == -1)
			continue;
		(void)!pwrite(fd, buf, len, LOCKFILE_BY_OFF);
		close(fd);
		/* After the mark: a waiter reads it once its bell rings. */
		snprintf(bell, sizeof(bell), "w%s", name);
		fd = openat(q->qfd, bell, O_WRONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd == -1)
			continue;
		local_queue_ring(fd, LOCAL_RING_SUPERSEDED);
		close(fd);
	}
	free(v);
}

int
local_queue_superseded(const struct local_queue *q, struct holder *by)
{
	char buf[HOLDER_SEALED_MAX];
	ssize_t n;

	if (q->efd == -1)
		return 0;
	n = pread(q->efd, buf, sizeof(buf), LOCKFILE_BY_OFF);
	return n > 0 && holder_unseal(buf, (size_t)n, by) == 0;
}

void
local_queue_ring(int ffd, char why)
{
	(void)!write(ffd, &why, 1);	/* a full FIFO rings already */
}

/* Reads the record of file name of qfd into h ("unknown" if none). */
static void
queue_record(int qfd, const char *name, struct holder *h)
{
	char buf[HOLDER_SEALED_MAX];
	ssize_t n = -1;
	int fd;

	fd = openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd != -1) {
		n = pread(fd, buf, sizeof(buf), 0);
		close(fd);
	}
	if (n <= 0 || holder_unseal(buf, (size_t)n, h) == -1) {
		memset(h, 0, sizeof(*h));
		strcpy(h->token, "-");
		strcpy(h->host, "unknown");
	}
	h->ttl_ms = -1;
}

/* Appends the holders of v to st->holders; 0 or -1. */
static int
queue_add(struct holder **to, size_t *n, const struct local_qent *v,
    size_t nv)
{
	struct holder *nh;
	size_t i;

	if (nv == 0)
		return 0;
	if ((nh = realloc(*to, (*n + nv) * sizeof(*nh))) == NULL)
		return -1;
	for (i = 0; i < nv; i++)
		nh[*n + i] = v[i].h;
	*to = nh;
	*n += nv;
	return 0;
}

int
local_queue_state(int qfd, const struct local_locked *v, int n,
    struct lock_state *st)
{
	struct local_qent e, *hv = NULL, *wv = NULL;
	struct dirent *de;
	size_t nh = 0, nw = 0;
	DIR *d;
	int rc = 0, c;

	if ((d = queue_dir(qfd)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		c = de->d_name[0];
		e.ticket = queue_ticket(de->d_name);
		if ((e.ticket == 0 && c != 'h' && c != 's') ||
		    local_lock_kind(qfd, de->d_name, v, n) != 2)
			continue;
		queue_record(qfd, de->d_name, &e.h);
		if (e.ticket != 0)
			rc = queue_push(&wv, &nw, &e);
		else
			rc = queue_push(&hv, &nh, &e);
	}
	closedir(d);
	if (nw > 1)
		qsort(wv, nw, sizeof(*wv), queue_cmp);
	if (rc == 0 && (queue_add(&st->holders, &st->nholders, hv, nh) == -1 ||
	    queue_add(&st->waiters, &st->nwaiters, wv, nw) == -1))
		rc = -1;
	free(hv);
	free(wv);
	return rc;
}

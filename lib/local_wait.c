/*
 * local_wait: taking a local key in arrival order (local_queue.c has the
 * files).
 *
 * A caller first tries the key without waiting: the lock file with
 * LOCK_NB (shared: LOCK_SH; slots: LOCK_SH on it and LOCK_EX on a free
 * slot file), and then whether anyone is queued; a free key with no
 * queue directory costs an exclusive caller one failed open more than a
 * bare flock.  If anyone is queued it lets go again, so it never
 * overtakes a waiter that is between its wakeup and its flock.
 *
 * Shared and slot holders both hold the lock file with LOCK_SH, so the
 * kernel does not keep them apart: their records do.  A non-exclusive
 * caller takes, checks that no holder or waiter of another kind is
 * there, and writes its own record all under the queue's guard, on the
 * fast path and as the head alike; so of two such callers the later
 * one always sees the earlier one's record (it is there for as long as
 * its owner holds), and a shared and a slot holder never hold together.  A caller that must wait
 * joins the queue and waits only for its nearest live predecessor that
 * it must let go first (every earlier entry; for a shared caller, every
 * earlier exclusive one), with a forked helper blocked in flock(LOCK_SH)
 * on that entry.  With none left it is the head: its helper blocks in
 * flock on the lock file's own open file description (so the lock is
 * ours when the kernel grants it), or, for slots, waits for a slot file
 * to be closed (below).  It leaves the queue
 * only once it holds what it waited for, so a release wakes one waiter,
 * whatever the length of the queue.
 *
 * A waiter sleeps on its doorbell, a FIFO beside its entry: its helper
 * rings it once it has what it blocked on, and a newer --supersede caller
 * after writing its record into the entry.  (No inotify instance per
 * waiter: there are only 128 per user by default.)  The slots head's
 * helper waits instead on an inotify watch of the queue directory for a
 * slot file (sI) closed for writing; other files' events (joins, the
 * guard, doorbells) do not wake the head.  fsnotify reports a close
 * before the kernel drops the closing process's flocks, so a slot freed
 * by a killed holder may still look taken just after the event: the
 * head looks again 5, 50 and 500 ms later (a live holder unlocks before
 * it closes, and needs none of that), and every second for as long as
 * it is head, for the frees no event tells of (the lock file held
 * exclusively for a moment, a record that could not be opened).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "clock.h"
#include "local_int.h"
#include "lockfile.h"
#include "wait.h"

#define WAIT_RECHECKS	3	/* slot rechecks after a close: 5, 50, 500 ms */
#define WAIT_SLOW_MS	1000	/* and then, while head, every second */

struct local_waiter {
	struct lock_local	*ll;
	const struct lock_request *req;
	struct holder		*self;
	int			 fd;		/* lock file N */
	int			 how;		/* LOCK_EX or LOCK_SH on it */
	int			 nowait;
	struct local_queue	 q;
	unsigned int		 ahead;		/* live entries before ours */
	uint64_t		 wait_for;	/* the entry we wait for; 0: the
						   key itself (we are head) */
	int			 ifd;		/* slots head: inotify on the
						   queue dir, or -1 */
	int			 rechecks;	/* slots: left after a close */
	pid_t			 pid;		/* the helper, or -1 */
	uint64_t		 target;	/* what it waits for */
	int			 pfd;		/* that entry, or -1 */
	int			 slotfd;	/* slots: the slot we took */
	unsigned int		 slot;
	int			 recfd;		/* the record we wrote (as
						   lock_local's), or -1 */
	char			 recname[32];
	struct lock_state	 st;		/* for the notice */
};

/* Records a failed system call as the reason; WAIT_FAILED. */
static enum wait_try
wait_fail(struct local_waiter *lw, const char *what)
{
	lock_seterr(&lw->ll->base, lock_errno_class(errno, LOCK_EINTERNAL),
	    "%s/%s: %s: %s", lw->ll->dir, lw->ll->name, what, strerror(errno));
	return WAIT_FAILED;
}

/* "--slots 3", or (theirs) "shared locks" / (ours) "a shared lock",
   or "an exclusive lock". */
static void
wait_kind(const struct holder *h, int theirs, char *buf, size_t len)
{
	if (h->slots > 0)
		snprintf(buf, len, "--slots %u", h->slots);
	else if (h->shared)
		snprintf(buf, len, "%s", theirs ? "shared locks" :
		    "a shared lock");
	else
		snprintf(buf, len, "an exclusive lock");
}

/* -1 (LOCK_EUSAGE) if a holder or waiter of the key uses a kind of lock
   ours cannot meet (a different --slots), else 0. */
static int
wait_mismatch(struct local_waiter *lw)
{
	struct lock_state st;
	struct holder *h = NULL;
	char theirs[48], ours[48];
	size_t i;
	int rc = 0;

	if (local_state(lw->ll, lw->ll->name, &st) == -1)
		return -1;
	for (i = 0; h == NULL && i < st.nholders + st.nwaiters; i++) {
		h = i < st.nholders ? &st.holders[i] :
		    &st.waiters[i - st.nholders];
		if (h->pid == 0 || h->slots == lw->self->slots)
			h = NULL;
	}
	if (h != NULL) {
		wait_kind(h, 1, theirs, sizeof(theirs));
		wait_kind(lw->self, 0, ours, sizeof(ours));
		rc = lock_seterr(&lw->ll->base, LOCK_EUSAGE, "%s is used with "
		    "%s; this caller asked for %s", lw->req->key, theirs, ours);
	}
	lock_state_free(&st);
	return rc;
}

/* Takes a free slot file with LOCK_NB; TAKEN, BUSY or FAILED.  Slot
   files are tried read-only, so trying closes none for writing. */
static enum wait_try
wait_slot(struct local_waiter *lw)
{
	char name[16];
	unsigned int i;
	int fd;

	for (i = 0; i < lw->req->count; i++) {
		snprintf(name, sizeof(name), "s%u", i);
		fd = openat(lw->q.qfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1)
			return wait_fail(lw, name);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			lw->slotfd = fd;
			lw->slot = i;
			return WAIT_TAKEN;
		}
		close(fd);
		if (errno != EWOULDBLOCK)
			return wait_fail(lw, name);
	}
	return WAIT_BUSY;
}

/* Takes what the request wants without blocking; a wait_try. */
static enum wait_try
wait_take(struct local_waiter *lw)
{
	enum wait_try t;

	if (flock(lw->fd, lw->how | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? WAIT_BUSY :
		    wait_fail(lw, "flock");
	if (lw->req->mode != LOCK_SLOTS)
		return WAIT_TAKEN;
	if ((t = wait_slot(lw)) != WAIT_TAKEN)
		flock(lw->fd, LOCK_UN);
	return t;
}

/* Counts the fence and writes self's record: hFENCE for a shared
   holder, its slot file for a slot holder; 0 or -1 (reason recorded).
   Under the guard. */
static int
wait_record(struct local_waiter *lw)
{
	struct holder *self = lw->self;
	char buf[HOLDER_SEALED_MAX];
	size_t len;

	self->slot = lw->slot;
	self->since_ms = clock_wall_ms();
	if ((self->fence = local_count(lw->fd, lw->req->key, NULL)) == 0)
		return wait_fail(lw, "cannot update the fence"), -1;
	len = holder_seal(self, buf);
	if (lw->req->mode == LOCK_SHARED) {
		snprintf(lw->recname, sizeof(lw->recname), "h%020llu",
		    (unsigned long long)self->fence);
		lw->recfd = local_queue_create(lw->q.qfd, lw->recname, buf,
		    len);
	} else {
		snprintf(lw->recname, sizeof(lw->recname), "s%u", lw->slot);
		lw->recfd = openat(lw->q.qfd, lw->recname, O_RDWR |
		    O_NOFOLLOW | O_CLOEXEC);
		if (lw->recfd != -1 &&
		    pwrite(lw->recfd, buf, len, 0) != (ssize_t)len)
			return wait_fail(lw, "cannot record the holder"), -1;
	}
	if (lw->recfd == -1)
		return wait_fail(lw, "cannot record the holder"), -1;
	return 0;
}

/* Takes what a shared or slots request wants without blocking (on the
   fast path, only if nobody is queued), checks the kind of the other
   holders and writes our record, all under the queue's guard; a
   wait_try. */
static enum wait_try
wait_claim(struct local_waiter *lw, int fast)
{
	enum wait_try t = WAIT_BUSY;
	int gfd, queued = 0;

	if ((gfd = local_queue_guard(lw->q.qfd)) == -1)
		return wait_fail(lw, "queue");
	if (fast && (queued = local_queue_peek(lw->q.qfd, 1)) == -1)
		t = wait_fail(lw, "queue");
	else if (!queued)
		t = wait_take(lw);
	if (t == WAIT_TAKEN && (wait_mismatch(lw) == -1 ||
	    wait_record(lw) == -1)) {
		t = WAIT_FAILED;
		flock(lw->fd, LOCK_UN);
		if (lw->slotfd != -1)
			close(lw->slotfd);
		lw->slotfd = -1;
	}
	close(gfd);
	return t;
}

/* The first try, before joining: the key if it is free and nobody is
   queued; a wait_try. */
static enum wait_try
wait_fast(struct local_waiter *lw)
{
	struct lock_local *ll = lw->ll;
	enum wait_try t;
	int queued;

	if (lw->req->mode != LOCK_EXCLUSIVE) {
		if ((lw->q.qfd = local_queue_open(ll, ll->name, 1)) == -1)
			return wait_fail(lw, "queue");
		return wait_claim(lw, 1);
	}
	if ((t = wait_take(lw)) != WAIT_TAKEN)
		return t;
	lw->q.qfd = local_queue_open(ll, ll->name, 0);
	if (lw->q.qfd == -1 && errno == ENOENT)
		return WAIT_TAKEN;	/* no queue was ever needed */
	if (lw->q.qfd == -1 || (queued = local_queue_peek(lw->q.qfd, 0)) == -1)
		return wait_fail(lw, "queue");
	if (queued)
		flock(lw->fd, LOCK_UN);
	return queued ? WAIT_BUSY : WAIT_TAKEN;
}

/* Joins the queue; 0, or -1 (reason recorded). */
static int
wait_join(struct local_waiter *lw)
{
	struct holder rec = *lw->self;

	rec.since_ms = clock_wall_ms();
	if (lw->q.qfd == -1 &&
	    (lw->q.qfd = local_queue_open(lw->ll, lw->ll->name, 1)) == -1)
		return wait_fail(lw, "queue"), -1;
	if (local_queue_join(&lw->q, &rec) == -1)
		return wait_fail(lw, "joining the queue"), -1;
	if (lw->req->supersede)
		local_queue_supersede(&lw->q, &rec);
	return 0;
}

/* Finds what we wait for among the live entries before ours; 0 or -1. */
static int
wait_scan(struct local_waiter *lw)
{
	struct local_qent *v = NULL;
	int n, i;

	if ((n = local_queue_ahead(&lw->q, &v)) == -1)
		return wait_fail(lw, "queue"), -1;
	lw->ahead = (unsigned int)n;
	lw->wait_for = 0;
	for (i = n - 1; i >= 0 && lw->wait_for == 0; i--)
		if (lw->req->mode != LOCK_SHARED || !v[i].h.shared)
			lw->wait_for = v[i].ticket;
	free(v);
	return 0;
}

/* The slots head watches the queue directory for closed slot files;
   0 or -1. */
static int
wait_dirwatch(struct local_waiter *lw)
{
	char proc[64];

	if (lw->ifd != -1)
		return 0;
	if ((lw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return wait_fail(lw, "inotify"), -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", lw->q.qfd);
	if (inotify_add_watch(lw->ifd, proc, IN_CLOSE_WRITE) == -1)
		return wait_fail(lw, "inotify"), -1;
	return 0;
}

/* wait_ops: the fast path until we must queue, then a look at the queue
   each time our doorbell rings. */
static enum wait_try
wait_try(void *arg, int64_t *retry_at)
{
	static const int64_t after[WAIT_RECHECKS] = { 500, 50, 5 };
	struct local_waiter *lw = arg;
	enum wait_try t;

	*retry_at = CLOCK_FOREVER;
	if (lw->q.ticket == 0) {
		if ((t = wait_fast(lw)) != WAIT_BUSY)
			return t;
		/* Checked before joining too: a caller that may never get
		   in must not queue. */
		if (wait_mismatch(lw) == -1)
			return WAIT_FAILED;
		if (lw->nowait)
			return WAIT_BUSY;
		if (wait_join(lw) == -1)
			return WAIT_FAILED;
	}
	if (local_queue_superseded(&lw->q, &lw->ll->base.other))
		return WAIT_SUPERSEDED;
	if (wait_scan(lw) == -1)
		return WAIT_FAILED;
	if (lw->wait_for != 0)
		return WAIT_BUSY;
	if (lw->req->mode == LOCK_SLOTS && wait_dirwatch(lw) == -1)
		return WAIT_FAILED;
	if (lw->req->mode == LOCK_EXCLUSIVE)
		return wait_take(lw);
	t = wait_claim(lw, 0);
	if (t == WAIT_BUSY && lw->req->mode == LOCK_SLOTS)
		*retry_at = clock_mono_ms() + (lw->rechecks > 0 ?
		    after[--lw->rechecks] : WAIT_SLOW_MS);
	return t;
}

/* Stops the helper, if any, and lets go of what it waited on. */
static void
wait_stop(struct local_waiter *lw)
{
	if (lw->pid != -1) {
		kill(lw->pid, SIGKILL);
		waitpid(lw->pid, NULL, 0);
		lw->pid = -1;
	}
	if (lw->pfd != -1)
		close(lw->pfd);
	lw->pfd = -1;
}

/* In the slots head's helper: returns once inotify ifd tells of a slot
   file closed for writing (or of lost events); 0 or -1. */
static int
wait_slot_closed(int ifd)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	struct pollfd pfd = { ifd, POLLIN, 0 };
	ssize_t n, off;

	for (;;) {
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return -1;
		if ((n = read(ifd, buf, sizeof(buf))) == -1 &&
		    errno != EAGAIN && errno != EINTR)
			return -1;
		for (off = 0; off < n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if ((ev->mask & IN_Q_OVERFLOW) ||
			    (ev->len > 0 && ev->name[0] == 's'))
				return 0;
		}
	}
}

/* Starts a helper that rings our doorbell once it has flock(how) on
   fd, or (how 0) once inotify fd tells of a slot file closed; 0, or -1
   (reason recorded). */
static int
wait_helper(struct local_waiter *lw, int fd, int how)
{
	pid_t parent = getpid();
	int rc;

	if ((lw->pid = fork()) == -1)
		return wait_fail(lw, "fork"), -1;
	if (lw->pid == 0) {
		/* Never outlive the waiter: an orphan would lock for no one. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (how == 0)
			rc = wait_slot_closed(fd);
		else
			while ((rc = flock(fd, how)) == -1 && errno == EINTR)
				;
		if (rc == -1)
			_exit(1);
		local_queue_ring(lw->q.ffd, LOCAL_RING_HELPER);
		_exit(0);
	}
	return 0;
}

/* wait_ops: a helper for what we wait for; our doorbell. */
static int
wait_watch(void *arg, int64_t *retry_at)
{
	struct local_waiter *lw = arg;
	char name[24];

	if (lw->pid != -1 && lw->target != lw->wait_for)
		wait_stop(lw);
	if (lw->pid != -1)
		return lw->q.ffd;
	lw->target = lw->wait_for;
	if (lw->target == 0 && lw->req->mode == LOCK_SLOTS)
		return wait_helper(lw, lw->ifd, 0) == -1 ? -2 : lw->q.ffd;
	if (lw->target == 0)
		return wait_helper(lw, lw->fd, lw->how) == -1 ? -2 :
		    lw->q.ffd;
	snprintf(name, sizeof(name), "%020llu",
	    (unsigned long long)lw->target);
	lw->pfd = openat(lw->q.qfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (lw->pfd == -1) {
		*retry_at = 0;		/* gone already: look again */
		return lw->q.ffd;
	}
	return wait_helper(lw, lw->pfd, LOCK_SH) == -1 ? -2 : lw->q.ffd;
}

/* wait_ops: drains the doorbell; reaps a helper that is done. */
static int
wait_woken(void *arg)
{
	struct local_waiter *lw = arg;
	char buf[64];
	ssize_t n;
	int st, done = 0;

	while ((n = read(lw->q.ffd, buf, sizeof(buf))) > 0)
		done |= memchr(buf, LOCAL_RING_HELPER, (size_t)n) != NULL;
	/* The slots head's only helper watches for closed slot files. */
	if (done && lw->ifd != -1)
		lw->rechecks = WAIT_RECHECKS;
	/* A helper that rang is about to exit: reap it, so that the next
	   wait has a helper of its own. */
	if (lw->pid != -1 && waitpid(lw->pid, &st, done ? 0 : WNOHANG) ==
	    lw->pid) {
		lw->pid = -1;
		if (lw->pfd != -1)
			close(lw->pfd);
		lw->pfd = -1;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return lock_seterr(&lw->ll->base, LOCK_EINTERNAL,
			    "%s/%s: flock: waiting helper failed", lw->ll->dir,
			    lw->ll->name);
	}
	return 0;
}

/* wait_ops: the oldest holder, if there is one. */
static const struct holder *
wait_holder(void *arg)
{
	struct local_waiter *lw = arg;

	lock_state_free(&lw->st);
	if (local_state(lw->ll, lw->ll->name, &lw->st) == -1 ||
	    lw->st.nholders == 0)
		return NULL;
	return &lw->st.holders[0];
}

/* wait_ops: our place in the queue. */
static unsigned int
wait_place(void *arg)
{
	struct local_waiter *lw = arg;

	return lw->q.ticket != 0 ? lw->ahead + 1 : 0;
}

static const struct wait_ops local_wait_ops = {
	wait_try, wait_watch, wait_woken, wait_holder, wait_place
};

/* Hands what lw took, and the record it wrote, to ll. */
static void
wait_keep(struct local_waiter *lw)
{
	struct lock_local *ll = lw->ll;

	ll->lockfd = lw->fd;
	ll->slotfd = lw->slotfd;
	ll->qfd = lw->q.qfd;
	ll->recfd = lw->recfd;
	memcpy(ll->recname, lw->recname, sizeof(ll->recname));
	lw->fd = lw->slotfd = lw->q.qfd = lw->recfd = -1;
}

enum lock_result
local_wait(struct lock_local *ll, const struct lock_request *req,
    struct lock_wait *w, struct holder *self)
{
	struct local_waiter lw = { .ll = ll, .req = req, .self = self,
	    .fd = -1, .ifd = -1, .pid = -1, .pfd = -1, .slotfd = -1,
	    .recfd = -1,
	    .q = { .qfd = -1, .efd = -1, .ffd = -1 } };
	enum lock_result rc;

	lw.how = req->mode == LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	lw.nowait = w->deadline <= clock_mono_ms();
	lw.fd = openat(ll->dirfd, ll->name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (lw.fd == -1)
		return lock_seterr(&ll->base, lock_errno_class(errno,
		    LOCK_EUNAVAIL), "%s/%s: %s", ll->dir, ll->name,
		    strerror(errno)), LOCK_ERROR;
	rc = wait_for(&ll->base, w, &local_wait_ops, &lw);
	/* The helper may have locked just now: fd is closed below. */
	wait_stop(&lw);
	/* Leave the queue only once we hold the key, or gave up. */
	local_queue_leave(&lw.q);
	ll->mode = req->mode;
	if (rc == LOCK_ACQUIRED)
		wait_keep(&lw);
	if (lw.ifd != -1)
		close(lw.ifd);
	if (lw.slotfd != -1)
		close(lw.slotfd);
	if (lw.recfd != -1)
		close(lw.recfd);
	if (lw.q.qfd != -1)
		close(lw.q.qfd);
	if (lw.fd != -1)
		close(lw.fd);
	lock_state_free(&lw.st);
	return rc;
}

/*
 * wait: try, then sleep in poll(2) on the backend's fd and the signal
 * fd until something can have changed, and try again.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "clock.h"
#include "wait.h"

enum wait_wake {
	WAKE_TIME,		/* a time ran out */
	WAKE_FD,		/* the backend's fd is readable */
	WAKE_SIGNAL,
	WAKE_ERROR,
};

/* Sleeps on fd and w->sigfd until until (monotonic ms). */
static enum wait_wake
wait_sleep(struct lock *l, const struct lock_wait *w, int fd, int64_t until)
{
	struct pollfd pfd[2];
	int n = 0, sig = -1;

	if (fd >= 0)
		pfd[n++] = (struct pollfd){ fd, POLLIN, 0 };
	if (w->sigfd >= 0) {
		sig = n;
		pfd[n++] = (struct pollfd){ w->sigfd, POLLIN, 0 };
	}
	if (poll(pfd, n, clock_poll_timeout(until)) == -1) {
		if (errno == EINTR)
			return WAKE_TIME;
		lock_seterr(l, LOCK_EINTERNAL, "poll: %s", strerror(errno));
		return WAKE_ERROR;
	}
	if (sig >= 0 && pfd[sig].revents != 0)
		return WAKE_SIGNAL;
	if (fd >= 0 && pfd[0].revents != 0)
		return WAKE_FD;
	return WAKE_TIME;
}

/* The earliest of the times the loop must wake at. */
static int64_t
wait_until(const struct lock_wait *w, int notified, int64_t retry_at)
{
	int64_t until = w->deadline;

	if (!notified && w->notify_after < until)
		until = w->notify_after;
	return retry_at < until ? retry_at : until;
}

enum lock_result
wait_for(struct lock *l, struct lock_wait *w, const struct wait_ops *ops,
    void *arg)
{
	int64_t retry_at = CLOCK_FOREVER, now;
	enum wait_try t = WAIT_BUSY;
	int notified = w->notify == NULL, fd, again = 1;

	for (;;) {
		if (again)
			t = ops->try(arg, &retry_at);
		if (t == WAIT_TAKEN)
			return LOCK_ACQUIRED;
		if (t == WAIT_FAILED)
			return LOCK_ERROR;
		if (t == WAIT_SUPERSEDED)
			return LOCK_SUPERSEDED;
		now = clock_mono_ms();
		if (now >= w->deadline)
			return t == WAIT_DOWN ? LOCK_ERROR : LOCK_BUSY;
		if (!notified && now >= w->notify_after) {
			notified = 1;
			w->notify(w->arg, ops->holder(arg), ops->place ==
			    NULL ? 0 : ops->place(arg));
		}
		if ((fd = ops->watch(arg, &retry_at)) == -2)
			return LOCK_ERROR;
		switch (wait_sleep(l, w, fd, wait_until(w, notified,
		    retry_at))) {
		case WAKE_SIGNAL:
			return LOCK_INTERRUPTED;
		case WAKE_ERROR:
			return LOCK_ERROR;
		case WAKE_FD:
			if (ops->woken(arg) == -1)
				return LOCK_ERROR;
			again = 1;
			break;
		case WAKE_TIME:
			again = clock_mono_ms() >= retry_at;
			break;
		}
	}
}

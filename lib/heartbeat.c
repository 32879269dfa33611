/*
 * heartbeat: the forked process that keeps a Redis lease alive.
 *
 * Invariants:
 * - it renews only a token it still owns (compare-and-PEXPIRE), over a
 *   connection of its own, never the parent's socket;
 * - the lease counts as valid until the send time of the last successful
 *   renewal (or of the acquire) plus ttl minus a drift allowance, on
 *   CLOCK_BOOTTIME, which keeps counting through a suspend (the server's
 *   TTL does too); a failed renewal is retried until then, and only
 *   then, or on a token mismatch, is the lease reported lost;
 * - it never calls getaddrinfo(3), which has no deadline: it connects to
 *   the addresses keylock resolved before the fork (of the cluster node
 *   the acquire ended on; a node that a redirect names later is an
 *   address, which getaddrinfo(3) parses without asking DNS, unless the
 *   cluster announces host names);
 * - it never outlives keylock: EOF on the stop channel (also when keylock
 *   is SIGKILLed) ends it, and PR_SET_PDEATHSIG backs that up;
 * - keylock kills it and waits for it before releasing, so it sends no
 *   renewal afterwards (one sent before cannot match a released lease);
 * - each confirmed renewal is reported with its deadline, so keylock
 *   can end the job itself when the reports stop;
 * - it ignores the job-control and termination signals sent to the
 *   process group, and never prints;
 * - through sentinels, it renews on the master they name: before each
 *   renewal it asks them, and a connection left on a demoted (or
 *   split-off) master is dropped, so the renewal reaches the new master,
 *   where it succeeds only if replication carried our token over;
 * - with min_replicas, a renewal counts only once WAIT says that many
 *   replicas have it; until then it is a failed renewal, retried until
 *   the validity deadline like any other.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "clock.h"
#include "heartbeat.h"
#include "redis_int.h"

#define HB_STOP_FD	3
#define HB_LOST_FD	4		/* the report pipe */

/* A report: 'R' and the new validity deadline, or 'L' (lost). */
struct hb_report {
	char	kind;
	char	valid[8];	/* int64_t, heartbeat clock */
};

/* KEYS: lock [extra].  ARGV: token, ttl_ms.  1 renewed, 0 not ours. */
static struct redis_script hb_renew_script = {
	RD_LUA_OURS
	"if not ours then return 0 end\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"if KEYS[2] then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end\n"
	"return 1\n", ""
};

/* CLOCK_BOOTTIME milliseconds, the clock of heartbeat_conf.valid_from. */
int64_t
heartbeat_clock_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until when a lease sent at from is ours: ttl less 1% + 2ms of drift. */
int64_t
heartbeat_valid_until(int64_t from, int64_t ttl_ms)
{
	return from + ttl_ms - (ttl_ms / 100 + 2);
}

/* Milliseconds from now to deadline (heartbeat clock), for poll(2). */
static int
hb_timeout(int64_t deadline)
{
	int64_t left = deadline - heartbeat_clock_ms();

	if (left <= 0)
		return 0;
	return left < INT_MAX ? (int)left : INT_MAX;
}

/* Sets up a heartbeat that is not running. */
void
heartbeat_init(struct heartbeat *hb)
{
	hb->pid = -1;
	hb->stop_w = -1;
	hb->lost_r = -1;
}

/* Nonzero for the signals the heartbeat ignores (group-directed ones). */
static int
hb_ignored(int sig)
{
	switch (sig) {
	case SIGHUP: case SIGINT: case SIGQUIT: case SIGTERM: case SIGPIPE:
	case SIGTSTP: case SIGTTIN: case SIGTTOU: case SIGUSR1: case SIGUSR2:
	case SIGALRM: case SIGXFSZ: case SIGVTALRM: case SIGPROF:
		return 1;
	}
	return 0;
}

/* Child side: signals, stdio, and only the two pipes at fds 3 and 4. */
static void
hb_child_setup(int stop_r, int lost_w, pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	int fd, sig, s, l;

	/* Never outlive keylock, not even for a moment after its death. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = hb_ignored(sig) ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	s = fcntl(stop_r, F_DUPFD_CLOEXEC, HB_LOST_FD + 1);
	l = fcntl(lost_w, F_DUPFD_CLOEXEC, HB_LOST_FD + 1);
	if (s == -1 || l == -1 || dup2(s, HB_STOP_FD) == -1 ||
	    dup2(l, HB_LOST_FD) == -1)
		_exit(1);
	if (close_range(HB_LOST_FD + 1, ~0U, 0) == -1)
		for (fd = HB_LOST_FD + 1; fd < 4096; fd++)
			close(fd);
}

/* Nonzero if the stop channel has something to say right now. */
static int
hb_stop_pending(int timeout)
{
	struct pollfd pfd;
	int n;

	pfd.fd = HB_STOP_FD;
	pfd.events = POLLIN;
	do
		n = poll(&pfd, 1, timeout);
	while (n == -1 && errno == EINTR);
	return n != 0;
}

/* Waits, until shortly before deadline, for n replicas to have the
   renewal just made on rc; 0, or -1 (too few, or rc failed). */
static int
hb_replicated(struct redis_conn *rc, int n, int64_t deadline)
{
	int64_t left = deadline - clock_mono_ms();

	/* A quarter of what is left is for the reply to come back. */
	return redis_replicas_wait(rc, n, left - left / 4, deadline) >= n ?
	    0 : -1;
}

/* One renewal: 1 renewed, 0 not ours, -1 failed (retry). */
static int
hb_renew(struct redis_route *rt, struct redis_conn *rc,
    const struct heartbeat_conf *c, int64_t deadline)
{
	const char *argv[5];
	struct redis_call q = { NULL, 0, 0, argv, NULL };
	char ttl[24];
	redisReply *r;
	int n = 0, rv = -1;

	/* A failover may have left us on a server that still takes
	   writes: renew where the sentinels point now.  Sentinels that do
	   not answer get half the time, so they cannot cost a lease the
	   master would renew. */
	if (redis_sentinel_moved(rc, deadline - (deadline -
	    clock_mono_ms()) / 2))
		redis_conn_close(rc);
	/* The server may have closed an idle connection (its "timeout"). */
	if (redis_route_connect(rt, rc, deadline) == -1)
		return -1;
	snprintf(ttl, sizeof(ttl), "%lld", (long long)c->ttl_ms);
	argv[n++] = c->lock_key;
	if (c->aux_key != NULL)
		argv[n++] = c->aux_key;
	if (c->extra_key != NULL)
		argv[n++] = c->extra_key;
	argv[n++] = c->token;
	argv[n++] = ttl;
	q.script = c->script != NULL ? c->script : &hb_renew_script;
	q.nkeys = n - 2;
	q.argc = n;
	r = redis_route_call(rt, rc, &q, deadline);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		rv = r->integer == 1;
	freeReplyObject(r);
	if (rv == 1 && c->min_replicas > 0 && hb_replicated(rc, c->min_replicas,
	    deadline) == -1)
		rv = -1;
	return rv;
}

/* Tells keylock what happened; a report that does not fit in the pipe
   right now is dropped (keylock reads them while the command runs). */
static void
hb_report(char kind, int64_t valid)
{
	struct hb_report rep;

	rep.kind = kind;
	memcpy(rep.valid, &valid, sizeof(rep.valid));
	(void)!write(HB_LOST_FD, &rep, sizeof(rep));
}

/* The heartbeat loop; returns when the lease is lost or on stop. */
static void __attribute__((noreturn))
hb_loop(const struct heartbeat_conf *c)
{
	struct redis_conn rc;
	struct redis_addr addr, *a;
	struct redis_route rt;
	const struct redis_url *url;
	int64_t ttl = c->ttl_ms, valid, next, now, retry, cmdto;
	int r;

	/* Connect to what keylock resolved; resolve only if it never did. */
	if (c->addr != NULL)
		addr = *c->addr;
	else
		memset(&addr, 0, sizeof(addr));
	redis_route_init(&rt, c->url, &addr);
	if (c->route != NULL)
		rt = *c->route;		/* this process's copy */
	rt.cluster = rt.cluster == 1;	/* renewing needs no more to know */
	redis_route_here(&rt, &url, &a);
	redis_conn_init(&rc, url, a);
	/* Retries come every ttl/10 (at most 1s); each try may take the
	   connect timeout, but never past the validity deadline. */
	retry = ttl / 10 < 1000 ? ttl / 10 : 1000;
	if (retry < 1)
		retry = 1;
	cmdto = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 2000;
	valid = heartbeat_valid_until(c->valid_from, ttl);
	next = c->valid_from + ttl / 3;
	for (;;) {
		if (hb_stop_pending(hb_timeout(next < valid ? next : valid)))
			_exit(0);
		now = heartbeat_clock_ms();
		if (now >= valid)
			break;
		if (now < next)
			continue;
		/* Connection deadlines are monotonic: convert the budget. */
		r = hb_renew(&rt, &rc, c, clock_mono_ms() +
		    (cmdto < valid - now ? cmdto : valid - now));
		if (r == 0)
			break;
		if (r == 1) {
			valid = heartbeat_valid_until(now, ttl);
			next = now + ttl / 3;
			hb_report('R', valid);
		} else {
			redis_conn_close(&rc);
			next = heartbeat_clock_ms() + retry;
		}
	}
	/* Lost: tell keylock, unless it already told us to stop. */
	if (!hb_stop_pending(0))
		hb_report('L', valid);
	_exit(0);
}

/* Forks the heartbeat; 0, or -1 with errno. */
int
heartbeat_start(struct heartbeat *hb, const struct heartbeat_conf *c)
{
	sigset_t all, old;
	pid_t parent = getpid(), pid;
	int sp[2] = { -1, -1 }, lp[2] = { -1, -1 }, error;

	if (pipe2(sp, O_CLOEXEC) == -1 ||
	    pipe2(lp, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		hb_child_setup(sp[0], lp[1], parent);
		hb_loop(c);
	}
	error = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		errno = error;
		goto fail;
	}
	close(sp[0]);
	close(lp[1]);
	hb->pid = pid;
	hb->stop_w = sp[1];
	hb->valid = heartbeat_valid_until(c->valid_from, c->ttl_ms);
	hb->lost_r = lp[0];
	return 0;
fail:
	error = errno;
	if (sp[0] != -1) {
		close(sp[0]);
		close(sp[1]);
	}
	if (lp[0] != -1) {
		close(lp[0]);
		close(lp[1]);
	}
	errno = error;
	return -1;
}

enum heartbeat_state
heartbeat_check(struct heartbeat *hb, int64_t *left)
{
	struct hb_report rep[32];
	ssize_t n;
	int64_t v;
	size_t i;

	while ((n = read(hb->lost_r, rep, sizeof(rep))) > 0)
		for (i = 0; i < (size_t)n / sizeof(rep[0]); i++) {
			if (rep[i].kind != 'R')
				return *left = 0, HEARTBEAT_LOST;
			memcpy(&v, rep[i].valid, sizeof(v));
			if (v > hb->valid)
				hb->valid = v;
		}
	if (n == 0)
		return *left = 0, HEARTBEAT_GONE;
	*left = hb->valid - heartbeat_clock_ms();
	return *left > 0 ? HEARTBEAT_OK : HEARTBEAT_LATE;
}

/* SIGKILL, not only EOF: a stalled heartbeat must not hold up the
   release. */
void
heartbeat_stop(struct heartbeat *hb)
{
	if (hb->stop_w != -1)
		close(hb->stop_w);
	hb->stop_w = -1;
	if (hb->pid > 0) {
		kill(hb->pid, SIGKILL);
		while (waitpid(hb->pid, NULL, 0) == -1 && errno == EINTR)
			continue;
	}
	hb->pid = -1;
}

/* Closes lost_r (after heartbeat_stop()). */
void
heartbeat_close(struct heartbeat *hb)
{
	heartbeat_stop(hb);
	if (hb->lost_r != -1)
		close(hb->lost_r);
	hb->lost_r = -1;
}

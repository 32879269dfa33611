/*
 * keylock acquire KEY, keylock renew KEY: locks that outlive the command
 * that took them.
 *
 * acquire starts a keeper, a process in a session of its own that keeps
 * no descriptor of the caller's, takes the lock (waiting as run does),
 * keeps it (renewing a Redis lease), and lets go at the first of:
 * keylock release with its token (SIGTERM), --hold after the
 * acquisition, the death of --owner.  The caller waits for the keeper's
 * reports on a pipe, prints its notices, and on success the lines
 * KEYLOCK_KEY=, KEYLOCK_TOKEN=, KEYLOCK_FENCE= that a shell can eval.
 * Until it has reported, the keeper watches the caller: a caller that
 * dies (^C) takes the unfinished acquisition with it.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "clock.h"
#include "cmd.h"
#include "exits.h"

/* What the keeper tells the caller; one write each, under PIPE_BUF. */
struct report {
	char		kind;		/* 'W' a notice, 'R' the result */
	int		code;		/* 'R': the exit code */
	uint64_t	fence;
	unsigned int	slots, slot;	/* with --slots */
	char		token[HOLDER_TOKEN_LEN + 1];
	char		msg[1024];	/* a line for stderr, or "" */
};

_Static_assert(sizeof(struct report) <= PIPE_BUF, "reports must be atomic");

struct keeper {
	struct options	 o;
	struct lock	*l;
	const char	*key;
	char		 pkey[256];
	int		 out;		/* the report pipe, or -1 */
	int		 ack;		/* the caller's word that it printed
					   the result, or -1 */
	int		 caller;	/* pidfd of the caller, or -1 */
	int		 owner;		/* pidfd of --owner, or -1 */
	int64_t		 notify_after;
};

/* Sends a report to the caller, if it still listens; 0, or -1 if it
   could not be sent. */
static int
keeper_report(struct keeper *k, char kind, int code, const struct holder *h,
    const char *msg)
{
	struct report r;

	if (k->out == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.code = code;
	if (h != NULL) {
		r.fence = h->fence;
		r.slots = h->slots;
		r.slot = h->slot;
		memcpy(r.token, h->token, sizeof(r.token));
	}
	snprintf(r.msg, sizeof(r.msg), "%s", msg != NULL ? msg : "");
	return write(k->out, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : -1;
}

/* The waiting notice, handed to the caller. */
static void
keeper_notify(void *arg, const struct holder *h, unsigned int place)
{
	struct keeper *k = arg;
	char msg[1024];

	notice_waiting(msg, sizeof(msg), k->pkey, h, place, 0);
	(void)keeper_report(k, 'W', 0, NULL, msg);
}

/* Makes the keeper hold nothing of the caller's: standard streams on
   /dev/null, and every descriptor it did not open itself (keylock opens
   all of its own close-on-exec) closed. */
static void
keeper_detach(void)
{
	long fd, max = sysconf(_SC_OPEN_MAX);
	int null, flags;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	/* Hold no directory busy (an unmount) for as long as --hold. */
	(void)!chdir("/");
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = STDERR_FILENO + 1; fd < max; fd++) {
		flags = fcntl((int)fd, F_GETFD);
		if (flags != -1 && !(flags & FD_CLOEXEC))
			close((int)fd);
	}
}

/* Takes the lock; 0 when held, else the report was sent. */
static int
keeper_take(struct keeper *k, struct holder *self)
{
	struct lock_request req;
	struct lock_wait w;
	struct lock_state st;
	char msg[1024];
	enum lock_result rc;

	w.deadline = k->o.wait_ms < 0 ? CLOCK_FOREVER :
	    clock_mono_ms() + k->o.wait_ms;
	w.sigfd = k->caller;
	w.notify = keeper_notify;
	w.arg = k;
	w.notify_after = k->notify_after;
	options_request(&k->o, k->key, &req);
	holder_self(self);
	req.until_ms = clock_wall_ms() + k->o.hold_ms;
	switch ((rc = k->l->be->acquire(k->l, &req, &w, self))) {
	case LOCK_ACQUIRED:
		return 0;
	case LOCK_INTERRUPTED:
		return -1;		/* the caller is gone */
	case LOCK_COOLING:
		notice_cooling(msg, sizeof(msg), k->pkey, &k->l->cooldown);
		break;
	case LOCK_SUPERSEDED:
		notice_superseded(msg, sizeof(msg), k->pkey, &k->l->other);
		break;
	case LOCK_BUSY:
		if (k->l->be->status(k->l, k->key, &st) == -1)
			st.nholders = 0;
		notice_busy(msg, sizeof(msg), k->pkey, st.nholders > 0 ?
		    &st.holders[0] : NULL, k->o.wait_ms);
		lock_state_free(&st);
		break;
	case LOCK_ERROR:
		snprintf(msg, sizeof(msg), "%s: %s", k->pkey,
		    lock_error(k->l));
		(void)keeper_report(k, 'R', options_exit_code(k->l), NULL, msg);
		return -1;
	}
	(void)keeper_report(k, 'R', k->o.conflict_code, NULL,
	    k->o.quiet ? "" : msg);
	return -1;
}

/* Holds the lock until told to let go, the hold ends, the owner dies
   or the lease is lost; returns whether it ended as asked (a release). */
static int
keeper_hold(struct keeper *k, int sigfd)
{
	struct lock_lease lease;
	struct pollfd pfd[3];
	int64_t until = clock_mono_ms() + k->o.hold_ms;

	if (k->l->be->keepalive(k->l, &lease) == -1)
		return 0;
	for (;;) {
		pfd[0] = (struct pollfd){ sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ k->owner, POLLIN, 0 };
		pfd[2] = (struct pollfd){ lease.fd, POLLIN, 0 };
		if (poll(pfd, 3, clock_poll_timeout(lease.check_at < until ?
		    lease.check_at : until)) == -1 && errno != EINTR)
			return 0;
		if (pfd[0].revents)
			return 1;
		if (pfd[1].revents || clock_mono_ms() >= until)
			return 0;
		if ((pfd[2].revents || clock_mono_ms() >= lease.check_at) &&
		    k->l->be->lease_check(k->l, &lease) == -1)
			return 0;
	}
}

/* Waits for the caller's word that it printed the result: 1, or 0 when
   it ended or failed without it. */
static int
keeper_acked(struct keeper *k)
{
	char c;
	ssize_t n;

	while ((n = read(k->ack, &c, 1)) == -1 && errno == EINTR)
		;
	return n == 1 && c == 'A';
}

/* The keeper: takes the lock, reports, holds it, lets go; never
   returns. */
static void __attribute__((noreturn))
keeper_main(struct keeper *k)
{
	struct holder self;
	sigset_t set;
	int sigfd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	keeper_detach();
	if (keeper_take(k, &self) == -1)
		_exit(0);
	/* Until the caller said it printed the token, the lock is only
	   ours: a caller that died or could not print takes it along. */
	if (keeper_report(k, 'R', 0, &self, NULL) == -1 ||
	    !keeper_acked(k)) {
		k->l->be->release(k->l, 0);
		_exit(0);
	}
	close(k->out);
	close(k->ack);
	close(k->caller);
	k->out = k->ack = k->caller = -1;
	k->l->be->release(k->l, keeper_hold(k, sigfd));
	_exit(0);
}

/* Writes NAME=VALUE, single-quoting VALUE only when a shell needs it. */
static void
print_assign(const char *name, const char *value)
{
	const char *p;

	if (*value != '\0' && strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") ==
	    strlen(value)) {
		printf("%s=%s\n", name, value);
		return;
	}
	printf("%s='", name);
	for (p = value; *p != '\0'; p++)
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	puts("'");
}

/* The caller: prints the keeper's notices and its result, and tells
   the keeper once the result is out (ack); the exit code. */
static int
caller_wait(struct keeper *k, int in, int ack)
{
	struct report r;
	char fence[32];
	ssize_t n;

	for (;;) {
		n = read(in, &r, sizeof(r));
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r)) {
			warnx("%s: the keeper ended before it took the lock",
			    k->pkey);
			return EXIT_INTERNAL;
		}
		if (r.msg[0] != '\0' && (r.kind == 'R' || !k->o.quiet))
			warnx("%s", r.msg);
		if (r.kind == 'R')
			break;
	}
	if (r.code != 0)
		return r.code;
	snprintf(fence, sizeof(fence), "%" PRIu64, r.fence);
	print_assign("KEYLOCK_KEY", k->key);
	print_assign("KEYLOCK_TOKEN", r.token);
	print_assign("KEYLOCK_FENCE", fence);
	if (r.slots > 0) {
		snprintf(fence, sizeof(fence), "%u", r.slot);
		print_assign("KEYLOCK_SLOT", fence);
	}
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EXIT_IOERR, "%s: cannot print the token; the lock was let "
		    "go", k->pkey);
	if (write(ack, "A", 1) != 1)
		err(EXIT_INTERNAL, "%s: the keeper", k->pkey);
	return 0;
}

/* A pidfd for pid, or -1. */
static int
pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int
cmd_acquire(int argc, char **argv)
{
	struct keeper k;
	int p[2], a[2], code;
	pid_t pid;

	memset(&k, 0, sizeof(k));
	k.key = options_key(&k.o, argc, argv, options_parse(&k.o, argc, argv));
	text_printable(k.key, k.pkey, sizeof(k.pkey));
	k.owner = -1;
	if (k.o.owner > 0 && (k.owner = pidfd(k.o.owner)) == -1)
		usage_error("acquire: --owner %ld: %s", (long)k.o.owner,
		    strerror(errno));
	k.l = options_backend(&k.o);
	k.notify_after = k.o.verbose ? clock_mono_ms() : !k.o.quiet &&
	    isatty(STDERR_FILENO) ? clock_mono_ms() + 1000 : CLOCK_FOREVER;
	if ((k.caller = pidfd(getpid())) == -1 || pipe2(p, O_CLOEXEC) == -1 ||
	    pipe2(a, O_CLOEXEC) == -1)
		err(options_class_code(lock_errno_class(errno,
		    LOCK_EINTERNAL)), "acquire");
	if ((pid = fork()) == -1)
		err(options_class_code(lock_errno_class(errno,
		    LOCK_EINTERNAL)), "fork");
	if (pid == 0) {
		/* Not a child of the caller's job: a session of its own,
		   and not its leader, so it never gets a terminal. */
		close(p[0]);
		close(a[1]);
		if (setsid() == -1 || fork() != 0)
			_exit(0);
		k.out = p[1];
		k.ack = a[0];
		keeper_main(&k);
	}
	close(p[1]);
	close(a[0]);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	code = caller_wait(&k, p[0], a[1]);
	/* Ours holds nothing: the keeper took the lock with its copy. */
	options_free(&k.o, k.l);
	return code;
}

int
cmd_renew(int argc, char **argv)
{
	struct options o;
	struct lock *l;
	const char *key, *token;
	char pkey[256];
	int rc = 0;

	key = options_key(&o, argc, argv, options_parse(&o, argc, argv));
	text_printable(key, pkey, sizeof(pkey));
	if ((token = options_token(&o)) == NULL)
		usage_error("renew: no token (give --token or set "
		    "KEYLOCK_TOKEN)");
	l = options_backend(&o);
	if (l->be->renew(l, key, token, o.ttl_ms) == -1) {
		warnx("%s: %s", pkey, lock_error(l));
		rc = options_exit_code(l);
	}
	options_free(&o, l);
	return rc;
}

/*
 * keylock run: take KEY, run COMMAND while holding it, release it when
 * COMMAND ends.  With --memo, serve a fresh cached stdout instead of
 * running, and cache the stdout of a run that exits 0 (with
 * --memo-failures, of one that exits non-zero too, with its status).
 *
 * Order matters: signals are blocked before anything forks; the lock is
 * released only after the command was reaped; a memo entry is committed
 * only if every byte was captured, the run exited 0 and the lock is still
 * ours, and in Redis the commit and the release are one step.
 */
#include "config.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "clock.h"
#include "cmd.h"
#include "exits.h"
#include "memo.h"
#include "parse.h"
#include "spool.h"
#include "supervise.h"

struct run {
	struct options		 o;
	struct lock		*l;
	const char		*key;
	char			 pkey[256];	/* key fit for messages */
	char *const		*argv;
	struct supervise_sig	 sig;
	struct holder		 self;
	const struct memo_backend *memo;	/* with --memo */
	struct memo_id		 id;
	struct lock_lease	 lease;
	uint64_t		 captured;
	int			 capturing;
	struct spool		 errspool;	/* --memo-stderr */
	int			 hit_status;	/* of the entry served */
	int			 hit_stale;	/* it was stale */
	char			 ttlpath[PATH_MAX];	/* KEYLOCK_MEMO_TTL_FILE */
};

/* Prints the one line saying who holds the key we wait for. */
static void
notify_waiting(void *arg, const struct holder *h, unsigned int place)
{
	struct run *r = arg;
	char msg[1024];

	notice_waiting(msg, sizeof(msg), r->pkey, h, place, r->o.memo_ms > 0);
	warnx("%s", msg);
}

/* Says why the lock was not taken (unless -q) and returns the code. */
static int
conflict(struct run *r, enum lock_result why)
{
	struct lock_state st;
	char msg[1024];

	if (r->o.quiet)
		return r->o.conflict_code;
	if (why == LOCK_COOLING)
		notice_cooling(msg, sizeof(msg), r->pkey, &r->l->cooldown);
	else if (why == LOCK_SUPERSEDED)
		notice_superseded(msg, sizeof(msg), r->pkey, &r->l->other);
	else {
		if (r->l->be->status(r->l, r->key, &st) == -1)
			st.nholders = 0;
		notice_busy(msg, sizeof(msg), r->pkey, st.nholders > 0 ?
		    &st.holders[0] : NULL, r->o.wait_ms);
		lock_state_free(&st);
	}
	warnx("%s", msg);
	return r->o.conflict_code;
}

/* Prints a fresh (or up to stale_ms stale) cached result to fd (-1:
   only looks for one): 1 done, with its exit status in r->hit_status and
   r->hit_stale set if it was stale, 0 miss.  On errors it releases what
   is held and exits. */
static int
memo_serve(struct run *r, int64_t max_age, int64_t stale_ms, int fd)
{
	struct memo_get g = {
		.max_age_ms = max_age,
		.strict = r->o.memo_refresh,
		.stale_ms = stale_ms,
		.out_fd = fd,
		.err_fd = STDERR_FILENO,
		.failures = r->o.memo_failures_ms > 0,
	};
	int rc, code;

	rc = r->memo->get(r->l, &r->id, &g);
	r->hit_status = g.status;
	r->hit_stale = g.stale;
	if (rc == -1) {
		code = errno == EPIPE ? -1 : options_exit_code(r->l);
		if (code != -1)
			warnx("%s: %s", r->pkey, lock_error(r->l));
		r->l->be->release(r->l, 0);
		if (code == -1) {
			/* End the way the command would have: by SIGPIPE. */
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
			code = EXIT_SIGNAL + SIGPIPE;
		}
		exit(code);
	}
	if (rc == 1 && fd != -1 && r->o.verbose)
		warnx("%s: served from the cache%s", r->pkey, g.stale ?
		    " (stale; refreshing in the background)" : "");
	return rc;
}

/* Takes the lock; returns -1 when taken, else the exit code. */
static int
take(struct run *r)
{
	struct lock_request req;
	struct lock_wait w;
	int64_t now = clock_mono_ms();
	enum lock_result rc;
	int from_tty, signo;

	w.sigfd = r->sig.sigfd;
	w.deadline = r->o.wait_ms < 0 ? CLOCK_FOREVER : now + r->o.wait_ms;
	w.notify = notify_waiting;
	w.arg = r;
	w.notify_after = r->o.verbose ? now : !r->o.quiet &&
	    isatty(STDERR_FILENO) ? now + 1000 : CLOCK_FOREVER;
	options_request(&r->o, r->key, &req);
	holder_self(&r->self);
	switch ((rc = r->l->be->acquire(r->l, &req, &w, &r->self))) {
	case LOCK_ACQUIRED:
		return -1;
	case LOCK_BUSY:
	case LOCK_COOLING:
	case LOCK_SUPERSEDED:
		return conflict(r, rc);
	case LOCK_INTERRUPTED:
		signo = supervise_next_signal(r->sig.sigfd, &from_tty);
		return EXIT_SIGNAL + signo;
	case LOCK_ERROR:
		break;
	}
	warnx("%s: %s", r->pkey, lock_error(r->l));
	return options_exit_code(r->l);
}

/* Exports what the command learns about its lock. */
static void
export_env(struct run *r)
{
	char fence[32], slot[16];

	snprintf(fence, sizeof(fence), "%" PRIu64, r->self.fence);
	setenv("KEYLOCK_KEY", r->key, 1);
	setenv("KEYLOCK_BACKEND", r->l->be->name, 1);
	setenv("KEYLOCK_FENCE", fence, 1);
	if (r->self.slots > 0) {
		snprintf(slot, sizeof(slot), "%u", r->self.slot);
		setenv("KEYLOCK_SLOT", slot, 1);
	} else
		unsetenv("KEYLOCK_SLOT");
	if (strcmp(r->self.token, "-") != 0)
		setenv("KEYLOCK_TOKEN", r->self.token, 1);
	else
		unsetenv("KEYLOCK_TOKEN");
}

/* Takes a chunk of captured stdout (fd 1) or stderr (fd 2, kept aside
   until the end) for the cache; -1 stops caching. */
static int
capture(void *arg, int fd, const void *buf, size_t len)
{
	struct run *r = arg;

	if (r->captured + len > r->o.memo_max) {
		if (r->o.verbose)
			warnx("%s: output is larger than --memo-max; not "
			    "caching it", r->pkey);
		goto stop;
	}
	r->captured += len;
	if (fd == STDERR_FILENO) {
		if (spool_write(&r->errspool, buf, len) == 0)
			return 0;
		if (!r->o.quiet)
			warnx("%s: not caching: stderr: %s", r->pkey,
			    strerror(errno));
		goto stop;
	}
	if (r->memo->append(r->l, buf, len) == -1) {
		if (!r->o.quiet)
			warnx("%s: not caching: %s", r->pkey,
			    lock_error(r->l));
		goto stop;
	}
	return 0;
stop:
	/* Drop what was captured now, not when the command ends. */
	r->memo->abort(r->l);
	return -1;
}

/* supervise: asks the backend whether the lease is still ours. */
static int
check_lease(void *arg, int *fd, int64_t *at, pid_t *keeper)
{
	struct run *r = arg;
	int rc;

	rc = r->l->be->lease_check(r->l, &r->lease);
	*fd = r->lease.fd;
	*at = r->lease.check_at;
	*keeper = r->lease.keeper;
	return rc;
}

/* Reports a lost lease the moment it is noticed. */
static void
on_lost(void *arg)
{
	struct run *r = arg;
	char grace[32];

	text_duration(r->o.kill_after_ms, grace, sizeof(grace));
	if (r->o.on_lost_warn)
		warnx("lost the lock on %s; the command keeps running "
		    "(--on-lost=warn)", r->pkey);
	else
		warnx("lost the lock on %s; stopping the command (SIGTERM, "
		    "SIGKILL after %s)", r->pkey, grace);
}

/* spool_replay() callback: appends spooled stderr to the capture. */
static int
append_err(void *arg, const void *buf, size_t len)
{
	struct run *r = arg;

	return r->memo->append(r->l, buf, len);
}

/* Gives the command a private file (mode 0600) to write the TTL of its
   entry into, named in KEYLOCK_MEMO_TTL_FILE; 0 or -1 (errno). */
static int
ttl_file_open(struct run *r)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if (snprintf(r->ttlpath, sizeof(r->ttlpath), "%s/keylock-ttl.XXXXXX",
	    dir) >= (int)sizeof(r->ttlpath)) {
		r->ttlpath[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(r->ttlpath, O_CLOEXEC)) == -1) {
		r->ttlpath[0] = '\0';
		return -1;
	}
	close(fd);
	setenv("KEYLOCK_MEMO_TTL_FILE", r->ttlpath, 1);
	return 0;
}

/* Reads the TTL the command wrote into its file, if any, into *ttl, and
   removes the file; 1 chosen, 0 none (empty or no file).  What is no
   duration is warned about and ignored. */
static int
ttl_file_read(struct run *r, int64_t *ttl)
{
	char buf[64];
	ssize_t n = -1;
	int fd, rc = 0;

	if (r->ttlpath[0] == '\0')
		return 0;
	/* The command may have put anything there: no FIFO, no link. */
	fd = open(r->ttlpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	unlink(r->ttlpath);
	r->ttlpath[0] = '\0';
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n == 0)
		return 0;
	if (parse_duration(buf, ttl) == 0 && (size_t)n < sizeof(buf) - 1)
		rc = 1;
	else if (!r->o.quiet)
		warnx("%s: KEYLOCK_MEMO_TTL_FILE: not a duration: '%s'; "
		    "keeping the TTL of --memo", r->pkey, buf);
	return rc;
}

/* Stores the capture of a run that ended with code and releases; 0, or
   -1 with the reason in the lock context (lock still held unless ELOST).
   A failure lives for --memo-failures, not --memo; the command's own
   TTL replaces either. */
static int
store(struct run *r, int code, int64_t own_ttl)
{
	struct memo_put p = {
		.ttl_ms = code == 0 ? r->o.memo_ms : r->o.memo_failures_ms,
		.stale_ms = code == 0 ? r->o.memo_stale_ms : 0,
		.err_size = r->errspool.size,
		.status = code,
		.flags = (own_ttl > 0 ? MEMO_OWN_TTL : 0) |
		    (r->o.memo_in.err ? MEMO_HAS_ERR : 0),
	};

	if (r->errspool.fd != -1 &&
	    spool_replay(&r->errspool, append_err, r) == -1) {
		if (r->l->errclass == LOCK_ENONE)
			lock_seterr(r->l, LOCK_EIOERR, "stderr: %s",
			    strerror(errno));
		r->memo->abort(r->l);
		return -1;
	}
	if (own_ttl > 0)
		p.ttl_ms = own_ttl;
	return r->memo->commit(r->l, &p);
}

/* Nonzero if a run that ended as s says may be stored: it exited 0, or
   (--memo-failures) non-zero on its own, not by a signal and not because
   it could not start. */
static int
storable(const struct run *r, const struct supervise *s, int started)
{
	if (!WIFEXITED(s->status))
		return 0;
	if (WEXITSTATUS(s->status) == 0)
		return 1;
	return r->o.memo_failures_ms > 0 && started && s->exec_errno == 0;
}

/* Releases (or commits and releases) after the run; the exit code. */
static int
finish(struct run *r, struct supervise *s, int started)
{
	int code = supervise_exit_code(s->status), rc;
	int64_t own_ttl = -1;

	/* 0 from the command: store nothing. */
	if (ttl_file_read(r, &own_ttl) == 0)
		own_ttl = -1;
	if (r->capturing && storable(r, s, started) && own_ttl != 0 &&
	    !s->sink_failed && !s->out_broken &&
	    s->out_errno == 0 && !s->err_failed && !s->lost) {
		rc = store(r, code, own_ttl);
		if (rc == -1 && r->l->errclass != LOCK_ELOST) {
			if (!r->o.quiet)
				warnx("%s: not cached: %s", r->pkey,
				    lock_error(r->l));
			rc = r->l->be->release(r->l, 0);
		}
	} else {
		if (r->capturing)
			r->memo->abort(r->l);
		/* Only a run that succeeded starts a cooldown. */
		rc = r->l->be->release(r->l, code == 0 && !s->lost &&
		    s->pid > 0);
	}
	if (s->lost || (rc == -1 && r->l->errclass == LOCK_ELOST)) {
		if (!s->lost)
			warnx("lost the lock on %s before the command ended; "
			    "another holder may have run at the same time",
			    r->pkey);
		return r->o.on_lost_warn ? code : EXIT_LOST;
	}
	if (rc == -1 && !r->o.quiet)
		warnx("%s: could not release: %s", r->pkey, lock_error(r->l));
	options_warn(&r->o, r->l, r->pkey);
	if (s->out_errno != 0 && s->out_errno != EPIPE) {
		/* Not a reader that left: the output is lost, say so. */
		warnx("%s: cannot write the output: %s", r->pkey,
		    strerror(s->out_errno));
		if (code == 0)
			code = EXIT_IOERR;
	}
	if (s->leftovers > 0 && !r->o.quiet)
		warnx("%s: stopped %d process%s the command left running",
		    r->pkey, s->leftovers, s->leftovers == 1 ? "" : "es");
	return code;
}

/* Runs the command under the held lock; the exit code. */
static int
run_locked(struct run *r)
{
	struct supervise s;
	int started;

	memset(&s, 0, sizeof(s));
	s.argv = r->argv;
	s.sig = &r->sig;
	s.lost_warn = r->o.on_lost_warn;
	s.kill_after_ms = r->o.kill_after_ms;
	s.sink = capture;
	s.capture_err = r->o.memo_in.err;
	s.on_lost = on_lost;
	s.arg = r;
	export_env(r);
	/* The capture begins first: the heartbeat renews it with the lease. */
	if (r->memo != NULL) {
		if (r->o.memo_in.err && spool_open(&r->errspool) == -1) {
			if (!r->o.quiet)
				warnx("%s: not caching: stderr: %s", r->pkey,
				    strerror(errno));
		} else if (r->memo->begin(r->l, &r->id) == 0)
			r->capturing = s.capture = 1;
		else if (r->l->errclass == LOCK_ELOST) {
			/* Never start the command without the lock. */
			warnx("%s: %s", r->pkey, lock_error(r->l));
			r->l->be->release(r->l, 0);
			return EXIT_LOST;
		} else if (!r->o.quiet)
			warnx("%s: not caching: %s", r->pkey, lock_error(r->l));
		if (r->capturing && ttl_file_open(r) == -1 && !r->o.quiet)
			warnx("%s: KEYLOCK_MEMO_TTL_FILE: %s", r->pkey,
			    strerror(errno));
	}
	if (r->l->be->keepalive(r->l, &r->lease) == -1) {
		warnx("%s: %s", r->pkey, lock_error(r->l));
		if (r->capturing)
			r->memo->abort(r->l);
		r->l->be->release(r->l, 0);
		return options_exit_code(r->l);
	}
	if (r->lease.fd != -1 || r->lease.check_at != CLOCK_FOREVER) {
		s.lease_check = check_lease;
		s.lease_fd = r->lease.fd;
		s.lease_at = r->lease.check_at;
	}
	if ((started = supervise_run(&s) == 0) == 0) {
		warn("cannot run %s", r->argv[0]);
		s.status = options_class_code(lock_errno_class(errno,
		    LOCK_EINTERNAL)) << 8;
	} else if (s.exec_errno != 0)
		warnx("%s: %s", r->argv[0], strerror(s.exec_errno));
	return finish(r, &s, started && s.pid != -1);
}

/* Splits argv at KEY [--] COMMAND; exits 64 when a part is missing. */
static void
run_operands(struct run *r, int argc, char **argv, int i)
{
	if (i >= argc)
		usage_error("run: missing KEY");
	r->key = argv[i++];
	if (*r->key == '\0')
		usage_error("run: KEY must not be empty");
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		usage_error("run: missing COMMAND for key %s",
		    text_printable(r->key, r->pkey, sizeof(r->pkey)));
	r->argv = argv + i;
	text_printable(r->key, r->pkey, sizeof(r->pkey));
}

/* Takes the lock (serving a result stored while it waited), runs the
   command and stores its output; the exit code.  started: when the
   caller began, on the monotonic clock. */
static int
run_memo_locked(struct run *r, int64_t started)
{
	int64_t max_age;
	int code;

	if (supervise_signals(&r->sig) == -1)
		err(options_class_code(lock_errno_class(errno,
		    LOCK_EINTERNAL)), "signals");
again:
	if ((code = take(r)) != -1)
		return code;
	/* Someone may have stored it while we waited: a caller that
	   waited accepts the result of the run it waited for.  It lets go
	   of the lock before it prints, so a slow reader or a signal never
	   keeps a lock or a lease; if the result is gone meanwhile (forget),
	   it waits its turn again.  One that refreshes takes only a result
	   stored since it began. */
	max_age = clock_mono_ms() - started + (r->o.memo_refresh ? 0 :
	    r->o.memo_ms);
	if (r->memo != NULL && memo_serve(r, max_age, 0, -1) == 1) {
		r->l->be->release(r->l, 0);
		supervise_signals_pause(&r->sig);
		if (memo_serve(r, max_age, 0, STDOUT_FILENO) == 1)
			return r->hit_status;
		supervise_signals_resume(&r->sig);
		goto again;
	}
	return run_locked(r);
}

/*
 * After a stale hit: starts one refresh that nobody waits for.  A double
 * fork and setsid(2) detach it from the caller's shell, job and
 * terminal; stdin, stdout and stderr go to /dev/null, and it keeps no
 * other descriptor of the caller's (a pipe held open would keep the
 * caller's reader waiting).  It runs like --memo-refresh -n -q with a
 * backend connection of its own: if the key is held (another refresh,
 * or any run) it simply ends; a failure is never stored, so the stale
 * entry stays.
 */
static void
refresh_detached(struct run *r, int64_t started)
{
	pid_t pid;
	int fd, st;

	if ((pid = fork()) == -1) {
		if (r->o.verbose)
			warn("%s: cannot start the refresh", r->pkey);
		return;
	}
	if (pid > 0) {
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		return;
	}
	if (fork() != 0)
		_exit(0);
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	closefrom(STDERR_FILENO + 1);
	r->o.memo_refresh = 1;
	r->o.wait_ms = 0;
	r->o.quiet = 1;
	r->o.verbose = 0;
	r->o.memo_failures_ms = 0;
	/* The caller's connection is the caller's: a socket of our own. */
	r->l->be->close(r->l);
	r->l = options_backend(&r->o);
	/* A result stored since the stale hit is the refresh it wanted. */
	_exit(run_memo_locked(r, started));
}

int
cmd_run(int argc, char **argv)
{
	struct run r;
	int64_t started = clock_mono_ms();
	char why[512];
	int code;

	memset(&r, 0, sizeof(r));
	r.errspool.fd = -1;
	run_operands(&r, argc, argv, options_parse(&r.o, argc, argv));
	r.l = options_backend(&r.o);
	/* Nothing is held yet: a signal may end a cache hit the default way. */
	if (r.o.memo_ms > 0) {
		if (r.o.cooldown_ms > 0)
			usage_error("run: --cooldown does not go with --memo");
		if ((r.memo = r.l->be->memo) == NULL)
			usage_error("--memo: the %s backend has no cache",
			    r.l->be->name);
		if (memo_id_init(&r.id, r.key, r.argv, &r.o.memo_in, why,
		    sizeof(why)) == -1)
			errx(options_class_code(lock_errno_class(errno,
			    LOCK_EIOERR)), "%s: %s", r.pkey, why);
		/* --memo-refresh: no entry that exists now will do. */
		if (!r.o.memo_refresh && memo_serve(&r, r.o.memo_ms,
		    r.o.memo_stale_ms, STDOUT_FILENO) == 1) {
			if (r.hit_stale)
				refresh_detached(&r, started);
			code = r.hit_status;
			goto out;
		}
	}
	code = run_memo_locked(&r, started);
out:
	if (r.ttlpath[0] != '\0')
		unlink(r.ttlpath);
	spool_close(&r.errspool);
	options_free(&r.o, r.l);
	return code;
}

/*
 * supervise: keylock stays the parent of the command.
 *
 * Guarantees: the command never outlives keylock (PR_SET_PDEATHSIG, armed
 * before exec and checked against the parent having died already); it
 * inherits no descriptor of ours (everything we open is close-on-exec)
 * and our signal mask and SIGPIPE disposition are restored for it;
 * signals sent to keylock are forwarded, except those the terminal sent
 * to the whole foreground group, which the command already has.  When
 * the command ends, descendants it left running (reparented to keylock,
 * a child subreaper) are stopped too.  The lock is released by the
 * caller only after all of them were reaped.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "clock.h"
#include "supervise.h"

#define CHUNK	65536
#define JOB_MAX	1024	/* processes signalled in one walk */

static const int forwarded[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
};

/* Blocks our signals, ignores SIGPIPE, opens the signalfds; 0 or -1. */
int
supervise_signals(struct supervise_sig *sig)
{
	sigset_t fwd, chld;
	size_t i;

	sigemptyset(&fwd);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sig->taken = fwd;
	sigaddset(&sig->taken, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &sig->taken, &sig->oldmask) == -1)
		return -1;
	/* Orphans of the command come to us, so none outlives the lock. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	sig->sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	sig->chldfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig->sigfd == -1 || sig->chldfd == -1)
		return -1;
	return 0;
}

/* The signals we forward, unblocked again; SIGPIPE stays ignored. */
void
supervise_signals_pause(const struct supervise_sig *sig)
{
	sigprocmask(SIG_SETMASK, &sig->oldmask, NULL);
}

/* Blocks them again, for the signalfds. */
void
supervise_signals_resume(const struct supervise_sig *sig)
{
	sigprocmask(SIG_BLOCK, &sig->taken, NULL);
}

/* Reads one pending signal from fd; its number, or 0 if none. */
int
supervise_next_signal(int fd, int *from_tty)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	/* The tty driver signals the foreground group with SI_KERNEL. */
	*from_tty = si.ssi_code == SI_KERNEL;
	return (int)si.ssi_signo;
}

/* The shell-style exit code of a wait status. */
int
supervise_exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * In the child, which shares our memory until it execs (vfork): restores
 * what the command expects and execs it.  It touches nothing of ours but
 * its own descriptors, signal mask and dispositions.
 */
static void __attribute__((noreturn, noinline))
child_exec(struct supervise *s, pid_t parent, int errfd, int outfd,
    int errout)
{
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if (outfd != -1 && (dup2(outfd, STDOUT_FILENO) == -1 ||
	    close(outfd) == -1))
		goto fail;
	if (errout != -1 && (dup2(errout, STDERR_FILENO) == -1 ||
	    close(errout) == -1))
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &s->sig->oldmask, NULL);
	execvp(s->argv[0], s->argv);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Starts the command with its stdout (and stderr) on pipes to capfd[0]
   (capfd[1]) when captured; 0, or -1 (errno) if it could not.  vfork(2):
   copying our page tables would cost more than the rest of a run. */
static int
spawn(struct supervise *s, int capfd[2])
{
	pid_t parent = getpid(), pid;
	int ep[2], cp[2] = { -1, -1 }, xp[2] = { -1, -1 }, e;
	ssize_t n;

	if (pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	if (s->capture && pipe2(cp, O_CLOEXEC) == -1)
		goto fail;
	if (s->capture && s->capture_err && pipe2(xp, O_CLOEXEC) == -1)
		goto fail;
	/* The child writes nothing of ours, not even s->pid. */
	if ((pid = vfork()) == -1)
		goto fail;
	if (pid == 0)
		child_exec(s, parent, ep[1], cp[1], xp[1]);
	s->pid = pid;
	close(ep[1]);
	if (cp[1] != -1)
		close(cp[1]);
	if (xp[1] != -1)
		close(xp[1]);
	capfd[0] = cp[0];
	capfd[1] = xp[0];
	/* EOF means exec succeeded; an int is exec's errno. */
	while ((n = read(ep[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	close(ep[0]);
	s->exec_errno = n == sizeof(e) ? e : 0;
	return 0;
fail:
	e = errno;
	close(ep[0]);
	close(ep[1]);
	if (cp[0] != -1) {
		close(cp[0]);
		close(cp[1]);
	}
	if (xp[0] != -1) {
		close(xp[0]);
		close(xp[1]);
	}
	errno = e;
	return -1;
}

/* The command's stdout (or stderr) on its way to ours: one chunk at a
   time, so memory stays flat whatever the command writes. */
struct tee {
	int	 capfd;		/* read end of the command's stream, or -1 */
	int	 outfd;		/* ours: STDOUT_FILENO or STDERR_FILENO */
	int	 out_pipe;	/* ours is a pipe or socket */
	int	 discard;	/* our stdout failed: read on, to nowhere */
	char	 buf[CHUNK];
	size_t	 off, len;	/* bytes of buf not yet written */
};

/* Reads a chunk of the command's stream and hands it to the sink. */
static void
tee_read(struct supervise *s, struct tee *t)
{
	ssize_t n;

	n = read(t->capfd, t->buf, sizeof(t->buf));
	if (n == -1 && errno == EINTR)
		return;
	if (n <= 0) {
		close(t->capfd);
		t->capfd = -1;
		return;
	}
	if (t->discard)
		return;
	t->off = 0;
	t->len = (size_t)n;
	if (!s->sink_failed && s->sink(s->arg, t->outfd, t->buf, t->len) == -1)
		s->sink_failed = 1;
}

/* Writes what poll(2) said fits of the pending chunk to our stream.
   Into a pipe only PIPE_BUF is sure to fit, so a reader that stalls
   never blocks keylock: signals and a lost lease are still seen.  Past
   a failure to write our stderr, the command's goes nowhere (never into
   a broken pipe of its own: its stderr is for messages). */
static void
tee_write(struct supervise *s, struct tee *t)
{
	size_t want = t->len - t->off;
	ssize_t n;

	if (t->out_pipe && want > PIPE_BUF)
		want = PIPE_BUF;
	n = write(t->outfd, t->buf + t->off, want);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == -1 && t->outfd == STDERR_FILENO) {
		s->err_failed = 1;
		t->discard = 1;
		t->off = t->len = 0;
		return;
	}
	if (n == -1) {
		s->out_errno = errno;
		t->off = t->len = 0;
		if (errno != EPIPE) {
			/* A full disk is no reader that left: the command
			   runs on, its output goes nowhere, keylock says so. */
			t->discard = 1;
			return;
		}
		/* Like a reader that went away under the command itself:
		   closing the pipe gives it EPIPE/SIGPIPE on its next write. */
		s->out_broken = 1;
		close(t->capfd);
		t->capfd = -1;
		return;
	}
	t->off += (size_t)n;
	if (t->off == t->len)
		t->off = t->len = 0;
}

/* A signal that asks keylock to end, not just to pass something on. */
static int
terminating(int signo)
{
	return signo == SIGTERM || signo == SIGINT || signo == SIGHUP ||
	    signo == SIGQUIT;
}

/* Nonzero while tee t has output to deliver: in its chunk or its pipe. */
static int
tee_busy(const struct supervise *s, const struct tee *t)
{
	if (t->outfd == STDOUT_FILENO && s->out_broken)
		return 0;
	return t->len > 0 || t->capfd != -1;
}

/*
 * After the command exited: what it wrote is still in the pipes and in
 * our chunks.  It is delivered whole, waiting for a slow reader, unless
 * the command died of a signal or keylock is told to end meanwhile: then
 * only what fits without waiting goes, and the output counts as cut
 * short.
 */
static void
tee_drain(struct supervise *s, struct tee *t, int nt)
{
	struct pollfd pfd[3];
	int signo, from_tty, stop, i, busy, wrote;

	stop = WIFSIGNALED(s->status) ? WTERMSIG(s->status) : 0;
	for (i = 0; i < nt; i++)
		if (t[i].capfd != -1)
			fcntl(t[i].capfd, F_SETFL,
			    fcntl(t[i].capfd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		for (i = busy = 0; i < nt; i++) {
			if (tee_busy(s, &t[i]) && t[i].len == 0)
				tee_read(s, &t[i]);
			busy |= tee_busy(s, &t[i]) && t[i].len > 0;
			pfd[i] = (struct pollfd){ tee_busy(s, &t[i]) &&
			    t[i].len > 0 ? t[i].outfd : -1, POLLOUT, 0 };
		}
		if (!busy)
			break;
		pfd[nt] = (struct pollfd){ s->sig->sigfd, POLLIN, 0 };
		if (poll(pfd, (nfds_t)nt + 1, stop ? 0 : -1) == -1 &&
		    errno != EINTR)
			break;
		while ((signo = supervise_next_signal(s->sig->sigfd,
		    &from_tty)) > 0)
			if (terminating(signo))
				stop = signo;
		for (i = wrote = 0; i < nt; i++)
			if (pfd[i].revents) {
				tee_write(s, &t[i]);
				wrote = 1;
			}
		if (!wrote && stop)
			break;
	}
	for (i = 0; i < nt; i++) {
		if (!tee_busy(s, &t[i]))
			continue;
		/* Cut short: nothing of it may be stored, nor pass for 0. */
		if (t[i].outfd == STDOUT_FILENO)
			s->out_broken = 1;
		else
			s->err_failed = 1;
		if (stop && WIFEXITED(s->status) &&
		    WEXITSTATUS(s->status) == 0)
			s->status = stop;
		if (t[i].capfd != -1)
			close(t[i].capfd);
		t[i].capfd = -1;
	}
}

/* Appends the pids listed in the children file at path to out, up to
   max; returns the new count. */
static int
children_file(const char *path, pid_t *out, int n, int max)
{
	FILE *f;
	long kid;

	if ((f = fopen(path, "re")) == NULL)
		return n;
	while (n < max && fscanf(f, "%ld", &kid) == 1)
		out[n++] = (pid_t)kid;
	fclose(f);
	return n;
}

/* Appends the children of pid (of all its threads) to out, up to max;
   returns the new count. */
static int
children_of(pid_t pid, pid_t *out, int n, int max)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	if (pid == getpid()) {
		/* keylock has one thread: no need to walk its tasks. */
		snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
		    (long)pid);
		return children_file(path, out, n, max);
	}
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return n;
	while (n < max && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/children",
		    (long)pid, de->d_name);
		n = children_file(path, out, n, max);
	}
	closedir(d);
	return n;
}

/*
 * Lists the job: our children (orphans adopted as subreaper too) but the
 * spared ones (a heartbeat), and with deep set all their descendants;
 * how many, at most max.  A process forked during the walk may be
 * missed: callers walk again until none is left.
 */
static int
job(pid_t *out, int max, const pid_t *spare, int nspare, int deep)
{
	int n, i, j, k;

	n = children_of(getpid(), out, 0, max);
	for (i = j = 0; i < n; i++) {
		for (k = 0; k < nspare && spare[k] != out[i]; k++)
			;
		if (k == nspare)
			out[j++] = out[i];
	}
	for (n = j, i = 0; deep && i < n && n < max; i++)
		n = children_of(out[i], out, n, max);
	return n;
}

/* Sends signo to every process of the job (deep: with all their
   descendants, else our children only); how many there were. */
static int
signal_job(int signo, const pid_t *spare, int nspare, int deep)
{
	pid_t pids[JOB_MAX];
	int n, i;

	n = job(pids, JOB_MAX, spare, nspare, deep);
	for (i = 0; i < n; i++)
		kill(pids[i], signo);
	return n;
}

/* Where the end of the job stands. */
struct job_end {
	pid_t		 spare[64];	/* children that are not the job's */
	int		 nspare;
	int64_t		 kill_at;	/* SIGKILL for all, or CLOCK_FOREVER */
};

/* Sends signo to every process of the job now, and arms SIGKILL for all
   of them at the -k deadline, which, once set, never moves. */
static void
stop_job(struct supervise *s, struct job_end *je, int signo)
{
	signal_job(signo, je->spare, je->nspare, 1);
	if (je->kill_at == CLOCK_FOREVER)
		je->kill_at = clock_mono_ms() + s->kill_after_ms;
}

/* Checks the lease; once it is lost, stops the job (unless told to
   keep it running) and looks no more. */
static void
check_lease(struct supervise *s, struct job_end *je)
{
	pid_t keeper = -1;
	int i;

	if (s->lease_check(s->arg, &s->lease_fd, &s->lease_at, &keeper) == 0) {
		/* A keeper forked just now is spared from here on. */
		for (i = 0; keeper > 0 && i < je->nspare; i++)
			if (je->spare[i] == keeper)
				keeper = -1;
		if (keeper > 0 && je->nspare < 64)
			je->spare[je->nspare++] = keeper;
		return;
	}
	s->lease_fd = -1;
	s->lease_at = CLOCK_FOREVER;
	s->lost = 1;
	if (s->on_lost != NULL)
		s->on_lost(s->arg);
	if (!s->lost_warn)
		stop_job(s, je, SIGTERM);
}

/* Passes on pending signals: one that ends keylock ends the whole job
   (TERM now, KILL at -k); the others go to the command.  Signals the
   terminal sent to the foreground group reached the job already. */
static void
forward_signals(struct supervise *s, struct job_end *je)
{
	int signo, from_tty;

	while ((signo = supervise_next_signal(s->sig->sigfd, &from_tty)) > 0) {
		if (from_tty)
			continue;
		if (terminating(signo))
			stop_job(s, je, signo);
		else
			kill(s->pid, signo);
	}
}

/*
 * Stops what the command left running: descendants that outlived it
 * were reparented to us (we are a subreaper).  The whole job gets
 * SIGTERM (again, for any process forked since), then SIGKILL at the
 * deadline set when the job was first told to stop, so nothing runs on
 * once the lock is gone.
 */
static void
reap_leftovers(struct supervise *s, struct job_end *je)
{
	struct signalfd_siginfo si;
	struct pollfd pfd;
	pid_t left[256];
	int n, i, alive;

	for (;;) {
		n = job(left, 256, je->spare, je->nspare, 0);
		for (i = alive = 0; i < n; i++)
			alive += waitpid(left[i], NULL, WNOHANG) == 0;
		if (alive == 0)
			return;
		if (s->leftovers == 0)
			s->leftovers = alive;
		if (clock_mono_ms() >= je->kill_at)
			signal_job(SIGKILL, je->spare, je->nspare, 1);
		else
			stop_job(s, je, SIGTERM);
		pfd = (struct pollfd){ s->sig->chldfd, POLLIN, 0 };
		if (poll(&pfd, 1, clock_mono_ms() >= je->kill_at ? 100 :
		    clock_poll_timeout(je->kill_at)) > 0)
			while (read(s->sig->chldfd, &si, sizeof(si)) > 0)
				;
	}
}

/* Drains SIGCHLD and reaps the orphans that already ended: adopted as
   subreaper, they would stay zombies until the command ends.  Neither
   the command nor our spared children (a heartbeat) are touched. */
static void
reap_orphans(struct supervise *s, const struct job_end *je)
{
	struct signalfd_siginfo si;
	pid_t kids[256];
	int n, i, others = 0;

	while (read(s->sig->chldfd, &si, sizeof(si)) > 0)
		others |= (pid_t)si.ssi_pid != s->pid;
	/* The command's own end costs no look at /proc. */
	if (!others)
		return;
	n = job(kids, 256, je->spare, je->nspare, 0);
	for (i = 0; i < n; i++)
		if (kids[i] != s->pid)
			waitpid(kids[i], NULL, WNOHANG);
}

/* Kills and reaps the command when supervision itself fails. */
static int
abandon(struct supervise *s)
{
	int e = errno;

	kill(s->pid, SIGKILL);
	waitpid(s->pid, &s->status, 0);
	errno = e;
	return -1;
}

/* The earlier of two deadlines. */
static int64_t
earlier(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* When the loop must look again: a deadline, and past the -k deadline
   every 100 ms (a process in uninterruptible sleep dies late). */
static int64_t
next_wake(const struct job_end *je, const struct supervise *s)
{
	int64_t now = clock_mono_ms();

	if (je->kill_at <= now)
		return earlier(now + 100, s->lease_at);
	return earlier(je->kill_at, s->lease_at);
}

/* Supervises the started command until it was reaped; 0 or -1. */
static int
supervise_loop(struct supervise *s, struct job_end *je, struct tee *t)
{
	struct pollfd pfd[7];
	int i;

	for (;;) {
		pfd[0] = (struct pollfd){ s->sig->sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ s->sig->chldfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ s->lease_fd, POLLIN, 0 };
		for (i = 0; i < 2; i++) {
			pfd[3 + 2 * i] = (struct pollfd){ t[i].len ? -1 :
			    t[i].capfd, POLLIN, 0 };
			pfd[4 + 2 * i] = (struct pollfd){ t[i].len ?
			    t[i].outfd : -1, POLLOUT, 0 };
		}
		if (poll(pfd, 7, clock_poll_timeout(next_wake(je, s))) == -1 &&
		    errno != EINTR)
			return abandon(s);
		if (pfd[0].revents)
			forward_signals(s, je);
		if (pfd[2].revents || clock_mono_ms() >= s->lease_at)
			check_lease(s, je);
		for (i = 0; i < 2; i++) {
			if (pfd[3 + 2 * i].revents)
				tee_read(s, &t[i]);
			if (pfd[4 + 2 * i].revents)
				tee_write(s, &t[i]);
		}
		if (clock_mono_ms() >= je->kill_at)
			signal_job(SIGKILL, je->spare, je->nspare, 1);
		if (pfd[1].revents)
			reap_orphans(s, je);
		if (waitpid(s->pid, &s->status, WNOHANG) == s->pid)
			return 0;
	}
}

/* Runs s->argv to completion; 0, or -1 (errno) if it could not fork. */
int
supervise_run(struct supervise *s)
{
	struct stat st;
	struct tee t[2];	/* not zeroed: their buffers are 64 KiB */
	struct job_end je;
	int signo, from_tty, capfd[2], i;

	/* Children we had before the command (a heartbeat) are not its. */
	je.nspare = job(je.spare, 64, NULL, 0, 0);
	je.kill_at = CLOCK_FOREVER;
	if (s->lease_check == NULL) {
		s->lease_fd = -1;
		s->lease_at = CLOCK_FOREVER;
	}
	/* Told to end before the command exists (even by the terminal,
	   which then signalled no command): do not start it. */
	while ((signo = supervise_next_signal(s->sig->sigfd, &from_tty)) > 0)
		if (terminating(signo)) {
			s->pid = -1;
			s->status = signo;
			return 0;
		}
	if (spawn(s, capfd) == -1)
		return -1;
	for (i = 0; i < 2; i++) {
		t[i].capfd = capfd[i];
		t[i].outfd = i == 0 ? STDOUT_FILENO : STDERR_FILENO;
		t[i].off = t[i].len = 0;
		t[i].discard = 0;
		t[i].out_pipe = fstat(t[i].outfd, &st) == 0 &&
		    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
	}
	if (supervise_loop(s, &je, t) == -1)
		return -1;
	tee_drain(s, t, 2);
	reap_leftovers(s, &je);
	return 0;
}

/*
 * supervise: keylock stays the parent of the command.
 *
 * Guarantees: the command never outlives keylock (PR_SET_PDEATHSIG, armed
 * before exec and checked against the parent having died already); it
 * inherits no descriptor of ours (everything we open is close-on-exec)
 * and our signal mask and SIGPIPE disposition are restored for it;
 * signals sent to keylock are forwarded, except those the terminal sent
 * to the whole foreground group, which the command already has.  The
 * lock is released by the caller only after the command was reaped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "clock.h"
#include "fdio.h"
#include "supervise.h"

#define CHUNK	65536

static const int forwarded[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2
};

/* Blocks our signals, ignores SIGPIPE, opens the signalfds; 0 or -1. */
int
supervise_signals(struct supervise_sig *sig)
{
	sigset_t fwd, chld, all;
	size_t i;

	sigemptyset(&fwd);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	all = fwd;
	sigaddset(&all, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &all, &sig->oldmask) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	sig->sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	sig->chldfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig->sigfd == -1 || sig->chldfd == -1)
		return -1;
	return 0;
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

/* In the child: restores what the command expects and execs it. */
static void __attribute__((noreturn))
child_exec(struct supervise *s, pid_t parent, int errfd, int outfd)
{
	int e;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if (outfd != -1 && (dup2(outfd, STDOUT_FILENO) == -1 ||
	    close(outfd) == -1))
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &s->sig->oldmask, NULL);
	execvp(s->argv[0], s->argv);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Forks and execs the command; 0, or -1 (errno) if it could not. */
static int
spawn(struct supervise *s, int *capfd)
{
	pid_t parent = getpid();
	int ep[2], cp[2] = { -1, -1 }, e;
	ssize_t n;

	if (pipe2(ep, O_CLOEXEC) == -1)
		return -1;
	if (s->capture && pipe2(cp, O_CLOEXEC) == -1)
		goto fail;
	if ((s->pid = fork()) == -1)
		goto fail;
	if (s->pid == 0)
		child_exec(s, parent, ep[1], cp[1]);
	close(ep[1]);
	if (cp[1] != -1)
		close(cp[1]);
	*capfd = cp[0];
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
	errno = e;
	return -1;
}

/* Copies a chunk of the command's stdout to ours and to the sink.
   Returns 0 to keep reading, -1 when the pipe is done with. */
static int
tee_chunk(struct supervise *s, int capfd)
{
	char buf[CHUNK];
	ssize_t n;

	n = read(capfd, buf, sizeof(buf));
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return errno == EAGAIN ? -1 : 0;
	if (n <= 0)
		return -1;
	if (fdio_write_all(STDOUT_FILENO, buf, (size_t)n) == -1) {
		/* Like a reader that went away under the command itself:
		   closing the pipe gives it EPIPE/SIGPIPE on its next write. */
		s->out_broken = 1;
		return -1;
	}
	if (!s->sink_failed && s->sink(s->arg, buf, (size_t)n) == -1)
		s->sink_failed = 1;
	return 0;
}

/* Handles the lease being lost: once, TERM now and KILL later. */
static void
lease_lost(struct supervise *s, int64_t *kill_at)
{
	s->lost = 1;
	if (s->on_lost != NULL)
		s->on_lost(s->arg);
	if (s->lost_warn)
		return;
	kill(s->pid, SIGTERM);
	*kill_at = clock_mono_ms() + s->kill_after_ms;
}

/* Forwards pending signals on sigfd to the command. */
static void
forward_signals(struct supervise *s)
{
	int signo, from_tty;

	while ((signo = supervise_next_signal(s->sig->sigfd, &from_tty)) > 0)
		if (!from_tty)
			kill(s->pid, signo);
}

/* Runs s->argv to completion; 0, or -1 (errno) if it could not fork. */
int
supervise_run(struct supervise *s)
{
	struct pollfd pfd[4];
	struct signalfd_siginfo si;
	int64_t kill_at = CLOCK_FOREVER;
	int capfd = -1, lostfd = s->lostfd, reaped = 0;

	if (spawn(s, &capfd) == -1)
		return -1;
	while (!reaped) {
		pfd[0] = (struct pollfd){ s->sig->sigfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ s->sig->chldfd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ lostfd, POLLIN, 0 };
		pfd[3] = (struct pollfd){ capfd, POLLIN, 0 };
		if (poll(pfd, 4, clock_poll_timeout(kill_at)) == -1 &&
		    errno != EINTR)
			return -1;
		if (pfd[0].revents)
			forward_signals(s);
		if (pfd[2].revents) {
			lostfd = -1;
			lease_lost(s, &kill_at);
		}
		if (pfd[3].revents && tee_chunk(s, capfd) == -1) {
			close(capfd);
			capfd = -1;
		}
		if (clock_mono_ms() >= kill_at) {
			kill(s->pid, SIGKILL);
			kill_at = CLOCK_FOREVER;
		}
		while (read(s->sig->chldfd, &si, sizeof(si)) > 0)
			;
		reaped = waitpid(s->pid, &s->status, WNOHANG) == s->pid;
	}
	/* What the command wrote before it exited is still in the pipe. */
	if (capfd != -1) {
		fcntl(capfd, F_SETFL, fcntl(capfd, F_GETFL) | O_NONBLOCK);
		while (tee_chunk(s, capfd) == 0)
			;
		close(capfd);
	}
	return 0;
}

/*
 * supervise: run the command as our child and stay its parent until it
 * ends, forwarding signals, watching the lease and (for --memo) teeing
 * its stdout (and stderr).
 *
 * The job is the command, every process it starts, and the orphans of
 * those (keylock is their subreaper).  When the lease is lost, when
 * keylock itself is told to end (TERM, INT, HUP or QUIT not sent by the
 * terminal), or when the command ends and leaves processes behind, the
 * whole job gets SIGTERM at once and SIGKILL at one deadline, -k after
 * the first of those: no process of it runs on past that.
 */
#ifndef KEYLOCK_SUPERVISE_H
#define KEYLOCK_SUPERVISE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The signals keylock takes over, read through signalfd(2). */
struct supervise_sig {
	int		sigfd;		/* TERM INT HUP QUIT USR1 USR2 */
	int		chldfd;		/* CHLD */
	sigset_t	taken;		/* both, blocked while we read them */
	sigset_t	oldmask;
};

struct supervise {
	/* in */
	char *const	*argv;
	const struct supervise_sig *sig;
	int		 lease_fd;	/* readable on news of the lease; -1 */
	int64_t		 lease_at;	/* monotonic ms to check it by */
	/* Checks the lease (NULL: there is none); 0 while it is held,
	   with fd and at updated, or -1 once it is lost.  *keeper is set
	   to a child of ours that keeps the lease (a heartbeat forked
	   while the command runs), which is not part of the job, or -1. */
	int		(*lease_check)(void *arg, int *fd, int64_t *at,
			    pid_t *keeper);
	int		 lost_warn;	/* keep the command running then */
	int64_t		 kill_after_ms;	/* TERM to KILL grace for the job */
	int		 capture;	/* pipe stdout through sink */
	int		 capture_err;	/* and stderr (with capture) */
	/* Takes a chunk of stdout (fd 1) or stderr (fd 2); -1 stops
	   capturing (not the output). */
	int		(*sink)(void *arg, int fd, const void *buf, size_t len);
	void		(*on_lost)(void *arg);	/* called once */
	void		*arg;
	/* out */
	pid_t		 pid;
	int		 status;	/* wait(2) status */
	int		 exec_errno;	/* nonzero: the command did not start */
	int		 lost;		/* the lease was lost while it ran */
	int		 out_broken;	/* our stdout went away (EPIPE), or the
					   output was cut short */
	int		 out_errno;	/* why writing to it failed, or 0; past
					   a failure other than EPIPE the
					   output went nowhere */
	int		 err_failed;	/* writing the captured stderr to ours
					   failed, or it was cut short: the rest
					   went nowhere */
	int		 sink_failed;	/* capture stopped early */
	int		 leftovers;	/* descendants that had to be stopped */
};

/*
 * Blocks the signals keylock handles, ignores SIGPIPE, makes keylock a
 * child subreaper and opens the signal descriptors; 0 or -1 (errno).
 * Call before anything forks.
 */
int	supervise_signals(struct supervise_sig *sig);
/* Lets the signals keylock takes over act by default again, and takes
   them back; for a stretch where keylock itself may block. */
void	supervise_signals_pause(const struct supervise_sig *sig);
void	supervise_signals_resume(const struct supervise_sig *sig);
/* Reads one pending signal from fd; its number, 0 if none, and sets
   *from_tty when the terminal sent it to the whole process group. */
int	supervise_next_signal(int fd, int *from_tty);
/* Runs s->argv to completion; 0, or -1 (errno) if it could not fork. */
int	supervise_run(struct supervise *s);
/* The shell-style exit code of a wait status: N, or 128 + signal. */
int	supervise_exit_code(int status);

#endif

/*
 * cmd: the subcommands and what they share: options, opening a backend,
 * and turning its errors into messages and exit codes.
 */
#ifndef KEYLOCK_CMD_H
#define KEYLOCK_CMD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lock.h"
#include "memo.h"
#include "text.h"

struct options {
	const char	*cmd;		/* subcommand name */
	const char	*dir;
	const char	*url;		/* --redis, or the environment's */
	int		 url_from_argv;
	const char	*ns;
	int64_t		 connect_timeout_ms;
	int64_t		 ttl_ms;
	int64_t		 wait_ms;	/* -1 forever, 0 no wait */
	int		 conflict_code;
	int64_t		 kill_after_ms;
	int		 on_lost_warn;
	int64_t		 memo_ms;	/* 0: no --memo */
	uint64_t	 memo_max;
	struct lock_tls	 tls;		/* --cacert, --cert, ... */
	struct memo_inputs memo_in;	/* --memo-cwd, -env, -file, -stderr */
	int64_t		 memo_failures_ms;	/* 0: failures not stored */
	int		 memo_refresh;
	int64_t		 memo_stale_ms;	/* 0: no stale hits */
	int		 quiet, verbose, json, force;
	const char	*note;		/* --note */
	int64_t		 cooldown_ms;	/* --cooldown; 0: none */
	int64_t		 hold_ms;	/* acquire --hold */
	pid_t		 owner;		/* acquire --owner; 0: none */
	const char	*token;		/* release, renew --token */
	int		 shared;	/* -s, --shared */
	unsigned int	 slots;		/* --slots; 0: not given */
	int		 supersede;	/* --supersede */
	int		 min_replicas;	/* run, acquire --min-replicas */
};

#define OPTIONS_SLOTS_MAX	10000

int	cmd_run(int argc, char **argv);
int	cmd_status(int argc, char **argv);
int	cmd_list(int argc, char **argv);
int	cmd_release(int argc, char **argv);
int	cmd_acquire(int argc, char **argv);
int	cmd_renew(int argc, char **argv);
int	cmd_forget(int argc, char **argv);

/* Parses argv (argv[0] is the subcommand) into o; returns the index of
   the first operand.  Exits 64 on misuse, 0 after --help. */
int	options_parse(struct options *o, int argc, char **argv);
/* The one KEY operand at argv[i] of a KEY-only subcommand; exits 64 when
   it is missing, empty or followed by more. */
const char *options_key(const struct options *o, int argc, char **argv,
	    int i);
/* Fills req with what o asks of key (mode, count, note, cooldown,
   supersede); the caller sets until_ms. */
void	options_request(const struct options *o, const char *key,
	    struct lock_request *req);
/* Opens and connects the backend o names; exits 64/69/70 on failure. */
struct lock *options_backend(struct options *o);
/* The token of release and renew: --token, else $KEYLOCK_TOKEN, else
   NULL; exits 64 on a malformed one. */
const char *options_token(const struct options *o);
/* Shows the warning l holds, if any (unless -q), after "PKEY: " when
   pkey is given, and clears it. */
void	options_warn(const struct options *o, struct lock *l,
	    const char *pkey);
/* Closes what options_backend() opened. */
void	options_free(struct options *o, struct lock *l);
/* The exit code for l's recorded error class. */
int	options_exit_code(const struct lock *l);
/* The exit code for an error class (lock_errno_class() for errno). */
int	options_class_code(enum lock_errclass c);

/* Writes "waiting for KEY (3rd in queue; held by pid P on HOST for
   2m10s)" (producing: "waiting for KEY: ... is producing the result")
   into buf; h NULL when the holder is not known, place 0 when our place
   in the queue is not. */
void	notice_waiting(char *buf, size_t len, const char *pkey,
	    const struct holder *h, unsigned int place, int producing);
/* Writes "KEY is held by ..." or, after waited_ms, "timed out after
   ..." into buf. */
void	notice_busy(char *buf, size_t len, const char *pkey,
	    const struct holder *h, int64_t waited_ms);
/* Writes "gave up waiting for KEY: superseded by pid P on HOST since T"
   into buf. */
void	notice_superseded(char *buf, size_t len, const char *pkey,
	    const struct holder *h);
/* Writes "KEY ran at T on HOST; cooling down until T2" into buf. */
void	notice_cooling(char *buf, size_t len, const char *pkey,
	    const struct lock_cooldown *c);

/* Prints the usage text to fp. */
void	usage(FILE *fp);
/* Prints the one line "keylock: MSG" and exits 64. */
void	usage_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif

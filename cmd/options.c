/*
 * options: one getopt_long table for every subcommand, each of which
 * accepts the subset it lists; opening the backend the options name.
 */
#include "config.h"

#include <err.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "parse.h"
#include "exits.h"
#include "version.h"

#define MIN_REPLICAS_MAX	1000

enum {
	OPT_REDIS = CHAR_MAX + 1,
	OPT_CONNECT_TIMEOUT,
	OPT_ON_LOST,
	OPT_MEMO,
	OPT_MEMO_MAX,
	OPT_MEMO_CWD,
	OPT_MEMO_ENV,
	OPT_MEMO_FILE,
	OPT_MEMO_STDERR,
	OPT_MEMO_FAILURES,
	OPT_MEMO_REFRESH,
	OPT_MEMO_STALE,
	OPT_JSON,
	OPT_FORCE,
	OPT_NOTE,
	OPT_COOLDOWN,
	OPT_HOLD,
	OPT_OWNER,
	OPT_TOKEN,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_SNI,
	OPT_INSECURE,
	OPT_SLOTS,
	OPT_SUPERSEDE,
	OPT_MIN_REPLICAS,
};

static const struct option longopts[] = {
	{ "cacert",		required_argument, NULL, OPT_CACERT },
	{ "cert",		required_argument, NULL, OPT_CERT },
	{ "conflict-exit-code",	required_argument, NULL, 'E' },
	{ "connect-timeout",	required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "cooldown",		required_argument, NULL, OPT_COOLDOWN },
	{ "dir",		required_argument, NULL, 'd' },
	{ "force",		no_argument,	   NULL, OPT_FORCE },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "hold",		required_argument, NULL, OPT_HOLD },
	{ "insecure",		no_argument,	   NULL, OPT_INSECURE },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "key",		required_argument, NULL, OPT_KEY },
	{ "kill-after",		required_argument, NULL, 'k' },
	{ "memo",		required_argument, NULL, OPT_MEMO },
	{ "memo-cwd",		no_argument,	   NULL, OPT_MEMO_CWD },
	{ "memo-env",		required_argument, NULL, OPT_MEMO_ENV },
	{ "memo-failures",	required_argument, NULL, OPT_MEMO_FAILURES },
	{ "memo-file",		required_argument, NULL, OPT_MEMO_FILE },
	{ "memo-max",		required_argument, NULL, OPT_MEMO_MAX },
	{ "memo-refresh",	no_argument,	   NULL, OPT_MEMO_REFRESH },
	{ "memo-stale",		required_argument, NULL, OPT_MEMO_STALE },
	{ "memo-stderr",	no_argument,	   NULL, OPT_MEMO_STDERR },
	{ "min-replicas",	required_argument, NULL, OPT_MIN_REPLICAS },
	{ "namespace",		required_argument, NULL, 'N' },
	{ "no-wait",		no_argument,	   NULL, 'n' },
	{ "note",		required_argument, NULL, OPT_NOTE },
	{ "on-lost",		required_argument, NULL, OPT_ON_LOST },
	{ "owner",		required_argument, NULL, OPT_OWNER },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "redis",		required_argument, NULL, OPT_REDIS },
	{ "token",		required_argument, NULL, OPT_TOKEN },
	{ "shared",		no_argument,	   NULL, 's' },
	{ "slots",		required_argument, NULL, OPT_SLOTS },
	{ "sni",		required_argument, NULL, OPT_SNI },
	{ "supersede",		no_argument,	   NULL, OPT_SUPERSEDE },
	{ "ttl",		required_argument, NULL, 't' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "wait",		required_argument, NULL, 'w' },
	{ NULL,			0,		   NULL, 0 }
};

/* Options every subcommand takes, then each one's own. */
static const int common[] = { 'd', 'h', 'N', 'q', 'v', OPT_REDIS,
    OPT_CONNECT_TIMEOUT, OPT_CACERT, OPT_CERT, OPT_KEY, OPT_SNI,
    OPT_INSECURE, 0 };
static const int run_only[] = { 'E', 'k', 'n', 't', 'w', OPT_ON_LOST,
    OPT_MEMO, OPT_MEMO_MAX, OPT_MEMO_CWD, OPT_MEMO_ENV, OPT_MEMO_FILE,
    OPT_MEMO_STDERR, OPT_MEMO_FAILURES, OPT_MEMO_REFRESH, OPT_MEMO_STALE,
    OPT_NOTE, OPT_COOLDOWN, 's', OPT_SLOTS, OPT_SUPERSEDE, OPT_MIN_REPLICAS,
    0 };
static const int acquire_only[] = { 'E', 'n', 't', 'w', OPT_NOTE,
    OPT_COOLDOWN, OPT_HOLD, OPT_OWNER, 's', OPT_SLOTS, OPT_SUPERSEDE,
    OPT_MIN_REPLICAS, 0 };
/* Options of run that mean nothing without --memo. */
static const int memo_only[] = { OPT_MEMO_CWD, OPT_MEMO_ENV, OPT_MEMO_FILE,
    OPT_MEMO_STDERR, OPT_MEMO_FAILURES, OPT_MEMO_REFRESH, OPT_MEMO_STALE,
    0 };
static const int status_only[] = { OPT_JSON, 0 };
static const int release_only[] = { OPT_FORCE, OPT_TOKEN, 0 };
static const int renew_only[] = { 't', OPT_TOKEN, OPT_MIN_REPLICAS, 0 };

/* Nonzero if option c is in the zero-terminated list. */
static int
in(const int *list, int c)
{
	for (; *list != 0; list++)
		if (*list == c)
			return 1;
	return 0;
}

/* Nonzero if subcommand cmd takes option c. */
static int
allowed(const char *cmd, int c)
{
	if (in(common, c))
		return 1;
	if (strcmp(cmd, "run") == 0)
		return in(run_only, c);
	if (strcmp(cmd, "acquire") == 0)
		return in(acquire_only, c);
	if (strcmp(cmd, "renew") == 0)
		return in(renew_only, c);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0)
		return in(status_only, c);
	if (strcmp(cmd, "release") == 0)
		return in(release_only, c);
	return 0;
}

/* Parses a DURATION option value or exits 64. */
static int64_t
need_duration(const char *opt, const char *arg, int64_t min)
{
	int64_t ms;

	if (parse_duration(arg, &ms) == -1)
		usage_error("invalid duration for %s: '%s'", opt, arg);
	if (ms < min)
		usage_error("%s must be at least %lldms: '%s'", opt,
		    (long long)min, arg);
	return ms;
}

static void	options_check_mode(const struct options *);

/* Applies one parsed option c of run and acquire's holding options, or
   of the token, to o. */
static void
apply_hold(struct options *o, int c, const char *arg)
{
	long n;

	switch (c) {
	case OPT_NOTE:
		if (!lock_note_ok(arg))
			usage_error("invalid --note: at most %d bytes of "
			    "printable UTF-8 text", HOLDER_NOTE_MAX);
		o->note = arg;
		break;
	case OPT_COOLDOWN:
		o->cooldown_ms = need_duration("--cooldown", arg, 1);
		break;
	case OPT_HOLD: o->hold_ms = need_duration("--hold", arg, 1); break;
	case OPT_OWNER:
		if (parse_int(arg, 1, INT_MAX, &n) == -1)
			usage_error("invalid --owner: '%s' (a process id)", arg);
		o->owner = (pid_t)n;
		break;
	case 's': o->shared = 1; break;
	case OPT_SLOTS:
		if (parse_int(arg, 1, OPTIONS_SLOTS_MAX, &n) == -1)
			usage_error("invalid --slots: '%s' (1-%d)", arg,
			    OPTIONS_SLOTS_MAX);
		o->slots = (unsigned int)n;
		break;
	case OPT_SUPERSEDE: o->supersede = 1; break;
	case OPT_TOKEN:
		if (strlen(arg) != HOLDER_TOKEN_LEN ||
		    strspn(arg, "0123456789abcdef") != HOLDER_TOKEN_LEN)
			usage_error("invalid --token: %d hex digits expected",
			    HOLDER_TOKEN_LEN);
		o->token = arg;
		break;
	}
}

/* Applies one parsed option c of the --memo family to o. */
static void
apply_memo(struct options *o, int c, const char *arg)
{
	switch (c) {
	case OPT_MEMO_CWD: o->memo_in.cwd = 1; break;
	case OPT_MEMO_STDERR: o->memo_in.err = 1; break;
	case OPT_MEMO_REFRESH: o->memo_refresh = 1; break;
	case OPT_MEMO_STALE:
		o->memo_stale_ms = need_duration("--memo-stale", arg, 1);
		break;
	case OPT_MEMO_FAILURES:
		o->memo_failures_ms = need_duration("--memo-failures", arg, 1);
		break;
	case OPT_MEMO_ENV:
		if (*arg == '\0' || strchr(arg, '=') != NULL)
			usage_error("invalid name for --memo-env: '%s'", arg);
		o->memo_in.env[o->memo_in.nenv++] = arg;
		break;
	case OPT_MEMO_FILE:
		if (*arg == '\0')
			usage_error("invalid path for --memo-file: '%s'", arg);
		o->memo_in.files[o->memo_in.nfiles++] = arg;
		break;
	}
}

/* A value that must not be empty, or exits 64. */
static const char *
need_value(const char *opt, const char *arg)
{
	if (*arg == '\0')
		usage_error("empty value for %s", opt);
	return arg;
}

/* Applies one parsed option c to o. */
static void
apply(struct options *o, int c, const char *arg)
{
	long n;

	switch (c) {
	case 'd': o->dir = arg; break;
	case 'N':
		if (*arg == '\0')
			usage_error("empty namespace");
		o->ns = arg;
		break;
	case 'q': o->quiet = 1; o->verbose = 0; break;
	case 'v': o->verbose = 1; o->quiet = 0; break;
	case 'n': o->wait_ms = 0; break;
	case 'w': o->wait_ms = need_duration("--wait", arg, 0); break;
	case 't': o->ttl_ms = need_duration("--ttl", arg, 100); break;
	case 'k': o->kill_after_ms = need_duration("--kill-after", arg, 0);
		break;
	case 'E':
		if (parse_int(arg, 0, 255, &n) == -1)
			usage_error("invalid exit code for -E: '%s' (0-255)",
			    arg);
		o->conflict_code = (int)n;
		break;
	case OPT_REDIS: o->url = arg; o->url_from_argv = 1; break;
	case OPT_CONNECT_TIMEOUT:
		o->connect_timeout_ms = need_duration("--connect-timeout", arg,
		    1);
		break;
	case OPT_ON_LOST:
		if (strcmp(arg, "kill") != 0 && strcmp(arg, "warn") != 0)
			usage_error("invalid --on-lost: '%s' (kill or warn)",
			    arg);
		o->on_lost_warn = strcmp(arg, "warn") == 0;
		break;
	case OPT_MEMO: o->memo_ms = need_duration("--memo", arg, 1); break;
	case OPT_MEMO_MAX:
		if (parse_size(arg, &o->memo_max) == -1)
			usage_error("invalid size for --memo-max: '%s'", arg);
		break;
	case OPT_CACERT: o->tls.cacert = need_value("--cacert", arg); break;
	case OPT_CERT: o->tls.cert = need_value("--cert", arg); break;
	case OPT_KEY: o->tls.key = need_value("--key", arg); break;
	case OPT_SNI: o->tls.sni = need_value("--sni", arg); break;
	case OPT_INSECURE: o->tls.insecure = 1; break;
	case OPT_MIN_REPLICAS:
		if (parse_int(arg, 0, MIN_REPLICAS_MAX, &n) == -1)
			usage_error("invalid --min-replicas: '%s' (0-%d)", arg,
			    MIN_REPLICAS_MAX);
		o->min_replicas = (int)n;
		break;
	case OPT_JSON: o->json = 1; break;
	case OPT_FORCE: o->force = 1; break;
	default:
		if (in(memo_only, c))
			apply_memo(o, c, arg);
		else
			apply_hold(o, c, arg);
		break;
	}
}

/* Parses argv into o; returns the index of the first operand. */
int
options_parse(struct options *o, int argc, char **argv)
{
	const char *env;
	char name[64];
	int c, idx, memo_opt = 0;

	memset(o, 0, sizeof(*o));
	o->cmd = argv[0];
	o->ns = "keylock";
	o->connect_timeout_ms = 2000;
	o->ttl_ms = 30000;
	o->wait_ms = -1;
	o->conflict_code = EXIT_CONFLICT;
	o->kill_after_ms = 10000;
	o->memo_max = 64ULL << 20;
	o->hold_ms = 3600000;
	/* No option repeats more often than there are arguments. */
	o->memo_in.env = calloc((size_t)argc, sizeof(*o->memo_in.env));
	o->memo_in.files = calloc((size_t)argc, sizeof(*o->memo_in.files));
	if (o->memo_in.env == NULL || o->memo_in.files == NULL)
		err(EXIT_OSERR, "out of memory");
	if ((env = getenv("KEYLOCK_REDIS_URL")) != NULL && *env != '\0')
		o->url = env;
	opterr = 0;
	optind = 1;
	while ((idx = -1, c = getopt_long(argc, argv, "+:E:d:hk:N:nqst:vw:",
	    longopts, &idx)) != -1) {
		if (c == ':')
			usage_error("%s: option '%s' needs a value", o->cmd,
			    argv[optind - 1]);
		if (c == '?' && optopt != 0 && optopt <= CHAR_MAX)
			usage_error("%s: invalid option -- '%c'", o->cmd,
			    optopt);
		if (c == '?')
			usage_error("%s: unknown or ambiguous option '%s'", o->cmd,
			    argv[optind - 1]);
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (!allowed(o->cmd, c)) {
			if (idx >= 0)
				snprintf(name, sizeof(name), "--%s",
				    longopts[idx].name);
			else
				snprintf(name, sizeof(name), "-%c", c);
			usage_error("%s: option '%s' does not apply here",
			    o->cmd, name);
		}
		if (memo_opt == 0 && in(memo_only, c))
			memo_opt = idx;
		apply(o, c, optarg);
	}
	if (memo_opt != 0 && o->memo_ms == 0)
		usage_error("%s: option '--%s' needs --memo", o->cmd,
		    longopts[memo_opt].name);
	options_check_mode(o);
	return optind;
}

/* Exits 64 on a mode that cannot work: --shared with --slots, or either
   (or --supersede) with --memo, whose one producer serves everyone. */
static void
options_check_mode(const struct options *o)
{
	const char *mode = o->shared ? "--shared" : o->slots > 1 ?
	    "--slots" : o->supersede ? "--supersede" : NULL;

	if (o->shared && o->slots > 1)
		usage_error("%s: --shared and --slots do not combine: a key "
		    "has shared holders or slots", o->cmd);
	if (mode != NULL && o->memo_ms > 0)
		usage_error("%s: %s does not combine with --memo: one caller "
		    "produces the result and the others print it", o->cmd,
		    mode);
}

/* Fills req with what o asks of key. */
void
options_request(const struct options *o, const char *key,
    struct lock_request *req)
{
	memset(req, 0, sizeof(*req));
	req->key = key;
	req->mode = o->shared ? LOCK_SHARED : o->slots > 1 ? LOCK_SLOTS :
	    LOCK_EXCLUSIVE;
	req->count = req->mode == LOCK_SLOTS ? o->slots : 1;
	req->note = o->note;
	req->cooldown_ms = o->cooldown_ms;
	req->supersede = o->supersede;
}

/* The exit code for l's recorded error class. */
int
options_exit_code(const struct lock *l)
{
	return options_class_code(l->errclass);
}

/* The exit code for an error class. */
int
options_class_code(enum lock_errclass c)
{
	switch (c) {
	case LOCK_EUSAGE:	return EXIT_USAGE;
	case LOCK_EUNAVAIL:	return EXIT_UNAVAIL;
	case LOCK_ELOST:	return EXIT_LOST;
	case LOCK_EOSERR:	return EXIT_OSERR;
	case LOCK_ECANTCREAT:	return EXIT_CANTCREAT;
	case LOCK_EIOERR:	return EXIT_IOERR;
	default:		return EXIT_INTERNAL;
	}
}

/* The one KEY operand of status, release and forget. */
const char *
options_key(const struct options *o, int argc, char **argv, int i)
{
	if (i != argc - 1)
		usage_error("%s: %s", o->cmd, i >= argc ? "missing KEY" :
		    "too many operands");
	if (*argv[i] == '\0')
		usage_error("%s: KEY must not be empty", o->cmd);
	return argv[i];
}

/* Opens and connects the backend o names; exits 64/69/70 on failure. */
struct lock *
options_backend(struct options *o)
{
	const struct lock_backend *be;
	struct lock_opts lo;
	struct lock *l;
	char why[256];

	if (o->url != NULL && (strncmp(o->url, "rediss://", 9) == 0 ||
	    strncmp(o->url, "rediss-sentinel://", 18) == 0))
		feature_require("tls");
	else if (o->tls.cacert || o->tls.cert || o->tls.key || o->tls.sni ||
	    o->tls.insecure)
		usage_error("--cacert, --cert, --key, --sni and --insecure "
		    "need a rediss:// URL");
	if (o->min_replicas > 0 && o->url == NULL)
		usage_error("--min-replicas needs a Redis URL (--redis or "
		    "KEYLOCK_REDIS_URL): local locks have no replicas");
	if ((be = lock_backend_find(o->url, why, sizeof(why))) == NULL)
		usage_error("%s", why);
	memset(&lo, 0, sizeof(lo));
	lo.url = o->url;
	lo.url_from_argv = o->url_from_argv;
	lo.dir = o->dir;
	lo.ns = o->ns;
	lo.connect_timeout_ms = o->connect_timeout_ms;
	lo.ttl_ms = o->ttl_ms;
	lo.tls = o->tls;
	lo.min_replicas = o->min_replicas;
	if ((l = be->open(&lo)) == NULL)
		err(EXIT_OSERR, "out of memory");
	options_warn(o, l, NULL);
	if (be->connect(l) == -1) {
		warnx("%s", lock_error(l));
		exit(options_exit_code(l));
	}
	return l;
}

/* The --token, else a well-formed $KEYLOCK_TOKEN, else NULL. */
const char *
options_token(const struct options *o)
{
	const char *t = getenv("KEYLOCK_TOKEN");

	if (o->token != NULL)
		return o->token;
	if (t == NULL || *t == '\0')
		return NULL;
	if (strlen(t) != HOLDER_TOKEN_LEN ||
	    strspn(t, "0123456789abcdef") != HOLDER_TOKEN_LEN)
		usage_error("%s: KEYLOCK_TOKEN is not a token (%d hex digits)",
		    o->cmd, HOLDER_TOKEN_LEN);
	return t;
}

/* Shows the warning l holds, if any (unless -q), and clears it. */
void
options_warn(const struct options *o, struct lock *l, const char *pkey)
{
	if (l->warning[0] != '\0' && !o->quiet) {
		if (pkey != NULL)
			warnx("%s: %s", pkey, l->warning);
		else
			warnx("warning: %s", l->warning);
	}
	l->warning[0] = '\0';
}

/* Closes what options_backend() opened. */
void
options_free(struct options *o, struct lock *l)
{
	free(o->memo_in.env);
	free(o->memo_in.files);
	if (l != NULL)
		l->be->close(l);
}

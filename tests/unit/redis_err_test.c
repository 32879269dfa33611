/*
 * Unit tests of lib/redis_err.h: error replies as Redis 7.0 words them
 * (and a few older wordings), each classified as final, not ready, or
 * neither.  Each row is one TAP test.
 */
#include "config.h"

#include "redis_err.h"
#include "unit.h"

struct err_case {
	const char	*err;
	int		 final;
	int		 unready;
};

static const struct err_case err_cases[] = {
	/* Credentials and databases: connecting again will not mend. */
	{ "WRONGPASS invalid username-password pair or user is disabled.",
	    1, 0 },
	{ "NOAUTH Authentication required.", 1, 0 },
	{ "NOPERM this user has no permissions to run the 'eval' command",
	    1, 0 },
	{ "ERR invalid password", 1, 0 },
	{ "ERR AUTH <password> called without any password configured for "
	    "the default user. Are you sure your configuration is correct?",
	    1, 0 },
	{ "ERR Client sent AUTH, but no password is set", 1, 0 },
	{ "ERR DB index is out of range", 1, 0 },
	{ "ERR invalid DB index", 1, 0 },
	{ "ERR SELECT is not allowed in cluster mode", 1, 0 },
	/* Not ready: the command did not run. */
	{ "LOADING Redis is loading the dataset in memory", 0, 1 },
	{ "BUSY Redis is busy running a script. You can only call "
	    "SCRIPT KILL or SHUTDOWN NOSAVE.", 0, 1 },
	{ "MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
	    "is set to 'no'.", 0, 1 },
	{ "CLUSTERDOWN The cluster is down", 0, 1 },
	{ "CLUSTERDOWN Hash slot not served", 0, 1 },
	{ "LOADING", 0, 1 },
	/* Neither. */
	{ "BUSYKEY Target key name already exists.", 0, 0 },
	{ "BUSYGROUP Consumer Group name already exists", 0, 0 },
	{ "LOADINGX", 0, 0 },
	{ "loading Redis is loading the dataset in memory", 0, 0 },
	{ " LOADING", 0, 0 },
	{ "ERR max number of clients reached", 0, 0 },
	{ "OOM command not allowed when used memory > 'maxmemory'.", 0, 0 },
	{ "READONLY You can't write against a read only replica.", 0, 0 },
	{ "NOSCRIPT No matching script. Please use EVAL.", 0, 0 },
	{ "TRYAGAIN Multiple keys request during rehashing of slot", 0, 0 },
	{ "MOVED 3999 127.0.0.1:6381", 0, 0 },
	{ "ERR unknown command 'FOO'", 0, 0 },
	{ "ERR", 0, 0 },
	{ "", 0, 0 },
};

static void
test_err(void **state)
{
	const struct err_case *c = *state;

	assert_int_equal(redis_err_final(c->err) != 0, c->final);
	assert_int_equal(redis_err_unready(c->err) != 0, c->unready);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 0; i < UNIT_NROWS(err_cases); i++)
		unit_add(&s, test_err, &err_cases[i], NULL,
		    "%s is %s", unit_q(err_cases[i].err), err_cases[i].final ?
		    "final" : err_cases[i].unready ? "not ready" : "neither");
	return unit_run(&s);
}

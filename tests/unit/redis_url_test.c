/*
 * Unit tests of lib/redis_url.h: the forms it accepts, every error class
 * it reports, Sentinel lists, and that no error or display shows the
 * password.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "redis_url.h"
#include "unit.h"

#define PW	"S3cr3tPW"	/* a password no message may show */

struct ok_case {
	const char	*in;
	int		 is_unix;
	const char	*host;
	int		 port;
	const char	*path;
	const char	*user;
	const char	*password;
	int		 db;
	const char	*display;
};

static const struct ok_case ok_cases[] = {
	{ "redis://localhost", 0, "localhost", 6379, NULL, NULL, NULL, 0,
	    "localhost:6379" },
	{ "redis://127.0.0.1:6380", 0, "127.0.0.1", 6380, NULL, NULL, NULL, 0,
	    "127.0.0.1:6380" },
	{ "redis://h:1", 0, "h", 1, NULL, NULL, NULL, 0, "h:1" },
	{ "redis://h:65535", 0, "h", 65535, NULL, NULL, NULL, 0, "h:65535" },
	{ "redis://h:06379", 0, "h", 6379, NULL, NULL, NULL, 0, "h:6379" },
	{ "redis://h/", 0, "h", 6379, NULL, NULL, NULL, 0, "h:6379" },
	{ "redis://h/0", 0, "h", 6379, NULL, NULL, NULL, 0, "h:6379" },
	{ "redis://h/15", 0, "h", 6379, NULL, NULL, NULL, 15, "h:6379" },
	{ "redis://h:7000/3", 0, "h", 7000, NULL, NULL, NULL, 3, "h:7000" },
	{ "redis://h/2147483647", 0, "h", 6379, NULL, NULL, NULL, 2147483647,
	    "h:6379" },
	{ "redis://:" PW "@h", 0, "h", 6379, NULL, NULL, PW, 0, "h:6379" },
	{ "redis://alice:" PW "@h:6380/2", 0, "h", 6380, NULL, "alice", PW, 2,
	    "h:6380" },
	{ "redis://:p@ss@h", 0, "h", 6379, NULL, NULL, "p@ss", 0, "h:6379" },
	{ "redis://:p:ss@h", 0, "h", 6379, NULL, NULL, "p:ss", 0, "h:6379" },
	{ "redis://u:p/w@h/1", 0, "h", 6379, NULL, "u", "p/w", 1, "h:6379" },
	{ "redis://u:a@b:c/d@h:1/9", 0, "h", 1, NULL, "u", "a@b:c/d", 9,
	    "h:1" },
	{ "redis://:%40%3A%25%3f%23@h", 0, "h", 6379, NULL, NULL, "@:%?#", 0,
	    "h:6379" },
	{ "redis://u%3Ax%40y:pw@h", 0, "h", 6379, NULL, "u:x@y", "pw", 0,
	    "h:6379" },
	{ "redis://[::1]", 0, "::1", 6379, NULL, NULL, NULL, 0,
	    "[::1]:6379" },
	{ "redis://[::1]:6380/1", 0, "::1", 6380, NULL, NULL, NULL, 1,
	    "[::1]:6380" },
	{ "redis://:pw@[fe80::1]:7000", 0, "fe80::1", 7000, NULL, NULL, "pw",
	    0, "[fe80::1]:7000" },
	{ "redis://[2001:db8::42]/4", 0, "2001:db8::42", 6379, NULL, NULL,
	    NULL, 4, "[2001:db8::42]:6379" },
	{ "redis://[127.0.0.1]", 0, "127.0.0.1", 6379, NULL, NULL, NULL, 0,
	    "127.0.0.1:6379" },
	{ "unix:///tmp/redis.sock", 1, NULL, 6379, "/tmp/redis.sock", NULL,
	    NULL, 0, "/tmp/redis.sock" },
	{ "unix:///tmp/redis.sock?db=3", 1, NULL, 6379, "/tmp/redis.sock",
	    NULL, NULL, 3, "/tmp/redis.sock" },
	{ "unix:///r?db=0", 1, NULL, 6379, "/r", NULL, NULL, 0, "/r" },
	{ "redis+unix:///tmp/r.sock", 1, NULL, 6379, "/tmp/r.sock", NULL,
	    NULL, 0, "/tmp/r.sock" },
	{ "unix://:" PW "@/tmp/r.sock", 1, NULL, 6379, "/tmp/r.sock", NULL,
	    PW, 0, "/tmp/r.sock" },
	{ "unix://u:pw@/tmp/r.sock?db=1", 1, NULL, 6379, "/tmp/r.sock", "u",
	    "pw", 1, "/tmp/r.sock" },
	{ "unix://:p@/w@/tmp/r.sock", 1, NULL, 6379, "/tmp/r.sock", NULL,
	    "p@/w", 0, "/tmp/r.sock" },
	{ "unix://:p?db=1@/tmp/r", 1, NULL, 6379, "/tmp/r", NULL, "p?db=1", 0,
	    "/tmp/r" },
	{ "unix:///tmp/a@/b.sock", 1, NULL, 6379, "/tmp/a@/b.sock", NULL,
	    NULL, 0, "/tmp/a@/b.sock" },
};

/* Fails unless got and want are both NULL or equal strings. */
static void
assert_opt_str(const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	unit_assert_str(got, want);
}

/* One URL that parses: every field. */
static void
test_ok(void **state)
{
	const struct ok_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	struct redis_url u;
	char err[256] = "";
	int rc;

	rc = redis_url_parse(in, &u, err, sizeof(err));
	if (rc != 0)
		print_error("err: %s\n", unit_q(err));
	assert_int_equal(rc, 0);
	assert_int_equal(u.is_unix, c->is_unix);
	assert_int_equal(u.is_tls, 0);
	assert_opt_str(u.host, c->host);
	assert_int_equal(u.port, c->port);
	assert_opt_str(u.path, c->path);
	assert_opt_str(u.user, c->user);
	assert_opt_str(u.password, c->password);
	assert_int_equal(u.db, c->db);
	unit_assert_str(u.display, c->display);
	if (c->password != NULL)
		assert_null(strstr(u.display, c->password));
	redis_url_free(&u);
	assert_null(u.host);
	assert_null(u.password);
	redis_url_free(&u);	/* a second free is harmless */
}

struct bad_case {
	const char	*in;
	const char	*reason;	/* a part of the message */
	const char	*todo;
};

static const struct bad_case bad_cases[] = {
	/* Scheme. */
	{ "", "expected redis:// or unix://", NULL },
	{ "localhost:6379", "expected redis:// or unix://", NULL },
	{ "http://h", "expected redis:// or unix://", NULL },
	{ "redis:/h", "expected redis:// or unix://", NULL },
	{ "REDIS://h", "expected redis:// or unix://", NULL },
	{ "rediss:/h", "expected redis:// or unix://", NULL },
	{ "REDISS://h", "expected redis:// or unix://", NULL },
	{ " redis://h", "expected redis:// or unix://", NULL },
	{ "unix:/tmp/s", "expected redis:// or unix://", NULL },
	/* Host. */
	{ "redis://", "missing host", NULL },
	{ "redis://:6379", "missing host", NULL },
	{ "redis:///0", "missing host", NULL },
	{ "redis://[]", "missing host", NULL },
	{ "redis://[]:6379", "missing host", NULL },
	{ "redis://:" PW "@", "missing host", NULL },
	{ "redis://:" PW "@/1", "missing host", NULL },
	{ "redis://[::1", "unclosed '['", NULL },
	{ "redis://[::1/0]", "unclosed '['", NULL },
	/* Port. */
	{ "redis://h:0", "bad port '0' (1-65535)", NULL },
	/* Seed lists. */
	{ "redis://a,", "missing host", NULL },
	{ "redis://,a", "missing host", NULL },
	{ "redis://a,,b", "missing host", NULL },
	{ "redis://a,b:0", "bad port '0'", NULL },
	{ "redis://a,b:x/1", "the port is not a number", NULL },
	{ "redis://a,[::1/1", "unclosed '['", NULL },
	{ "redis://a,b/x", "bad database number 'x'", NULL },
	{ "redis://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "more than 16 seeds",
	    NULL },
	{ "rediss://a,b:0?insecure=1", "bad port '0'", NULL },
	{ "redis://h:65536", "bad port '65536'", NULL },
	{ "redis://h:99999999999", "bad port", NULL },
	{ "redis://h:", "the port is not a number", NULL },
	{ "redis://h:abc", "the port is not a number", NULL },
	{ "redis://h:12ab", "the port is not a number", NULL },
	{ "redis://h:-1", "the port is not a number", NULL },
	{ "redis://h:+1", "the port is not a number", NULL },
	{ "redis://h: 1", "the port is not a number", NULL },
	{ "redis://h:1:2", "the port is not a number", NULL },
	{ "redis://[::1]x", "the port is not a number", NULL },
	{ "redis://[::1]:0", "bad port '0'", NULL },
	{ "redis://::1", "missing host", NULL },
	/* Database. */
	{ "redis://h/abc", "bad database number 'abc'", NULL },
	{ "redis://h/-1", "bad database number '-1'", NULL },
	{ "redis://h/+1", "bad database number", NULL },
	{ "redis://h/2147483648", "bad database number", NULL },
	{ "redis://h/99999999999", "bad database number", NULL },
	{ "redis://h/1/2", "bad database number", NULL },
	{ "redis://h/1 ", "bad database number", NULL },
	{ "redis://h//", "bad database number", NULL },
	/* Query and fragment. */
	{ "redis://h?db=1", "unexpected '?' or '#'", NULL },
	{ "redis://h/1#x", "unexpected '?' or '#'", NULL },
	{ "redis://:" PW "?@h", "unexpected '?' or '#'", NULL },
	/* User information. */
	{ "redis://user@h", "user name without password", NULL },
	{ "redis://@h", "user name without password", NULL },
	{ "redis://user:@h", "user name without password", NULL },
	{ "redis://:%zz@h", "bad %-escape in the password", NULL },
	{ "redis://:%4@h", "bad %-escape in the password", NULL },
	{ "redis://:" PW "%@h", "bad %-escape in the password", NULL },
	{ "redis://:%00@h", "bad %-escape in the password", NULL },
	{ "redis://:a%00b@h", "bad %-escape in the password", NULL },
	{ "redis://%zz:pw@h", "bad %-escape in the user name", NULL },
	{ "redis://%00:pw@h", "bad %-escape in the user name", NULL },
	/* Unix sockets. */
	{ "unix://", "must be absolute", NULL },
	{ "unix://tmp/r.sock", "must be absolute", NULL },
	{ "unix://u:" PW "@tmp/r.sock", "must be absolute", NULL },
	{ "redis+unix://r.sock", "must be absolute", NULL },
	{ "unix:///", "missing socket path", NULL },
	{ "unix:///?db=1", "missing socket path", NULL },
	{ "unix://:" PW "@/", "missing socket path", NULL },
	{ "unix:///tmp/s?db=", "bad query '?db='", NULL },
	{ "unix:///tmp/s?db=x", "bad query", NULL },
	{ "unix:///tmp/s?db=-1", "bad query", NULL },
	{ "unix:///tmp/s?db=2147483648", "bad query", NULL },
	{ "unix:///tmp/s?x=1", "bad query '?x=1' (only ?db=N)", NULL },
	{ "unix:///tmp/s?db=1&x=2", "bad query", NULL },
	{ "unix:///tmp/s?", "bad query", NULL },
	{ "unix://user@/tmp/s", "user name without password", NULL },
	{ "unix://:%zz@/tmp/s", "bad %-escape in the password", NULL },
	{ "unix://u:" PW "%4@/tmp/s", "bad %-escape in the password", NULL },
	/* TLS. */
	{ "rediss://", "missing host", NULL },
	{ "rediss://?sni=h", "missing host", NULL },
	{ "rediss://h:0", "bad port '0'", NULL },
	{ "rediss://h/x?sni=h", "bad database number 'x'", NULL },
	{ "rediss://:" PW "?@h", "missing host", NULL },
	{ "rediss://h#x", "unexpected '#'", NULL },
	{ "rediss://h?sni=a#x", "unexpected '#'", NULL },
	{ "rediss://user@h", "user name without password", NULL },
	{ "rediss://:%zz@h", "bad %-escape in the password", NULL },
	{ "rediss://h?", "empty query parameter", NULL },
	{ "rediss://h?sni=a&", "empty query parameter", NULL },
	{ "rediss://h?&sni=a", "empty query parameter", NULL },
	{ "rediss://h?=1", "empty query parameter", NULL },
	{ "rediss://h?foo=1", "unknown query parameter 'foo' (cacert, cert, "
	    "key, sni, insecure)", NULL },
	{ "rediss://h?db=1", "unknown query parameter 'db'", NULL },
	{ "rediss://h?CACERT=/a", "unknown query parameter 'CACERT'", NULL },
	{ "rediss://h?cacert", "query parameter 'cacert' without a value",
	    NULL },
	{ "rediss://h?cert=", "query parameter 'cert' without a value", NULL },
	{ "rediss://h?sni=a&sni=b", "query parameter 'sni' given twice",
	    NULL },
	{ "rediss://h?insecure=1&insecure=1", "'insecure' given twice", NULL },
	{ "rediss://h?insecure=yes", "insecure must be 0 or 1", NULL },
	{ "rediss://h?insecure=", "'insecure' without a value", NULL },
	{ "rediss://h?insecure=2", "insecure must be 0 or 1", NULL },
	{ "rediss://h?cacert=%zz", "bad %-escape in query parameter 'cacert'",
	    NULL },
	{ "rediss://h?key=a%00b", "bad %-escape in query parameter 'key'",
	    NULL },
	{ "rediss://h?sni=%4", "bad %-escape in query parameter 'sni'", NULL },
	{ "redis://h?cacert=/a", "unexpected '?' or '#'", NULL },
	/* Sentinel. */
	{ "redis-sentinel://h", "needs ?master=NAME", NULL },
	{ "redis-sentinel://h?", "empty query parameter", NULL },
	{ "redis-sentinel://h?sentinel_user=u&sentinel_password=p",
	    "needs ?master=NAME", NULL },
	{ "redis-sentinel://h?master=", "'master' without a value", NULL },
	{ "redis-sentinel://h?master=a&master=b", "'master' given twice",
	    NULL },
	{ "redis-sentinel://?master=m", "missing host", NULL },
	{ "redis-sentinel://h,?master=m", "missing host", NULL },
	{ "redis-sentinel://,h?master=m", "missing host", NULL },
	{ "redis-sentinel://a,,b?master=m", "missing host", NULL },
	{ "redis-sentinel://:" PW "@/1?master=m", "missing host", NULL },
	{ "redis-sentinel://h:0?master=m", "bad port '0'", NULL },
	{ "redis-sentinel://a,h:65536?master=m", "bad port '65536'", NULL },
	{ "redis-sentinel://a,h:x?master=m", "the port is not a number",
	    NULL },
	{ "redis-sentinel://a,[::1?master=m", "unclosed '['", NULL },
	{ "redis-sentinel://h/x?master=m", "bad database number 'x'", NULL },
	{ "redis-sentinel://h,i/1/2?master=m", "bad database number", NULL },
	{ "redis-sentinel://h?master=m#x", "unexpected '#'", NULL },
	{ "redis-sentinel://user@h?master=m", "user name without password",
	    NULL },
	{ "redis-sentinel://:%zz@h?master=m", "bad %-escape in the password",
	    NULL },
	{ "redis-sentinel://h?master=%zz", "bad %-escape in query parameter "
	    "'master'", NULL },
	{ "redis-sentinel://h?master=m&sentinel_user=u",
	    "sentinel_user without sentinel_password", NULL },
	{ "redis-sentinel://h?master=m&sentinel_password=%4",
	    "bad %-escape in query parameter 'sentinel_password'", NULL },
	{ "redis-sentinel://h?master=m&db=1", "unknown query parameter 'db' "
	    "(master, sentinel_user, sentinel_password)", NULL },
	{ "redis-sentinel://h?master=m&cacert=/a", "query parameter 'cacert' "
	    "needs TLS (rediss-sentinel://)", NULL },
	{ "redis-sentinel://h?master=m&insecure=1", "'insecure' needs TLS",
	    NULL },
	{ "rediss-sentinel://h?master=m&foo=1", "unknown query parameter "
	    "'foo' (cacert, cert, key, sni, insecure, master, sentinel_user, "
	    "sentinel_password)", NULL },
	{ "rediss-sentinel://h?master=m&insecure=2", "insecure must be 0 or 1",
	    NULL },
	{ "rediss-sentinel://h?cacert=/a", "needs ?master=NAME", NULL },
	{ "rediss://h?master=m", "query parameter 'master' needs a Sentinel "
	    "URL (redis-sentinel://)", NULL },
	{ "redis-sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q?master=m",
	    "more than 16 sentinels", NULL },
	{ "redis+sentinel://h?master=m", "expected redis:// or unix://",
	    NULL },
	{ "sentinel://h?master=m", "expected redis:// or unix://", NULL },
};

struct tls_case {
	const char	*in;
	const char	*host;
	int		 port;
	const char	*password;
	int		 db;
	const char	*cacert, *cert, *key, *sni;
	int		 insecure;
};

static const struct tls_case tls_cases[] = {
	{ "rediss://h", "h", 6379, NULL, 0, NULL, NULL, NULL, NULL, 0 },
	{ "rediss://:" PW "@h:6380/2?cacert=/etc/ca.pem", "h", 6380, PW, 2,
	    "/etc/ca.pem", NULL, NULL, NULL, 0 },
	{ "rediss://h?cacert=/a&cert=/b&key=/c&sni=x.example&insecure=1", "h",
	    6379, NULL, 0, "/a", "/b", "/c", "x.example", 1 },
	{ "rediss://h?insecure=1&sni=s&key=/k&cert=/c", "h", 6379, NULL, 0,
	    NULL, "/c", "/k", "s", 1 },
	{ "rediss://h/1?cacert=/p%20q%26r%3D", "h", 6379, NULL, 1, "/p q&r=",
	    NULL, NULL, NULL, 0 },
	{ "rediss://h?cacert=/a@b/c?d", "h", 6379, NULL, 0, "/a@b/c?d", NULL,
	    NULL, NULL, 0 },
	{ "rediss://[::1]:7000?insecure=0", "::1", 7000, NULL, 0, NULL, NULL,
	    NULL, NULL, 0 },
	{ "rediss://:p%3Fw@h/?sni=s", "h", 6379, "p?w", 0, NULL, NULL, NULL,
	    "s", 0 },
	{ "rediss://u:p@ss@h", "h", 6379, "p@ss", 0, NULL, NULL, NULL, NULL,
	    0 },
};

struct sentinel_case {
	const char	*in;
	int		 is_tls;
	const char	*sentinels;	/* "host:port" joined by ',' */
	const char	*master;
	const char	*user, *password;
	int		 db;
	const char	*sentinel_user, *sentinel_password;
	const char	*cacert;
	int		 insecure;
};

static const struct sentinel_case sentinel_cases[] = {
	{ "redis-sentinel://h?master=m", 0, "h:26379", "m", NULL, NULL, 0,
	    NULL, NULL, NULL, 0 },
	{ "redis-sentinel://127.0.0.1:26380,127.0.0.1,s3:5000?master=mymaster",
	    0, "127.0.0.1:26380,127.0.0.1:26379,s3:5000", "mymaster", NULL,
	    NULL, 0, NULL, NULL, NULL, 0 },
	{ "redis-sentinel://alice:" PW "@a:1,b:2/3?master=m%2Fx", 0,
	    "a:1,b:2", "m/x", "alice", PW, 3, NULL, NULL, NULL, 0 },
	{ "redis-sentinel://:p@ss@a,b/?master=m", 0, "a:26379,b:26379", "m",
	    NULL, "p@ss", 0, NULL, NULL, NULL, 0 },
	{ "redis-sentinel://[::1]:26380,[::2],h?master=m", 0,
	    "::1:26380,::2:26379,h:26379", "m", NULL, NULL, 0, NULL, NULL,
	    NULL, 0 },
	{ "redis-sentinel://h?sentinel_password=sp&master=m&sentinel_user=su",
	    0, "h:26379", "m", NULL, NULL, 0, "su", "sp", NULL, 0 },
	{ "redis-sentinel://:pw@h?master=m&sentinel_password=s%26p", 0,
	    "h:26379", "m", NULL, "pw", 0, NULL, "s&p", NULL, 0 },
	{ "rediss-sentinel://h1,h2:26380?master=m&cacert=/ca.pem", 1,
	    "h1:26379,h2:26380", "m", NULL, NULL, 0, NULL, NULL, "/ca.pem",
	    0 },
	{ "rediss-sentinel://u:p@h/2?insecure=1&master=m&sentinel_user=a&"
	    "sentinel_password=b", 1, "h:26379", "m", "u", "p", 2, "a", "b",
	    NULL, 1 },
	{ "redis-sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p?master=m", 0,
	    "a:26379,b:26379,c:26379,d:26379,e:26379,f:26379,g:26379,h:26379,"
	    "i:26379,j:26379,k:26379,l:26379,m:26379,n:26379,o:26379,p:26379",
	    "m", NULL, NULL, 0, NULL, NULL, NULL, 0 },
};

/* One Sentinel URL that parses: the sentinels, the master, the rest. */
static void
test_sentinel(void **state)
{
	const struct sentinel_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	char list[512] = "", want[256];
	struct redis_url u;
	char err[256] = "";
	int rc, i;

	rc = redis_url_parse(in, &u, err, sizeof(err));
	if (rc != 0)
		print_error("err: %s\n", unit_q(err));
	assert_int_equal(rc, 0);
	assert_int_equal(u.is_tls, c->is_tls);
	assert_int_equal(u.is_unix, 0);
	assert_null(u.host);
	for (i = 0; i < u.nsentinels; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s:%d", i > 0 ? "," : "", u.sentinels[i].host,
		    u.sentinels[i].port);
	unit_assert_str(list, c->sentinels);
	unit_assert_str(u.master, c->master);
	assert_opt_str(u.user, c->user);
	assert_opt_str(u.password, c->password);
	assert_int_equal(u.db, c->db);
	assert_opt_str(u.sentinel_user, c->sentinel_user);
	assert_opt_str(u.sentinel_password, c->sentinel_password);
	assert_opt_str(u.tls.cacert, c->cacert);
	assert_int_equal(u.tls.insecure, c->insecure);
	snprintf(want, sizeof(want), "master %s", c->master);
	unit_assert_str(u.display, want);
	assert_null(strstr(u.display, PW));
	redis_url_free(&u);
	assert_null(u.sentinels);
	assert_int_equal(u.nsentinels, 0);
	assert_null(u.master);
	assert_null(u.sentinel_password);
	redis_url_free(&u);
}

struct seed_case {
	const char	*in;
	int		 is_tls;
	const char	*seeds;		/* host:port,... */
	const char	*host;		/* the first */
	int		 port;
	const char	*password;
	int		 db;
	const char	*display;
};

static const struct seed_case seed_cases[] = {
	{ "redis://10.0.0.1:7000,10.0.0.2:7000", 0,
	    "10.0.0.1:7000,10.0.0.2:7000", "10.0.0.1", 7000, NULL, 0,
	    "10.0.0.1:7000,10.0.0.2:7000" },
	{ "redis://a,b:7001,c", 0, "a:6379,b:7001,c:6379", "a", 6379, NULL, 0,
	    "a:6379,b:7001,c:6379" },
	{ "redis://:" PW "@a:1,b:2/3", 0, "a:1,b:2", "a", 1, PW, 3,
	    "a:1,b:2" },
	{ "redis://[::1]:7000,[::2]", 0, "::1:7000,::2:6379", "::1", 7000,
	    NULL, 0, "[::1]:7000,[::2]:6379" },
	{ "rediss://h1:6380,h2:6380?cacert=/ca.pem", 1, "h1:6380,h2:6380",
	    "h1", 6380, NULL, 0, "h1:6380,h2:6380" },
	{ "redis://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p:1", 0,
	    "a:6379,b:6379,c:6379,d:6379,e:6379,f:6379,g:6379,h:6379,"
	    "i:6379,j:6379,k:6379,l:6379,m:6379,n:6379,o:6379,p:1", "a", 6379,
	    NULL, 0, "a:6379,b:6379,c:6379,d:6379,e:6379,f:6379,g:6379,"
	    "h:6379,i:6379,j:6379,k:6379,l:6379,m:6379,n:6379,o:6379,p:1" },
};

/* One URL with a list of seeds that parses: the list, the first, the
   rest. */
static void
test_seeds(void **state)
{
	const struct seed_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	char list[512] = "", err[256] = "";
	struct redis_url u;
	int rc, i;

	rc = redis_url_parse(in, &u, err, sizeof(err));
	if (rc != 0)
		print_error("err: %s\n", unit_q(err));
	assert_int_equal(rc, 0);
	assert_int_equal(u.is_tls, c->is_tls);
	for (i = 0; i < u.nseeds; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		    "%s%s:%d", i > 0 ? "," : "", u.seeds[i].host,
		    u.seeds[i].port);
	unit_assert_str(list, c->seeds);
	unit_assert_str(u.host, c->host);
	assert_int_equal(u.port, c->port);
	assert_opt_str(u.password, c->password);
	assert_int_equal(u.db, c->db);
	unit_assert_str(u.display, c->display);
	assert_int_equal(u.nsentinels, 0);
	redis_url_free(&u);
	assert_null(u.seeds);
	assert_int_equal(u.nseeds, 0);
	redis_url_free(&u);
}

/* One rediss:// URL that parses: the TLS settings and the rest. */
static void
test_tls(void **state)
{
	const struct tls_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	struct redis_url u;
	char err[256] = "";
	int rc;

	rc = redis_url_parse(in, &u, err, sizeof(err));
	if (rc != 0)
		print_error("err: %s\n", unit_q(err));
	assert_int_equal(rc, 0);
	assert_int_equal(u.is_tls, 1);
	assert_int_equal(u.is_unix, 0);
	assert_opt_str(u.host, c->host);
	assert_int_equal(u.port, c->port);
	assert_opt_str(u.password, c->password);
	assert_int_equal(u.db, c->db);
	assert_opt_str(u.tls.cacert, c->cacert);
	assert_opt_str(u.tls.cert, c->cert);
	assert_opt_str(u.tls.key, c->key);
	assert_opt_str(u.tls.sni, c->sni);
	assert_int_equal(u.tls.insecure, c->insecure);
	if (c->password != NULL)
		assert_null(strstr(u.display, c->password));
	redis_url_free(&u);
	assert_null(u.tls.cacert);
	assert_null(u.tls.sni);
	redis_url_free(&u);
}

/* One URL that must fail: the reason, no password, nothing left. */
static void
test_bad(void **state)
{
	const struct bad_case *c = *state;
	char *in = unit_dup(c->in, strlen(c->in));
	struct redis_url u;
	char err[256] = "";
	int rc;

	rc = redis_url_parse(in, &u, err, sizeof(err));
	assert_int_equal(rc, -1);
	if (strncmp(err, "bad Redis URL: ", 15) != 0 ||
	    strstr(err, c->reason) == NULL) {
		print_error("err %s lacks %s\n", unit_q(err), unit_q(c->reason));
		fail();
	}
	assert_null(strchr(err, '\n'));
	assert_null(strstr(err, PW));
	assert_null(u.host);
	assert_null(u.path);
	assert_null(u.user);
	assert_null(u.password);
	assert_null(u.tls.cacert);
	assert_null(u.tls.cert);
	assert_null(u.tls.key);
	assert_null(u.tls.sni);
	assert_null(u.sentinels);
	assert_null(u.master);
	assert_null(u.sentinel_user);
	assert_null(u.sentinel_password);
}

/* A small err buffer gets a cut, NUL-terminated reason. */
static void
test_small_err(void **state)
{
	struct redis_url u;
	char err[9];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_int_equal(redis_url_parse("http://h", &u, err, 8), -1);
	unit_assert_str(err, "bad Red");
	assert_int_equal(err[8], 'x');
}

/* A host of 300 bytes: display is cut, never overrun. */
static void
test_long_host(void **state)
{
	char in[8 + 300 + 1];
	struct redis_url u;
	char err[256];

	(void)state;
	memcpy(in, "redis://", 8);
	memset(in + 8, 'h', 300);
	in[308] = '\0';
	assert_int_equal(redis_url_parse(in, &u, err, sizeof(err)), 0);
	assert_int_equal(strlen(u.host), 300);
	assert_true(strlen(u.display) < sizeof(u.display));
	assert_int_equal(strncmp(u.display, in + 8, 256), 0);
	redis_url_free(&u);
}

/* A password of 1000 bytes survives whole and stays out of display. */
static void
test_long_password(void **state)
{
	char in[1100];
	struct redis_url u;
	char err[256];

	(void)state;
	strcpy(in, "redis://:");
	memset(in + 9, 'p', 1000);
	strcpy(in + 1009, "@h:1/2");
	assert_int_equal(redis_url_parse(in, &u, err, sizeof(err)), 0);
	assert_int_equal(strlen(u.password), 1000);
	unit_assert_str(u.display, "h:1");
	assert_int_equal(u.db, 2);
	redis_url_free(&u);
}

int
main(void)
{
	struct unit_suite s = { 0 };
	size_t i;

	for (i = 0; i < UNIT_NROWS(ok_cases); i++)
		unit_add(&s, test_ok, &ok_cases[i], NULL,
		    "redis_url_parse(%s) parses", unit_q(ok_cases[i].in));
	for (i = 0; i < UNIT_NROWS(bad_cases); i++)
		unit_add(&s, test_bad, &bad_cases[i], bad_cases[i].todo,
		    "redis_url_parse(%s) fails: %s", unit_q(bad_cases[i].in),
		    bad_cases[i].reason);
	for (i = 0; i < UNIT_NROWS(tls_cases); i++)
		unit_add(&s, test_tls, &tls_cases[i], NULL,
		    "redis_url_parse(%s) parses TLS settings",
		    unit_q(tls_cases[i].in));
	for (i = 0; i < UNIT_NROWS(sentinel_cases); i++)
		unit_add(&s, test_sentinel, &sentinel_cases[i], NULL,
		    "redis_url_parse(%s) parses a Sentinel URL",
		    unit_q(sentinel_cases[i].in));
	for (i = 0; i < UNIT_NROWS(seed_cases); i++)
		unit_add(&s, test_seeds, &seed_cases[i], NULL,
		    "redis_url_parse(%s) parses a seed list",
		    unit_q(seed_cases[i].in));
	unit_add(&s, test_small_err, NULL, NULL,
	    "redis_url_parse cuts its reason to errlen");
	unit_add(&s, test_long_host, NULL, NULL,
	    "redis_url_parse of a 300-byte host cuts display");
	unit_add(&s, test_long_password, NULL, NULL,
	    "redis_url_parse of a 1000-byte password");
	return unit_run(&s);
}

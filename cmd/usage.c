/*
 * usage: the help text (it mirrors keylock(1)) and usage errors.
 */
#include "config.h"

#include <err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "exits.h"

/* Prints the usage text to fp. */
void
usage(FILE *fp)
{
	fputs(
"Usage: keylock run [OPTIONS] KEY [--] COMMAND [ARG]...\n"
"       keylock acquire [OPTIONS] KEY\n"
"       keylock release [--token T] [OPTIONS] KEY\n"
"       keylock renew [--token T] [-t TTL] [OPTIONS] KEY\n"
"       keylock release --force [OPTIONS] KEY\n"
"       keylock status [OPTIONS] [--json] KEY\n"
"       keylock list [OPTIONS] [--json]\n"
"       keylock forget [OPTIONS] KEY\n"
"       keylock --help | --version [--json]\n"
"\n"
"Run COMMAND while holding the lock named KEY; release it when COMMAND ends.\n"
"acquire takes KEY and leaves it held by a keeper process, printing\n"
"KEYLOCK_KEY=, KEYLOCK_TOKEN= and KEYLOCK_FENCE= lines for eval; release\n"
"with the token lets go of it, from any process (Redis: any machine).\n"
"\n"
"Waiting (run, acquire): callers that wait are served in the order they came\n"
"  -n, --no-wait               give up at once if KEY is held or anyone waits\n"
"  -w, --wait DURATION         give up after DURATION (default: wait forever)\n"
"  -E, --conflict-exit-code N  exit status when giving up (default 75)\n"
"      --supersede             give up waiting when a newer --supersede caller\n"
"                              comes\n"
"\n"
"Sharing (run, acquire):\n"
"  -s, --shared                share KEY with other --shared holders; an\n"
"                              exclusive holder excludes them all\n"
"      --slots N               up to N holders at once, each with its own\n"
"                              KEYLOCK_SLOT, 0 to N-1; all callers use one N\n"
"\n"
"Holding (run, acquire):\n"
"      --note TEXT             a short note shown with the holder\n"
"      --cooldown DURATION     after a run that exits 0 (acquire: a release\n"
"                              by token), KEY stays closed until DURATION\n"
"                              after that run started\n"
"      --hold DURATION         acquire: let go after DURATION (default 1h)\n"
"      --owner PID             acquire: let go when process PID ends\n"
"      --min-replicas N        Redis: count the lock only once N replicas\n"
"                              acknowledge it (WAIT, within the connect\n"
"                              timeout; else exit 69), each renewal too\n"
"                              (renew: the renewal it makes)\n"
"      --token T               release, renew: the token acquire printed\n"
"                              (env KEYLOCK_TOKEN)\n"
"\n", fp);
	fputs(
"Backend:\n"
"  -d, --dir DIR               local lock directory (env KEYLOCK_DIR)\n"
"      --redis URL             use Redis (env KEYLOCK_REDIS_URL):\n"
"                              redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]\n"
"                              rediss://...[?cacert=FILE&...] (TLS)\n"
"                              unix:///PATH/TO/SOCKET[?db=N]\n"
"                              redis-sentinel://[[USER]:PASSWORD@]HOST[:PORT]\n"
"                              [,HOST[:PORT]]...[/DB]?master=NAME (Sentinel;\n"
"                              rediss-sentinel:// for TLS)\n"
"                              HOST[:PORT] may be a list H1:P1,H2:P2 of seeds,\n"
"                              any nodes of a Redis Cluster\n"
"  -N, --namespace NAME        Redis key prefix (default keylock)\n"
"      --connect-timeout DURATION  Redis connect and command timeout (default 2s)\n"
"  -t, --ttl DURATION          Redis lease, renewed while running (default 30s)\n"
"  -k, --kill-after DURATION   SIGKILL this long after SIGTERM, to COMMAND on a\n"
"                              lost lease and to what it leaves running\n"
"                              (default 10s)\n"
"      --on-lost=kill|warn     on a lost lease, stop COMMAND or only warn\n"
"\n"
"TLS (rediss://, rediss-sentinel://; URL parameters too, overridden by these):\n"
"      --cacert FILE           trust these CA certificates, not the system's\n"
"      --cert FILE             client certificate, for servers that want one\n"
"      --key FILE              its private key, if not in the --cert file\n"
"      --sni NAME              server name to send and verify, not HOST\n"
"      --insecure              do not verify the server (warns)\n""\n"
"Caching (run):\n"
"      --memo TTL              print a cached stdout younger than TTL, or run\n"
"                              COMMAND once and cache its stdout if it exits 0\n"
"      --memo-cwd              the working directory is part of the cache key\n"
"      --memo-failures DURATION  cache a non-zero exit too, for DURATION, and\n"
"                              replay it with its exit status\n"
"      --memo-env NAME         so is variable NAME (unset and empty differ)\n"
"      --memo-file PATH        so is the content of PATH (missing differs)\n"
"      --memo-max SIZE         cache at most SIZE bytes (default 64M; K, M, G)\n"
"      --memo-refresh          run now and replace the entry (or take the result\n"
"                              of a run in progress)\n"
"      --memo-stale DURATION   print an entry up to DURATION past its TTL at\n"
"                              once and refresh it in the background\n"
"      --memo-stderr           cache stderr too and replay it on a hit\n"
"  COMMAND may write its own TTL (0: do not cache) to $KEYLOCK_MEMO_TTL_FILE.\n"
"\n"
"Other:\n"
"      --json                  status, list, --version: print JSON\n"
"      --force                 release: take the lock from its holder\n"
"  -q, --quiet                 no warnings or conflict messages\n"
"  -v, --verbose               say what happens, on stderr\n"
"  -h, --help                  print this help\n"
"  -V, --version               print the version and the features built in\n"
"\n"
"DURATION: a number with an optional unit ms, s, m, h, d (a bare number is\n"
"seconds).  Exit status of run: COMMAND's, or 128+N if it died of signal N;\n"
"75 conflict or cooldown, 64 usage, 69 backend unavailable, 70 internal\n"
"error, 71 system resources, 73 cannot create, 74 I/O error or --memo output\n"
"not written, 76 lease lost (release, renew: the token does not hold KEY),\n"
"126 not executable, 127 not found.\n"
"See keylock(1).\n", fp);
}

/* Prints the one line "keylock: MSG" and exits 64. */
void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

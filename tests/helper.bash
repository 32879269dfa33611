# Shared setup for keylock's bats suite: a private temp dir per test, the
# keylock binary under test, and a real redis-server on a free loopback
# port and a unix socket, started once per test file.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

KEYLOCK=${KEYLOCK_BIN:-$BATS_TEST_DIRNAME/../keylock}

# Per-test scratch space; lock and cache directories live inside it.
common_setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/keylock-test.XXXXXX")
	chmod 700 "$TMP"
	export KEYLOCK_DIR="$TMP/locks"
	export XDG_CACHE_HOME="$TMP/cache"
	unset KEYLOCK_REDIS_URL
}

# Kills what the test left behind and removes its scratch space.
common_teardown() {
	if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
		for f in "$TMP"/*.pid; do
			[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
		done
		rm -rf "$TMP"
	fi
	return 0
}

# Prints a TCP port on 127.0.0.1 that nothing listens on, below the
# kernel's ephemeral range, so that no outgoing connection holds it
# (Linux's default range starts at 32768).
free_port() {
	local p lo=10000 hi
	read -r hi _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null ||
	    hi=32768
	[ "$hi" -gt $((lo + 1000)) ] || { lo=1024; hi=32768; }
	for _ in $(seq 1 50); do
		p=$(( lo + RANDOM % (hi - lo) ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Starts redis-server on 127.0.0.1:$REDIS_PORT and $REDIS_SOCK with extra
# arguments "$@"; sets REDIS_URL.  Call from setup_file.
redis_start() {
	local try
	REDIS_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/keylock-redis.XXXXXX")
	REDIS_SOCK="$REDIS_DIR/redis.sock"
	# A free port can be taken before the server binds it: try another.
	for try in 1 2 3; do
		REDIS_PORT=$(free_port)
		: >"$REDIS_DIR/redis.log"
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		    --appendonly no --unixsocket "$REDIS_SOCK" \
		    --unixsocketperm 700 --dir "$REDIS_DIR" --daemonize yes \
		    --pidfile "$REDIS_DIR/redis.pid" \
		    --logfile "$REDIS_DIR/redis.log" "$@" >/dev/null
		for _ in $(seq 1 200); do
			redis-cli -s "$REDIS_SOCK" ping 2>/dev/null |
			    grep -q PONG && break 2
			# A server that gave up says so: try again at once.
			grep -q 'aborting' "$REDIS_DIR/redis.log" 2>/dev/null &&
			    break
			sleep 0.05
		done
		echo "redis-server on port $REDIS_PORT did not start" \
		    "(try $try): $(tail -3 "$REDIS_DIR/redis.log")" >&2
		[ -s "$REDIS_DIR/redis.pid" ] &&
		    kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null
		rm -f "$REDIS_DIR/redis.pid"
	done
	REDIS_PID=$(cat "$REDIS_DIR/redis.pid") || return 1
	REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
	export REDIS_DIR REDIS_PORT REDIS_SOCK REDIS_PID REDIS_URL
}

# Stops the redis-server from redis_start.  Call from teardown_file.
redis_stop() {
	if [ -n "${REDIS_PID:-}" ]; then
		kill -CONT "$REDIS_PID" 2>/dev/null
		kill "$REDIS_PID" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	[ -n "${REDIS_DIR:-}" ] && rm -rf "$REDIS_DIR"
	return 0
}

# redis-cli against the test server.
rcli() {
	redis-cli -s "$REDIS_SOCK" "$@"
}

# Prints how many replicas acknowledged every write to the master that
# redis-cli arguments "$@" reach, waiting $1 ms at most.  WAIT counts the
# writes of its own connection only (a fresh one has none: it returns at
# once), so a PUBLISH, which goes down the replication stream after every
# write before it, comes first on that connection.
replicas_acked() {
	local ms=$1
	shift
	printf 'PUBLISH keylock-test:replicated 1\nWAIT 1 %s\n' "$ms" |
	    redis-cli "$@" | tail -1
}

# Waits (bounded, 10 s) until file $1 has a line matching regex $2.
wait_for_line() {
	for _ in $(seq 1 200); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for '$2' in $1" >&2
	return 1
}

# Waits (bounded, 10 s) until file $1 exists.
wait_for_file() {
	for _ in $(seq 1 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# Prints the pid of keylock $1's heartbeat, waiting (bounded, 10 s) for
# it: keylock forks it when the first renewal is due, a third of the TTL
# after the acquire.
heartbeat_of() {
	local hb
	for _ in $(seq 1 200); do
		hb=$(ps -o pid=,comm= --ppid "$1" | awk '$2 == "keylock" { print $1 }')
		[ -n "$hb" ] && { echo "$hb"; return 0; }
		sleep 0.05
	done
	echo "no heartbeat of $1" >&2
	return 1
}

# Waits (bounded, 10 s) until process $1 is gone.
wait_gone() {
	for _ in $(seq 1 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "process $1 still running" >&2
	return 1
}

# Holds local KEY in the background until release_local NAME; returns
# once held.  The command records its KEYLOCK_FENCE in $TMP/NAME.fence.
# Extra arguments go to keylock before KEY.
hold_local() {
	local key=$1 name=$2
	shift 2
	"$KEYLOCK" run "$@" -- "$key" sh -c 'echo "$KEYLOCK_FENCE" >"$1.fence"
	    touch "$1.started"
	    while [ ! -e "$1.release" ]; do sleep 0.1; done' x "$TMP/$name" \
	    >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/$name.pid"
	wait_for_file "$TMP/$name.started"
}

# Lets the holder NAME finish and waits for it.
release_local() {
	touch "$TMP/$1.release"
	wait "$(cat "$TMP/$1.pid")"
}

# How many times a --memo test command ran: the lines in $TMP/runs.
runs() {
	if [ -e "$TMP/runs" ]; then wc -l <"$TMP/runs"; else echo 0; fi
}

# Writes $TMP/job.sh for the --memo suites: logs each run to $TMP/runs,
# records an overlap in $TMP/overlap if another run is active at the same
# time, waits for $TMP/go on the first run if that fifo exists (touching
# $TMP/up first), prints "out" on stdout and "err" on stderr, and exits $1.
job_script() {
	cat >"$TMP/job.sh" <<EOF
#!/bin/bash
d='$TMP'
echo \$\$ >> "\$d/runs"
touch "\$d/active.\$\$"
[ "\$(ls "\$d"/active.* | wc -l)" -gt 1 ] && echo \$\$ >> "\$d/overlap"
if [ -p "\$d/go" ]; then
	touch "\$d/up"
	exec 4<>"\$d/go"
	read -t 10 x <&4
	rm -f "\$d/go"
fi
sleep 0.05
[ "\$(ls "\$d"/active.* | wc -l)" -gt 1 ] && echo \$\$ >> "\$d/overlap"
rm -f "\$d/active.\$\$"
echo out
echo err >&2
exit $1
EOF
	chmod +x "$TMP/job.sh"
}

# Succeeds when the pipe on our descriptor $1 holds at least its capacity
# less one page (partly filled pages may count as full): its writer is
# blocked.
pipe_full() {
	python3 -c 'import array, fcntl, sys, termios
fd = int(sys.argv[1])
n = array.array("i", [0])
fcntl.ioctl(fd, termios.FIONREAD, n)
sys.exit(0 if n[0] >= fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ) - 4096 else 1)' "$1"
}

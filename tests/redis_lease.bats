#!/usr/bin/env bats
# Redis leases: renewal by the heartbeat, expiry of a crashed holder, and
# a lost lease (deleted key, frozen server) stopping the command.

bats_require_minimum_version 1.5.0
load helper
load redis_suite

# Milliseconds on the monotonic-ish clock the shell has.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# Starts keylock on key $1 with options $2...; its command writes its
# pid to $TMP/cmd.pid, touches $TMP/up and sleeps.  Sets KL to keylock's
# pid; its stderr goes to $TMP/err, its status to $TMP/status (the
# subshell inherits set -e, hence the || rc=$?).  SETSID=setsid puts
# keylock in a process group of its own.
start_holder() {
	local key=$1
	shift
	(
		rc=0
		${SETSID:-} "$KEYLOCK" run --redis "$REDIS_URL" "$@" "$key" -- \
		    sh -c 'echo $$ > "$0/cmd.pid"; touch "$0/up"; exec sleep 30' \
		    "$TMP" 2>"$TMP/err" || rc=$?
		echo $rc > "$TMP/status"
	) &
	wait_for_file "$TMP/up"
	KL=$(pgrep -P $! -x keylock)
	echo "$KL" > "$TMP/kl.pid"
}

@test "the heartbeat keeps the lock past its TTL" {
	# A 1 s lease (renewed every 333 ms) held for 1.5 s: a shorter one
	# is lost to a heartbeat that a loaded machine stalls for 200 ms.
	run "$KEYLOCK" run --redis "$REDIS_URL" -t 1s job -- sh -c '
		sleep 1.5
		redis-cli -s "$0" PTTL "keylock:{job}:lock"
		"$1" run --redis "$2" -n job -- echo stolen
		echo "other: $?"' "$REDIS_SOCK" "$KEYLOCK" "$REDIS_URL"
	assert_success
	assert_line --regexp '^[1-9][0-9]*$'
	assert_line 'other: 75'
	refute_output --partial stolen
}

@test "holder SIGKILLed: a waiter gets the lock within the TTL" {
	start_holder job -t 1s
	local cmd
	cmd=$(cat "$TMP/cmd.pid")
	kill -9 "$KL"
	local t0
	t0=$(now_ms)
	run "$KEYLOCK" run --redis "$REDIS_URL" job -- echo got it
	assert_success
	assert_output --partial 'got it'
	# The 1 s lease, with room for a slow start under the sanitizers.
	[ $(( $(now_ms) - t0 )) -lt 2500 ] ||
	    fail "the waiter took $(( $(now_ms) - t0 )) ms"
	# The command died with keylock, and so did the heartbeat.
	wait_gone "$cmd"
	run pgrep -f "keylock run --redis $REDIS_URL -t 1s job"
	assert_failure
}

@test "the heartbeat never outlives keylock" {
	start_holder job -t 600ms
	local kids
	heartbeat_of "$KL" >/dev/null
	kids=$(pgrep -P "$KL" | tr '\n' ' ')
	[ -n "$kids" ] || return 1
	kill -9 "$KL"
	for p in $kids; do
		wait_gone "$p"
	done
	# No renewal after keylock died: the lease runs out.
	sleep 0.7
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
}

@test "a group-wide SIGTERM does not kill the heartbeat first" {
	SETSID=setsid start_holder job -t 1s
	# keylock forwards SIGTERM to the command; the heartbeat ignores it
	# and is stopped through its pipe before the release.  A heartbeat
	# killed by the signal would read as a lost lease.  It is forked at
	# the first renewal (333 ms): wait for it, or there is none to kill.
	heartbeat_of "$KL" >/dev/null
	kill -TERM -- "-$KL"
	wait_for_file "$TMP/status"
	run cat "$TMP/status"
	assert_output 143
	run grep -c 'lost the lock' "$TMP/err"
	assert_output 0
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
}

@test "deleting the lease stops the command with the lost code" {
	start_holder job -t 600ms -k 1s
	rcli DEL 'keylock:{job}:lock' >/dev/null
	wait_for_file "$TMP/status"
	run cat "$TMP/status"
	assert_output 76
	grep -q 'lost the lock on job' "$TMP/err"
	wait_gone "$(cat "$TMP/cmd.pid")"
}

@test "a lease taken over by another holder is lost" {
	start_holder job -t 600ms -k 1s
	rcli SET 'keylock:{job}:lock' \
	    '0123456789abcdef0123456789abcdef other 1 1700000000000 99' \
	    PX 60000 >/dev/null
	wait_for_file "$TMP/status"
	run cat "$TMP/status"
	assert_output 76
	# The release did not touch the other holder's lease.
	run rcli GET 'keylock:{job}:lock'
	assert_output --partial ' other '
}

@test "--on-lost=warn keeps the command running" {
	run "$KEYLOCK" run --redis "$REDIS_URL" -t 300ms --on-lost=warn job \
	    -- sh -c 'redis-cli -s "$0" DEL "keylock:{job}:lock" >/dev/null
		sleep 0.5; echo survived; exit 3' "$REDIS_SOCK"
	assert_failure 3
	assert_output --partial survived
	assert_output --partial 'lost the lock on job'
}

@test "redis-server frozen past the TTL: the command is stopped" {
	start_holder job -t 500ms -k 1s --connect-timeout 300ms
	local t0
	t0=$(now_ms)
	kill -STOP "$REDIS_PID"
	wait_for_file "$TMP/status"
	kill -CONT "$REDIS_PID"
	run cat "$TMP/status"
	assert_output 76
	grep -q 'lost the lock on job' "$TMP/err"
	# Lost at the validity deadline, not much later.
	[ $(( $(now_ms) - t0 )) -lt 2500 ]
}

@test "Redis gone at release time: the command's status, one warning" {
	mkfifo "$TMP/go"
	(
		rc=0
		"$KEYLOCK" run --redis "$REDIS_URL" --connect-timeout 300ms job \
		    -- sh -c 'touch "$0/up"; read x < "$0/go"; exit 5' "$TMP" \
		    2>"$TMP/err" || rc=$?
		echo $rc > "$TMP/status"
	) &
	wait_for_file "$TMP/up"
	kill -STOP "$REDIS_PID"
	local t0
	t0=$(now_ms)
	echo > "$TMP/go"
	wait_for_file "$TMP/status"
	kill -CONT "$REDIS_PID"
	[ $(( $(now_ms) - t0 )) -lt 2000 ]
	run cat "$TMP/status"
	assert_output 5
	[ "$(grep -c . "$TMP/err")" -eq 1 ]
}

@test "fences strictly increase across holders and machines" {
	local a b c
	a=$("$KEYLOCK" run --redis "$REDIS_URL" job -- sh -c 'echo $KEYLOCK_FENCE')
	b=$(KEYLOCK_DIR="$TMP/m2" "$KEYLOCK" run --redis "$REDIS_URL" job -- \
	    sh -c 'echo $KEYLOCK_FENCE')
	rcli DEL 'keylock:{job}:lock' >/dev/null
	c=$("$KEYLOCK" run --redis "unix://$REDIS_SOCK" job -- \
	    sh -c 'echo $KEYLOCK_FENCE')
	[ "$a" -lt "$b" ] || fail "fences $a $b $c"
	[ "$b" -lt "$c" ] || fail "fences $a $b $c"
}

@test "a waiter survives a dropped subscription" {
	mkfifo "$TMP/go"
	"$KEYLOCK" run --redis "$REDIS_URL" job -- \
	    sh -c 'touch "$0/up"; read x < "$0/go"' "$TMP" &
	wait_for_file "$TMP/up"
	"$KEYLOCK" run --redis "$REDIS_URL" job -- touch "$TMP/second" &
	local waiter=$!
	wait_subscribers 1 job
	rcli CLIENT KILL TYPE pubsub >/dev/null
	echo > "$TMP/go"
	wait "$waiter"
	[ -e "$TMP/second" ]
}

@test "a memo capture outlives the TTL: its temp key is renewed too" {
	# The capture lasts 1.5 s, past the 1 s lease; a shorter lease is
	# lost when a loaded machine stalls the heartbeat for 200 ms.
	run "$KEYLOCK" run --redis "$REDIS_URL" -t 1s --memo 1m job -- \
	    sh -c 'echo early; sleep 1.5; echo late'
	assert_success
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- \
	    sh -c 'echo early; sleep 1.5; echo late'
	assert_success
	assert_output "early
late"
	run rcli --scan --pattern 'keylock:{job}:memo:*:tmp:*'
	assert_output ''
}

@test "a memo producer that loses its lease stores nothing" {
	run "$KEYLOCK" run --redis "$REDIS_URL" -t 300ms -k 1s --memo 1m job \
	    -- sh -c 'echo out; redis-cli -s "$0" DEL "keylock:{job}:lock" \
		>/dev/null; sleep 2' "$REDIS_SOCK"
	assert_failure 76
	run rcli --scan --pattern 'keylock:{job}:memo:*'
	assert_output ''
}

# Starts a redis-server of the test's own on a free loopback port (it may
# be killed and restarted on that port); sets OWN_PORT, OWN_PID, OWN_URL.
# A free port can be taken before the server binds it: a first start
# tries another.
own_server() {
	local try fixed=${OWN_PORT:-}
	for try in 1 2 3; do
		OWN_PORT=${fixed:-$(free_port)}
		redis-server --port "$OWN_PORT" --bind 127.0.0.1 --save '' \
		    --appendonly no --daemonize yes --dir "$TMP" \
		    --pidfile "$TMP/own.pid" --logfile "$TMP/own.log" >/dev/null
		for _ in $(seq 1 200); do
			redis-cli -p "$OWN_PORT" ping 2>/dev/null |
			    grep -q PONG && break 2
			sleep 0.05
		done
		[ -z "$fixed" ] || break
	done
	redis-cli -p "$OWN_PORT" ping | grep -q PONG ||
	    { echo "redis-server on $OWN_PORT did not start" >&2; return 1; }
	OWN_PID=$(cat "$TMP/own.pid")
	OWN_URL="redis://127.0.0.1:$OWN_PORT"
}

# Waits (bounded) until $2 clients of port $1 subscribe to job's channel.
wait_subscribed() {
	for _ in $(seq 1 200); do
		[ "$(redis-cli -p "$1" PUBSUB CHANNELS 'keylock:{job}:w:*' |
		    grep -c .)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# Starts a waiter named $1 on job with options $2...; its status goes to
# $TMP/$1.status, its stderr to $TMP/$1.err; its command touches $TMP/$1.
start_waiter() {
	local name=$1
	shift
	(
		rc=0
		"$KEYLOCK" run --redis "$OWN_URL" "$@" job -- \
		    touch "$TMP/$name" 2>"$TMP/$name.err" || rc=$?
		echo $rc > "$TMP/$name.status"
	) &
}

@test "Redis lost during a wait: 69 naming the server, not a conflict" {
	own_server
	REDIS_URL=$OWN_URL start_holder job -t 1s
	start_waiter timed -w 30s --connect-timeout 300ms
	start_waiter forever --connect-timeout 300ms
	wait_subscribed "$OWN_PORT" 2
	local t0
	t0=$(now_ms)
	kill "$OWN_PID"
	wait_for_file "$TMP/timed.status"
	wait_for_file "$TMP/forever.status"
	[ $(( $(now_ms) - t0 )) -lt 3000 ]
	for w in timed forever; do
		[ "$(cat "$TMP/$w.status")" = 69 ]
		[ ! -e "$TMP/$w" ]
		[ "$(grep -c . "$TMP/$w.err")" -eq 1 ]
		grep -q "127.0.0.1:$OWN_PORT" "$TMP/$w.err"
		run ! grep -q 'timed out after' "$TMP/$w.err"
	done
}

@test "a Redis restart shorter than the connect timeout: the wait goes on" {
	own_server
	REDIS_URL=$OWN_URL start_holder job -t 1s -k 100ms
	start_waiter waiter -w 20s --connect-timeout 3s
	wait_subscribed "$OWN_PORT" 1
	kill -9 "$OWN_PID"
	wait_gone "$OWN_PID"
	sleep 0.3
	own_server
	wait_for_file "$TMP/waiter.status"
	run cat "$TMP/waiter.status"
	assert_output 0
	[ -e "$TMP/waiter" ]
}

@test "a lost acquire reply does not lock us out: our own lease is ours" {
	"$KEYLOCK" run --redis "$REDIS_URL" job -- true	# loads the scripts
	proxy lossy
	local t0
	t0=$(now_ms)
	run --separate-stderr "$KEYLOCK" run --connect-timeout 500ms -w 10s \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- \
	    sh -c 'echo $KEYLOCK_FENCE'
	assert_success
	# Well before the 30 s TTL of the lease whose reply was lost.
	[ $(( $(now_ms) - t0 )) -lt 5000 ]
	[ "$output" = "$(rcli GET 'keylock:{job}:fence')" ]
	[ "$(rcli EXISTS 'keylock:{job}:lock')" = 0 ]
}

@test "--min-replicas after a lost acquire reply: a frozen replica is not counted" {
	local rp
	"$KEYLOCK" run --redis "$REDIS_URL" job -- true	# loads the scripts
	# A replica, in sync, then frozen: it is connected, but has nothing
	# written after this.
	rp=$(free_port)
	redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no \
	    --replicaof 127.0.0.1 "$REDIS_PORT" --dir "$TMP" --daemonize yes \
	    --pidfile "$TMP/replica.pid" --logfile "$TMP/replica.log" >/dev/null
	for _ in $(seq 1 200); do
		[ "$(replicas_acked 50 -s "$REDIS_SOCK")" = 1 ] && break
	done
	[ "$(replicas_acked 50 -s "$REDIS_SOCK")" = 1 ] ||
	    fail "the replica never synced"
	kill -STOP "$(cat "$TMP/replica.pid")"
	proxy lossy
	# The acquire's reply is lost; the retry, on a new connection, finds
	# our own lease.  WAIT counts that connection's writes: the retry
	# writes (it joins the queue before it sees the lease is ours), and
	# replication orders that after the lost acquire.
	run --separate-stderr "$KEYLOCK" run --connect-timeout 500ms -w 10s \
	    --min-replicas 1 --redis "redis://127.0.0.1:$(cat "$TMP/port")" \
	    job -- touch "$TMP/ran"
	kill -CONT "$(cat "$TMP/replica.pid")"
	[ "$status" -eq 69 ] || fail "status $status: $stderr"
	[[ $stderr == *"0 of 1 replicas acknowledged the lock"* ]] ||
	    fail "$stderr"
	[ ! -e "$TMP/ran" ]
	# Given back.
	[ "$(rcli EXISTS 'keylock:{job}:lock')" = 0 ]
}

@test "renewals over a slow link keep a short lease: each may take its time" {
	# Every reply reaches keylock 150 ms late: more than a tenth of the
	# 1 s TTL, far less than the lease.
	proxy slow
	run --separate-stderr "$KEYLOCK" run -t 1s \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- sleep 2.5
	assert_success
	[ -z "$stderr" ]
}

@test "giving up after a lost acquire reply (-n) leaves no lease behind" {
	"$KEYLOCK" run --redis "$REDIS_URL" job -- true	# loads the scripts
	proxy lossy
	run --separate-stderr "$KEYLOCK" run -n --connect-timeout 500ms \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- \
	    touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ]
	# The acquire did run (the fence moved), and its lease is gone.
	[ "$(rcli GET 'keylock:{job}:fence')" = 2 ]
	[ "$(rcli EXISTS 'keylock:{job}:lock')" = 0 ]
}

#!/usr/bin/env bats
# Faults a lock tool must survive: a job that ignores SIGTERM when the
# lease is lost, a stalled heartbeat, a stalled or vanished server.  Each
# test bounds how long an old job can overlap a new holder.

bats_require_minimum_version 1.5.0
load helper
load redis_suite

now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# A command whose whole tree ignores SIGTERM: it writes its pid and its
# child's pid, touches $TMP/up and runs until killed.
stubborn='trap "" TERM
	(trap "" TERM; echo $$ > "$0/child.pid"; exec sleep 60) &
	echo $$ > "$0/cmd.pid"; touch "$0/up"; wait'

# Starts keylock with options "$@" on key job running $stubborn; sets KL
# to its pid; its stderr goes to $TMP/err and its status to $TMP/status.
start_stubborn() {
	(
		rc=0
		"$KEYLOCK" run --redis "$REDIS_URL" "$@" job -- \
		    sh -c "$stubborn" "$TMP" 2>"$TMP/err" || rc=$?
		echo $rc > "$TMP/status"
		: >"$TMP/ended"
	) &
	wait_for_file "$TMP/up"
	wait_for_file "$TMP/child.pid"
	KL=$(pgrep -P $! -x keylock)
}

# Waits (bounded) for the holder started by start_stubborn to end.
wait_status() {
	wait_for_file "$TMP/ended"
}

@test "a lost lease ends the whole job within -k, descendants included" {
	start_stubborn -t 600ms -k 2s
	local t0
	t0=$(now_ms)
	rcli DEL 'keylock:{job}:lock' >/dev/null
	wait_status
	# Lost within a renewal (ttl/3), then TERM to all, KILL at 2 s: one
	# grace, not one for the command and another for its child (two
	# would take 4 s at least, however fast the machine).
	[ $(( $(now_ms) - t0 )) -lt 4000 ] ||
	    fail "the job ran $(( $(now_ms) - t0 )) ms past the loss"
	assert_equal "$(cat "$TMP/status")" 76
	run kill -0 "$(cat "$TMP/child.pid")"
	assert_failure
	run kill -0 "$(cat "$TMP/cmd.pid")"
	assert_failure
}

@test "keylock's own SIGTERM ends the whole job within -k" {
	start_stubborn -k 1s
	local t0
	t0=$(now_ms)
	kill -TERM "$KL"
	wait_status
	[ $(( $(now_ms) - t0 )) -lt 2500 ] ||
	    fail "the job ran $(( $(now_ms) - t0 )) ms past the TERM"
	run kill -0 "$(cat "$TMP/child.pid")"
	assert_failure
	# The lock is free at once.
	assert_equal "$(rcli EXISTS 'keylock:{job}:lock')" 0
}

@test "a stalled heartbeat: keylock itself ends the job at the lease deadline" {
	start_stubborn -t 1s -k 500ms
	local hb
	hb=$(heartbeat_of "$KL") || fail "no heartbeat found"
	kill -STOP "$hb"
	local t0
	t0=$(now_ms)
	wait_status
	kill -CONT "$hb" 2>/dev/null || true
	# The lease could last 1 s from the last renewal; then -k: 1.5 s,
	# with room for a slow start under the sanitizers.
	[ $(( $(now_ms) - t0 )) -lt 3500 ] ||
	    fail "the job ran $(( $(now_ms) - t0 )) ms with a stalled heartbeat"
	assert_equal "$(cat "$TMP/status")" 76
	run grep -q 'lost the lock on job' "$TMP/err"
	assert_success
	run kill -0 "$(cat "$TMP/child.pid")"
	assert_failure
}

@test "a wrong-type key: list warns once naming it and lists the rest" {
	"$KEYLOCK" run --redis "$REDIS_URL" good -- sh -c '
		redis-cli -s "$1" HSET "keylock:{bad}:lock" f v >/dev/null
		"$2" list --redis "$3"' x "$REDIS_SOCK" "$KEYLOCK" "$REDIS_URL" \
	    >"$TMP/out" 2>"$TMP/err"
	assert_equal "$(cat "$TMP/out")" "good$(printf '\t1 holder')"
	run cat "$TMP/err"
	assert_output --partial 'skipped bad'
	assert_equal "$(grep -c bad "$TMP/err")" 1
	# A wrong-type memo key does not break status either.
	rcli SET 'keylock:{good}:memo:0000000000000000000000000000000000000000000000000000000000000000:meta' x >/dev/null
	run "$KEYLOCK" status --redis "$REDIS_URL" good
	assert_failure 1
	assert_output 'good: free'
}

@test "an ACL user without PUBLISH: released (said so), waiters find out within a second" {
	rcli ACL SETUSER nopub on '>pw' '~*' '&*' '+@all' '-publish' >/dev/null
	local url="redis://nopub:pw@127.0.0.1:$REDIS_PORT"
	"$KEYLOCK" run --redis "$url" job -- sh -c 'touch "$0/up"
	    while [ ! -e "$0/go" ]; do sleep 0.02; done' "$TMP" \
	    2>"$TMP/holder.err" &
	local holder=$!
	wait_for_file "$TMP/up"
	"$KEYLOCK" run --redis "$url" job -- touch "$TMP/waiter" &
	local waiter=$!
	wait_subscribers 1 job
	local t0
	t0=$(now_ms)
	touch "$TMP/go"
	wait "$holder"
	wait "$waiter"
	[ -e "$TMP/waiter" ]
	# Far less than the 30 s lease the waiter would otherwise sleep.
	[ $(( $(now_ms) - t0 )) -lt 2500 ] ||
	    fail "the waiter took $(( $(now_ms) - t0 )) ms"
	run cat "$TMP/holder.err"
	assert_output --partial 'released, but waiters could not be notified'
	refute_output --partial 'could not release'
	rcli ACL DELUSER nopub >/dev/null
}

@test "out of file descriptors: 71 (OSERR) whatever step runs out, never 64 or 70" {
	local n rc
	for n in 6 7 8 9 10 11 12; do
		rm -rf "$TMP/c" "$TMP/l"
		rc=0
		# Only 0, 1 and 2 open: the limit is what keylock has.
		(for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		ulimit -n "$n"; XDG_CACHE_HOME="$TMP/c" KEYLOCK_DIR="$TMP/l" \
		    exec "$KEYLOCK" run --memo 1m k echo hi) >/dev/null \
		    2>"$TMP/err" || rc=$?
		[ "$rc" -eq 71 ] ||
		    fail "ulimit -n $n: exit $rc: $(cat "$TMP/err")"
	done
}

@test "a full disk when creating the lock file: 73 (CANTCREAT)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	mkdir "$TMP/full"
	mount -t tmpfs -o size=64k,nr_inodes=3 tmpfs "$TMP/full" 2>/dev/null ||
	    skip "cannot mount a tmpfs here"
	mkdir -m 700 "$TMP/full/locks"
	: >"$TMP/full/filler"
	run --separate-stderr "$KEYLOCK" run -d "$TMP/full/locks" k -- true
	umount "$TMP/full"
	assert_failure 73
	[[ "$stderr" == *"No space left on device"* ]] || fail "stderr: $stderr"
}

@test "a server that stops answering: -n gives up within the connect timeout, cleanup included" {
	"$KEYLOCK" run --redis "$REDIS_URL" job -- true	# loads the scripts
	proxy stall
	local t0 ms
	t0=$(now_ms)
	run --separate-stderr "$KEYLOCK" run -n --connect-timeout 2s \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- true
	ms=$(( $(now_ms) - t0 ))
	assert_failure 69
	# The connect, then one timeout for the try and a quarter of one
	# for the cleanup (2.5 s): never a second full timeout (4 s).  The
	# timeout is long enough that a slow start fits between the two.
	[ "$ms" -lt 3600 ] || fail "gave up after $ms ms"
}

@test "a server that stops answering: -w gives up within the connect timeout of its deadline" {
	"$KEYLOCK" run --redis "$REDIS_URL" job -- true
	proxy stall
	local t0 ms
	t0=$(now_ms)
	run --separate-stderr "$KEYLOCK" run -w 2s --connect-timeout 2s \
	    --redis "redis://127.0.0.1:$(cat "$TMP/port")" job -- true
	ms=$(( $(now_ms) - t0 ))
	assert_failure 69
	# The try that stalls times out at the deadline, then a quarter of
	# a timeout for the cleanup (2.5 s): not another try past the
	# deadline (4.5 s), nor a full timeout for the cleanup (4 s).
	[ "$ms" -lt 3600 ] || fail "gave up after $ms ms"
}

@test "release --force under a TERM-ignoring job tree: the whole tree ends within T/3 + -k" {
	start_stubborn -t 900ms -k 1s
	local t0
	t0=$(now_ms)
	run "$KEYLOCK" release --force --redis "$REDIS_URL" job
	assert_success
	wait_status
	# T/3 + -k is 1.3 s; the rest is room for a slow start.
	[ $(( $(now_ms) - t0 )) -lt 3500 ] ||
	    fail "the job ran $(( $(now_ms) - t0 )) ms past the release"
	assert_equal "$(cat "$TMP/status")" 76
	run kill -0 "$(cat "$TMP/child.pid")"
	assert_failure
}

@test "SCRIPT FLUSH while a job runs: renewals load the scripts again, the lease holds" {
	# Renewals every 333 ms, a few after the flush; a 1 s lease, not a
	# shorter one, so that a stalled heartbeat on a loaded machine does
	# not lose it for another reason.
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL" -t 1s job \
	    -- sh -c 'redis-cli -s "$0" SCRIPT FLUSH >/dev/null; sleep 1.5' \
	    "$REDIS_SOCK"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(rcli EXISTS 'keylock:{job}:lock')" 0
}

@test "Redis out of memory (maxmemory, noeviction): 69 naming the reason, nothing run" {
	rcli CONFIG SET maxmemory-policy noeviction >/dev/null
	rcli CONFIG SET maxmemory 1 >/dev/null
	run --separate-stderr "$KEYLOCK" run --redis "$REDIS_URL" job -- \
	    touch "$TMP/ran"
	rcli CONFIG SET maxmemory 0 >/dev/null
	assert_failure 69
	[[ "$stderr" == *OOM* ]] || fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
	assert_equal "$(rcli EXISTS 'keylock:{job}:lock')" 0
}

# Starts a redis-server of its own on a free port, in $TMP/loading, with
# extra arguments "$@"; its pid file is $TMP/loading.pid (the teardown
# kills it); prints the port once it answers at all.
loading_server() {
	local port r
	mkdir -p "$TMP/loading"
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$TMP/loading" --daemonize yes \
	    --pidfile "$TMP/loading.pid" --logfile "$TMP/loading/log" \
	    "$@" >/dev/null
	for _ in $(seq 1 100); do
		r=$(redis-cli -p "$port" PING 2>/dev/null) || r=
		[ -n "$r" ] && { echo "$port"; return 0; }
		sleep 0.05
	done
	return 1
}

@test "a server loading its data set (a restart, a resync): waited for up to the connect timeout" {
	local port pid
	# A data set of 10000 keys, each loaded 100 us apart: a load of
	# seconds, with LOADING answered all along.
	port=$(loading_server --enable-debug-command local)
	redis-cli -p "$port" DEBUG POPULATE 10000 >/dev/null
	redis-cli -p "$port" SAVE >/dev/null
	pid=$(cat "$TMP/loading.pid")
	redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait_gone "$pid"
	port=$(loading_server --key-load-delay 100 \
	    --loading-process-events-interval-bytes 1024)
	[[ $(redis-cli -p "$port" PING) == LOADING* ]] ||
	    fail "not loading: $(redis-cli -p "$port" PING)"
	# Less time than the load takes: 69, naming the reason, nothing run.
	run --separate-stderr "$KEYLOCK" run -n --connect-timeout 300ms \
	    --redis "redis://127.0.0.1:$port" job -- touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"LOADING"* ]] || fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
	[[ $(redis-cli -p "$port" PING) == LOADING* ]] ||
	    fail "the load ended before the runs that wait for it"
	# Enough time: the run waits for the load, then takes the lock.
	run --separate-stderr "$KEYLOCK" run -n --connect-timeout 30s \
	    --redis "redis://127.0.0.1:$port" job -- echo ran
	assert_success
	assert_output ran
	assert_equal "$(redis-cli -p "$port" EXISTS 'keylock:{job}:lock')" 0
}

@test "a busy script (BUSY), a database in the URL: waited for up to the connect timeout" {
	local busy=$'local function us() local t = redis.call("TIME")
		return t[1] * 1000000 + t[2] end
	local t0 = us()
	while us() - t0 < 2000000 do end
	return 1'
	rcli CONFIG SET busy-reply-threshold 100 >/dev/null
	rcli EVAL "$busy" 0 >"$TMP/busy.out" 2>&1 &
	echo $! >"$TMP/busy.pid"
	for _ in $(seq 1 100); do
		[[ $(rcli PING 2>&1) == BUSY* ]] && break
		sleep 0.02
	done
	[[ $(rcli PING 2>&1) == BUSY* ]] || fail "never busy: $(rcli PING 2>&1)"
	# SELECT is refused while the script runs: 69 naming BUSY...
	run --separate-stderr "$KEYLOCK" run -n --connect-timeout 300ms \
	    --redis "$REDIS_URL/1" job -- touch "$TMP/ran"
	assert_failure 69
	[[ $stderr == *"BUSY"* ]] || fail "stderr: $stderr"
	[ ! -e "$TMP/ran" ]
	[[ $(rcli PING 2>&1) == BUSY* ]] ||
	    fail "the script ended before the run that waits for it"
	# ...or, with time enough, the run once it is done.
	run --separate-stderr "$KEYLOCK" run -n --connect-timeout 30s \
	    --redis "$REDIS_URL/1" job -- echo ran
	# The script over, the server is as the next test expects it.
	wait "$(cat "$TMP/busy.pid")"
	rcli CONFIG SET busy-reply-threshold 5000 >/dev/null
	assert_success
	assert_output ran
	assert_equal "$(cat "$TMP/busy.out")" 1
}

@test "Redis frozen (SIGSTOP) while a TERM-ignoring job holds: the job ends by the lease deadline + -k" {
	start_stubborn -t 900ms -k 500ms --connect-timeout 300ms
	kill -STOP "$REDIS_PID"
	local t0
	t0=$(now_ms)
	wait_status
	kill -CONT "$REDIS_PID"
	# At most the 900 ms lease, then -k: 1.5 s by design.
	[ $(( $(now_ms) - t0 )) -lt 3000 ] ||
	    fail "the job ran $(( $(now_ms) - t0 )) ms with Redis frozen"
	assert_equal "$(cat "$TMP/status")" 76
	run kill -0 "$(cat "$TMP/child.pid")"
	assert_failure
}

@test "a hostile holder record (control bytes in the host) is shown with ?, never raw" {
	rcli SET 'keylock:{job}:lock' $'0123456789abcdef0123456789abcdef evil\x1b[2J\x9b31m 42 1700000000000 7' >/dev/null
	run --separate-stderr "$KEYLOCK" run -n --redis "$REDIS_URL" job -- true
	assert_failure 75
	[[ $stderr == *'evil?[2J?31m'* ]] || fail "stderr: $stderr"
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_output --partial 'evil?[2J?31m'
}

@test "a FIFO in place of a local lock file: status and run never hang" {
	mkdir -p -m 700 "$KEYLOCK_DIR"
	mkfifo "$KEYLOCK_DIR/job"
	run timeout 10 "$KEYLOCK" status job
	[ "$status" -ne 124 ] || fail "status hung"
	run timeout 10 "$KEYLOCK" run -n job -- true
	[ "$status" -ne 124 ] || fail "run hung"
}

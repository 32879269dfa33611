#!/usr/bin/env bats
# Redis Sentinel: redis-sentinel:// URLs against a master, one replica and
# three sentinels on loopback (started once for the file), failovers
# forced with SENTINEL FAILOVER while idle and under a running job, and
# --min-replicas.

bats_require_minimum_version 1.5.0
load helper

NAME=klmaster

# Milliseconds on the monotonic-ish clock the shell has.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# Waits (bounded, 5 s) until a server answers PING on port $1 (or wants
# a password first).
sent_answers() {
	for _ in $(seq 1 100); do
		redis-cli -p "$1" ping 2>/dev/null | grep -qE 'PONG|NOAUTH' &&
		    return 0
		sleep 0.05
	done
	return 1
}

# Starts a redis-server on a free port with extra arguments "$@"; prints
# the port.  Config, pid and log files live in $SENT_DIR.
sent_server() {
	local port try
	for try in 1 2 3; do
		port=$(free_port)
		redis-server --port "$port" --bind 127.0.0.1 --save '' \
		    --appendonly no --repl-diskless-sync-delay 0 --shutdown-timeout 0 \
		    --dir "$SENT_DIR" --daemonize yes \
		    --pidfile "$SENT_DIR/$port.pid" \
		    --logfile "$SENT_DIR/$port.log" "$@" >/dev/null
		sent_answers "$port" && { echo "$port"; return 0; }
	done
	echo "redis-server did not start" >&2
	return 1
}

# Starts a sentinel monitoring $NAME at 127.0.0.1:$1 (quorum 2; the
# failovers here are forced, so calling a server down may take its
# time), with extra config lines "$2"; prints its port.
sent_sentinel() {
	local port try
	for try in 1 2 3; do
		port=$(free_port)
		cat >"$SENT_DIR/s$port.conf" <<-EOF
		port $port
		bind 127.0.0.1
		dir $SENT_DIR
		sentinel monitor $NAME 127.0.0.1 $1 2
		sentinel down-after-milliseconds $NAME 5000
		sentinel failover-timeout $NAME 4000
		${2:-}
		EOF
		redis-server "$SENT_DIR/s$port.conf" --sentinel --daemonize yes \
		    --pidfile "$SENT_DIR/$port.pid" \
		    --logfile "$SENT_DIR/$port.log" >/dev/null
		sent_answers "$port" && { echo "$port"; return 0; }
	done
	echo "redis-sentinel did not start" >&2
	return 1
}

# The master's port as sentinel $1 (default: the first) names it.
sent_master() {
	redis-cli -p "${1:-$S1}" SENTINEL get-master-addr-by-name "$NAME" |
	    tail -1
}

# A failover leaves the old master ($1) one until the sentinels demote
# it, up to 10 s later (their INFO period): does what they will do, and
# makes it a replica of the new master ($2).
sent_demote() {
	if redis-cli -p "$1" ROLE | head -1 | grep -q master; then
		redis-cli -p "$1" REPLICAOF 127.0.0.1 "$2" >/dev/null
	fi
}

# Waits (bounded, 15 s) until the sentinels agree on a master that says
# it is one, the other server replicates from it with its link up, and
# the first sentinel knows that replica; sets MASTER and REPLICA, and
# keeps them in $SENT_DIR/roles for the tests that follow.
sent_settle() {
	local m s n
	for n in $(seq 1 300); do
		m=$(sent_master)
		[ -n "$m" ] && [ "$(sent_master "$S2")" = "$m" ] &&
		    [ "$(sent_master "$S3")" = "$m" ] || { sleep 0.05; continue; }
		MASTER=$m
		REPLICA=$P1
		[ "$m" = "$P1" ] && REPLICA=$P2
		sent_demote "$REPLICA" "$MASTER"
		redis-cli -p "$MASTER" ROLE | head -1 | grep -q '^master$' &&
		    redis-cli -p "$REPLICA" INFO replication |
		    grep -q 'master_link_status:up' || { sleep 0.05; continue; }
		# SENTINEL FAILOVER needs the replica known, not a quorum
		# (sentinels find each other again seconds after a failover).
		redis-cli -p "$S1" SENTINEL REPLICAS "$NAME" |
		    grep -q "127.0.0.1:$REPLICA" || { sleep 0.05; continue; }
		echo "$MASTER $REPLICA" >"$SENT_DIR/roles"
		export MASTER REPLICA
		return 0
	done
	echo "the sentinels did not settle (master '$m')" >&2
	return 1
}

# Fails, naming $1 (what was written), unless the replica acknowledges
# every write to the master so far within 5 s.
replicated() {
	local n
	n=$(replicas_acked 5000 -p "$MASTER")
	[ "${n:-0}" -ge 1 ] 2>/dev/null ||
	    fail "the replica $REPLICA did not acknowledge $1 (WAIT 1 5000: '$n')"
}

# Stops the sentinel on port $1 and forgets it.
kill_sentinel() {
	local pid
	pid=$(cat "$SENT_DIR/$1.pid")
	kill "$pid"
	wait_gone "$pid"
	rm -f "$SENT_DIR/$1.pid"
}

# Nonzero unless every sentinel names port $1 as the master.
sent_all_name() {
	[ "$(sent_master "$S1")" = "$1" ] && [ "$(sent_master "$S2")" = "$1" ] &&
	    [ "$(sent_master "$S3")" = "$1" ]
}

# Forces a failover from $MASTER to $REPLICA and waits until every
# sentinel names the new master; a failover the sentinels abort (a
# replica that missed their REPLICAOF NO ONE on a loaded machine) is
# asked for again, three times at most.
sent_failover() {
	local try
	: >"$SENT_DIR/unsettled"
	for try in 1 2 3; do
		for _ in $(seq 1 50); do
			redis-cli -p "$S1" SENTINEL FAILOVER "$NAME" |
			    grep -q OK && break
			sleep 0.1	# NOGOODSLAVE, INPROG: not yet
		done
		for _ in $(seq 1 120); do
			sent_all_name "$REPLICA" && return 0
			sleep 0.05
		done
	done
	echo "no failover from $MASTER to $REPLICA; the first sentinel's" \
	    "log:" >&2
	grep ' # ' "$SENT_DIR/$S1.log" | tail -15 >&2
	return 1
}

setup_file() {
	SENT_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/keylock-sentinel.XXXXXX")
	export SENT_DIR
	P1=$(sent_server)
	P2=$(sent_server --replicaof 127.0.0.1 "$P1")
	S1=$(sent_sentinel "$P1")
	S2=$(sent_sentinel "$P1")
	S3=$(sent_sentinel "$P1")
	export P1 P2 S1 S2 S3
	SENT_URL="redis-sentinel://127.0.0.1:$S1,127.0.0.1:$S2,127.0.0.1:$S3?master=$NAME"
	export SENT_URL
	sent_settle
}

teardown_file() {
	local f pid
	for f in "$SENT_DIR"/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	for f in "$SENT_DIR"/*.pid; do
		[ -f "$f" ] && wait_gone "$(cat "$f")"
	done
	rm -rf "$SENT_DIR"
	return 0
}

setup() {
	common_setup
	kill -CONT "$(cat "$SENT_DIR/$P1.pid")" "$(cat "$SENT_DIR/$P2.pid")"
	# Only a failover (or a stopped replica) unsettles the servers.
	if [ -e "$SENT_DIR/unsettled" ]; then
		sent_settle
		rm -f "$SENT_DIR/unsettled"
	fi
	read -r MASTER REPLICA <"$SENT_DIR/roles"
	redis-cli -p "$MASTER" FLUSHALL >/dev/null
	replicated "the FLUSHALL"
}

teardown() {
	kill -CONT "$(cat "$SENT_DIR/$P1.pid")" "$(cat "$SENT_DIR/$P2.pid")"
	common_teardown
}

# Starts keylock run through the sentinels on key $1 with options $2...;
# its command touches $TMP/up and runs until $TMP/stop exists (at most
# 20 s), then prints "done".  Its status goes to $TMP/status, its stderr
# to $TMP/err.  Sets KL to keylock's pid.
start_holder() {
	local key=$1
	shift
	(
		rc=0
		"$KEYLOCK" run --redis "$SENT_URL" "$@" "$key" -- sh -c '
		    touch "$0/up"
		    for i in $(seq 1 200); do
			[ -e "$0/stop" ] && break
			sleep 0.1
		    done
		    echo done >"$0/done"' "$TMP" 2>"$TMP/err" || rc=$?
		echo $rc > "$TMP/status"
	) &
	wait_for_file "$TMP/up"
	KL=$(pgrep -P $! -x keylock)
	echo "$KL" > "$TMP/kl.pid"
}

@test "run finds the master through the sentinels" {
	run "$KEYLOCK" run --redis "$SENT_URL" job -- sh -c '
		echo "fence $KEYLOCK_FENCE"
		redis-cli -p "$0" EXISTS "keylock:{job}:lock"' "$MASTER"
	assert_success
	assert_line 'fence 1'
	assert_line '1'
	[ "$(redis-cli -p "$MASTER" EXISTS 'keylock:{job}:lock')" = 0 ]
	[ "$(redis-cli -p "$MASTER" GET 'keylock:{job}:fence')" = 1 ]
}

@test "status and release --force go through the sentinels too" {
	start_holder job
	run "$KEYLOCK" status --redis "$SENT_URL" job
	assert_success
	assert_output --partial "pid $KL"
	run "$KEYLOCK" release --redis "$SENT_URL" --force job
	assert_success
	touch "$TMP/stop"
}

@test "an unknown master name exits 69 naming it" {
	run --separate-stderr "$KEYLOCK" run \
	    --redis "redis-sentinel://127.0.0.1:$S1,127.0.0.1:$S2?master=nosuch" \
	    job -- touch "$TMP/ran"
	[ "$status" -eq 69 ]
	[[ $stderr == *"no master named 'nosuch'"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ]
}

@test "an unreachable first sentinel costs little: the next one answers" {
	local dead t0
	dead=$(free_port)
	t0=$(now_ms)
	run "$KEYLOCK" run --connect-timeout 2s \
	    --redis "redis-sentinel://127.0.0.1:$dead,127.0.0.1:$S2?master=$NAME" \
	    job -- echo ok
	assert_success
	assert_output ok
	[ $(( $(now_ms) - t0 )) -lt 1000 ]
}

@test "no sentinel reachable: 69, naming the last one tried" {
	local d1 d2
	d1=$(free_port)
	d2=$(free_port)
	run --separate-stderr "$KEYLOCK" run --connect-timeout 500ms \
	    --redis "redis-sentinel://127.0.0.1:$d1,127.0.0.1:$d2?master=$NAME" \
	    job -- touch "$TMP/ran"
	[ "$status" -eq 69 ]
	[[ $stderr == *"none answered"*"127.0.0.1:$d2"* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ]
}

@test "sentinel_password: taken by the sentinels, 69 naming one that refuses it" {
	local sp
	# A fourth sentinel with a password, for this test only.
	sp=$(sent_sentinel "$MASTER" "requirepass s3nt%pw")
	run "$KEYLOCK" run \
	    --redis "redis-sentinel://127.0.0.1:$sp?master=$NAME&sentinel_password=s3nt%25pw" \
	    job -- echo ok
	assert_success
	assert_output ok
	run --separate-stderr "$KEYLOCK" run \
	    --redis "redis-sentinel://127.0.0.1:$sp?master=$NAME&sentinel_password=wrong" \
	    job -- touch "$TMP/ran"
	kill_sentinel "$sp"
	[ "$status" -eq 69 ]
	[[ $stderr == *"sentinel 127.0.0.1:$sp"*AUTH* ]] || fail "$stderr"
	[[ $stderr != *wrong* ]] || fail "$stderr"
	[ ! -e "$TMP/ran" ]
}

@test "exclusion: a second caller through the sentinels gets 75" {
	start_holder job
	run -75 "$KEYLOCK" run --redis "$SENT_URL" -n job -- echo stolen
	refute_output --partial stolen
	touch "$TMP/stop"
	wait_for_file "$TMP/status"
	[ "$(cat "$TMP/status")" = 0 ]
}

@test "failover while idle: the next run uses the new master" {
	local old=$MASTER
	sent_failover
	run "$KEYLOCK" run --redis "$SENT_URL" job -- sh -c '
		redis-cli -p "$0" EXISTS "keylock:{job}:lock"' "$REPLICA"
	assert_success
	assert_output 1
	# Not the old master, which still says it is one until demoted.
	[ "$(redis-cli -p "$old" EXISTS 'keylock:{job}:lock')" = 0 ]
}

@test "failover under a job whose lease replicated: it runs on, others get 75" {
	local t0 pttl last=0 rejoined=
	# --min-replicas: without it a renewal that lands on the old master
	# while it is being demoted counts, and the lease on the new one can
	# run out first (a slow heartbeat, as under the sanitizers, shows
	# it); the manual's table says as much.  With it and one replica,
	# no renewal counts from the failover until the old master is the
	# new one's replica, which the sentinels see to up to 10 s later:
	# the test does it at once, and the lease (9 s) outlasts the resync
	# (up to 5.7 s seen under the sanitizers on a loaded machine).
	start_holder job -t 9s -k 1s --min-replicas 1
	replicated "the lease"
	sent_failover
	sent_demote "$MASTER" "$REPLICA"
	# No one else gets the lock until the old master is the new one's
	# replica and a renewal (the lease's TTL back up) came after that.
	t0=$(now_ms)
	while [ $(( $(now_ms) - t0 )) -lt 20000 ]; do
		run -75 "$KEYLOCK" run --redis "$SENT_URL" -n job -- echo stolen
		refute_output --partial stolen
		pttl=$(redis-cli -p "$REPLICA" PTTL 'keylock:{job}:lock')
		[ "$pttl" -gt 0 ] || fail "the lease is gone (PTTL $pttl)"
		[ -n "$rejoined" ] && [ "$pttl" -gt $((last + 300)) ] && break
		last=$pttl
		redis-cli -p "$MASTER" INFO replication |
		    grep -q '^master_link_status:up' && rejoined=1
		sleep 0.1
	done
	echo "renewed on the new master, its replica back, $(( $(now_ms) - t0 ))" \
	    "ms after the sentinels named it" >&3
	[ -n "$rejoined" ] || fail "the old master never became a replica"
	[ "$pttl" -gt $((last + 300)) ] || fail "no renewal after the rejoin"
	[ ! -e "$TMP/status" ]
	touch "$TMP/stop"
	wait_for_file "$TMP/status"
	[ "$(cat "$TMP/status")" = 0 ] || fail "holder: $(cat "$TMP/err")"
	[ -e "$TMP/done" ]
	# Released on the new master.
	[ "$(redis-cli -p "$REPLICA" EXISTS 'keylock:{job}:lock')" = 0 ]
}

@test "failover under a job whose lease did not replicate: lost, 76, no hang" {
	local t0 took
	start_holder job -t 1500ms -k 1s
	replicated "the lease"
	# The replica loses the lease (as if it never got it).
	redis-cli -p "$REPLICA" CONFIG SET replica-read-only no >/dev/null
	redis-cli -p "$REPLICA" DEL 'keylock:{job}:lock' >/dev/null
	redis-cli -p "$REPLICA" CONFIG SET replica-read-only yes >/dev/null
	t0=$(now_ms)
	sent_failover
	wait_for_file "$TMP/status"
	took=$(( $(now_ms) - t0 ))
	echo "lease loss noticed ${took} ms after the failover began" >&3
	[ "$(cat "$TMP/status")" = 76 ]
	grep -q 'lost' "$TMP/err"
	[ ! -e "$TMP/done" ]
	[ "$took" -lt 8000 ]
}

@test "a waiter gets the lock after a failover and the holder's release" {
	# A lease that outlasts the failover (10 s): without --min-replicas
	# a renewal that lands on the old master, still taking writes until
	# it is demoted, does not reach the new one, which the manual allows.
	start_holder job -t 10s
	# The wait is not what is measured: long enough for a failover the
	# sentinels abort and are asked for again.
	(
		rc=0
		"$KEYLOCK" run --redis "$SENT_URL" -w 60s --connect-timeout 3s \
		    job -- echo waiter ran >"$TMP/waiter.out" 2>&1 || rc=$?
		echo $rc >"$TMP/waiter.status"
	) &
	# The waiter is queued: subscribed to its own channel.
	for _ in $(seq 1 200); do
		[ -n "$(redis-cli -p "$MASTER" PUBSUB CHANNELS 'keylock:{job}:w:*')" ] &&
		    break
		sleep 0.05
	done
	# The teardown kills a waiter the test left (it would take the key
	# from the next test).
	pgrep -P $! -x keylock >"$TMP/waiter.pid" || true
	[ -n "$(redis-cli -p "$MASTER" PUBSUB CHANNELS 'keylock:{job}:w:*')" ] ||
	    fail "the waiter never queued"
	replicated "the lease and the queue"
	sent_failover
	sent_demote "$MASTER" "$REPLICA"
	touch "$TMP/stop"
	wait_for_file "$TMP/waiter.status"
	[ "$(cat "$TMP/waiter.status")" = 0 ] || fail "$(cat "$TMP/waiter.out")"
	grep -q 'waiter ran' "$TMP/waiter.out"
	wait_for_file "$TMP/status"
	[ "$(cat "$TMP/status")" = 0 ] || fail "holder: $(cat "$TMP/err")"
}

@test "--min-replicas 1 with a replica: the run counts" {
	# Leases long enough for a replica still catching up after the
	# failovers above (a WAIT that outlasts the lease loses it), short
	# enough that a renewal (every 1.3 s), with its WAIT, happens
	# within the run.
	run "$KEYLOCK" run --redis "$SENT_URL" --min-replicas 1 -t 4s job \
	    -- sh -c 'sleep 2; echo ran'
	assert_success
	assert_output ran
	# acquire too: its keeper renews with WAIT; release by token.
	run --separate-stderr "$KEYLOCK" acquire --redis "$SENT_URL" \
	    --min-replicas 1 -t 4s job
	assert_success
	eval "$output"
	sleep 2
	[ "$(redis-cli -p "$REPLICA" EXISTS 'keylock:{job}:lock')" = 1 ]
	run "$KEYLOCK" release --redis "$SENT_URL" --token "$KEYLOCK_TOKEN" job
	assert_success
	[ "$(redis-cli -p "$MASTER" EXISTS 'keylock:{job}:lock')" = 0 ]
}

@test "--min-replicas 2 with one replica: 69, 1 of 2, not run, no lock left" {
	run --separate-stderr "$KEYLOCK" run --redis "$SENT_URL" \
	    --connect-timeout 300ms --min-replicas 2 job -- touch "$TMP/ran"
	[ "$status" -eq 69 ]
	[[ $stderr == *"1 of 2 replicas acknowledged the lock within 300ms"* ]] ||
	    fail "$stderr"
	[ ! -e "$TMP/ran" ]
	[ "$(redis-cli -p "$MASTER" EXISTS 'keylock:{job}:lock')" = 0 ]
	# acquire too.
	run --separate-stderr "$KEYLOCK" acquire --redis "$SENT_URL" \
	    --connect-timeout 300ms --min-replicas 2 job
	[ "$status" -eq 69 ]
	[[ $stderr == *"1 of 2 replicas"* ]] || fail "$stderr"
	[ "$(redis-cli -p "$MASTER" EXISTS 'keylock:{job}:lock')" = 0 ]
}

@test "renew --min-replicas: 0 once the replica has the renewal, 69 naming 1 of 2" {
	local pttl
	run --separate-stderr "$KEYLOCK" acquire --redis "$SENT_URL" -t 1m job
	assert_success
	eval "$output"
	run "$KEYLOCK" renew --redis "$SENT_URL" --min-replicas 1 -t 1h \
	    --token "$KEYLOCK_TOKEN" job
	assert_success
	# Acknowledged: the replica has the hour already.
	pttl=$(redis-cli -p "$REPLICA" PTTL 'keylock:{job}:lock')
	[ "$pttl" -gt 3000000 ] || fail "replica PTTL $pttl"
	run --separate-stderr "$KEYLOCK" renew --redis "$SENT_URL" \
	    --connect-timeout 300ms --min-replicas 2 -t 1h \
	    --token "$KEYLOCK_TOKEN" job
	[ "$status" -eq 69 ] || fail "status $status: $stderr"
	[[ $stderr == *"1 of 2 replicas acknowledged the renewal within 300ms"* ]] ||
	    fail "$stderr"
	run "$KEYLOCK" release --redis "$SENT_URL" --token "$KEYLOCK_TOKEN" job
	assert_success
}

@test "--min-replicas waits at most half the lease: 69, never a lease that ran out" {
	run --separate-stderr "$KEYLOCK" run --redis "$SENT_URL" -t 1s \
	    --min-replicas 2 job -- touch "$TMP/ran"
	[ "$status" -eq 69 ] || fail "status $status: $stderr"
	[[ $stderr == *"1 of 2 replicas acknowledged the lock within "*ms* ]] ||
	    fail "$stderr"
	run test -e "$TMP/ran"
	assert_failure
}

@test "--min-replicas: renewals the replica cannot acknowledge lose the lease" {
	start_holder job --min-replicas 1 -t 1s -k 500ms --connect-timeout 300ms
	: >"$SENT_DIR/unsettled"
	kill -STOP "$(cat "$SENT_DIR/$REPLICA.pid")"
	wait_for_file "$TMP/status"
	kill -CONT "$(cat "$SENT_DIR/$REPLICA.pid")"
	[ "$(cat "$TMP/status")" = 76 ]
	[ ! -e "$TMP/done" ]
}

#!/usr/bin/env bats
# Locks that outlive one command: keylock acquire / renew / release with
# a token, --hold, --owner, --note, and run/acquire --cooldown.  This file
# runs once per backend, picked from its name: acquire.bats is the local
# backend, acquire_redis.bats (a symlink to it) the Redis one.

bats_require_minimum_version 1.5.0
load helper
load backend

setup() {
	backend_setup
	backend_kl
}

teardown() {
	backend_teardown
}

# Milliseconds on the clock the shell has.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# The pid of KEY's holder, remembered for teardown (keepers are nobody's
# children).
holder_pid() {
	local pid
	pid=$("$KL" status --json "$1" | jq -r .pid)
	[ "$pid" != null ] || return 1
	echo "$pid" >"$TMP/keeper.$1.pid"
	echo "$pid"
}

# Acquires KEY with options "$@" and evals the result into this shell.
acquire() {
	local out
	out=$("$KL" acquire "$@") || return $?
	eval "$out"
	holder_pid "$KEYLOCK_KEY" >/dev/null
}

@test "acquire prints KEY, TOKEN and FENCE lines, returns at once, and the lock stays held" {
	local out t0
	t0=$(date +%s%N)
	out=$("$KL" acquire deploy)
	# A $(...) returns when the keeper holds no descriptor of ours.
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]
	run grep -c '' <<<"$out"
	assert_output 3
	[[ $out =~ ^KEYLOCK_KEY=deploy$'\n'KEYLOCK_TOKEN=[0-9a-f]{32}$'\n'KEYLOCK_FENCE=1$ ]] ||
	    fail "output: $out"
	eval "$out"
	holder_pid deploy >/dev/null
	run "$KL" run -n deploy -- true
	assert_failure 75
	run "$KL" release --token "$KEYLOCK_TOKEN" deploy
	assert_success
	run "$KL" run -n deploy -- true
	assert_success
}

@test "release takes the token from KEYLOCK_TOKEN; a released token is stale: 76, lock untouched" {
	acquire deploy
	export KEYLOCK_TOKEN
	run "$KL" release deploy
	assert_success
	run --separate-stderr "$KL" release deploy
	assert_failure 76
	[[ $stderr == *"deploy"* ]] || fail "stderr: $stderr"
	# A wrong token does not touch another holder's lock.
	acquire deploy
	run "$KL" release --token 0123456789abcdef0123456789abcdef deploy
	assert_failure 76
	run "$KL" run -n deploy -- true
	assert_failure 75
	run "$KL" release --token "$KEYLOCK_TOKEN" deploy
	assert_success
}

@test "release from another process (with Redis, another machine) stops the keeper" {
	acquire job
	local keeper
	keeper=$(cat "$TMP/keeper.job.pid")
	run env KEYLOCK_DIR="$KEYLOCK_DIR" XDG_CACHE_HOME="$TMP/other" \
	    "$KL" release --token "$KEYLOCK_TOKEN" job
	assert_success
	wait_gone "$keeper"
	run "$KL" status job
	assert_failure 1
}

@test "release while a caller waits: 0, and the waiter runs" {
	acquire job
	"$KL" run -v -w 10s job -- touch "$TMP/waiter" 2>"$TMP/waiter.err" &
	local waiter=$!
	wait_for_line "$TMP/waiter.err" 'waiting for job'
	run "$KL" release --token "$KEYLOCK_TOKEN" job
	assert_success
	wait "$waiter"
	[ -e "$TMP/waiter" ]
}

@test "an acquire that cannot print its token lets go of the lock" {
	run --separate-stderr sh -c '"$@" >/dev/full' x "$KL" acquire k
	assert_failure 74
	[[ $stderr == *"the lock was let go"* ]] || fail "stderr: $stderr"
	run "$KL" run -w 5s k -- true
	assert_success
}

@test "the fence increases across acquire and run" {
	acquire k
	local f1=$KEYLOCK_FENCE
	"$KL" release --token "$KEYLOCK_TOKEN" k
	run "$KL" run k -- sh -c 'echo $KEYLOCK_FENCE'
	assert_output $((f1 + 1))
	acquire k
	[ "$KEYLOCK_FENCE" -eq $((f1 + 2)) ]
	"$KL" release --token "$KEYLOCK_TOKEN" k
}

@test "--hold: the keeper lets go by itself" {
	local t0 pid free=
	t0=$(now_ms)
	# Not the acquire helper: the 300 ms may be over before it asks
	# status for the keeper's pid.
	"$KL" acquire --hold 300ms k >/dev/null || fail "acquire failed"
	# For teardown, if the keeper is still there to be seen.
	pid=$("$KL" status --json k | jq -r .pid)
	if [[ $pid =~ ^[0-9]+$ ]]; then echo "$pid" >"$TMP/keeper.k.pid"; fi
	for _ in $(seq 1 200); do
		if "$KL" run -n -q k -- true; then
			free=$(now_ms)
			break
		fi
		sleep 0.05
	done
	[ -n "$free" ] || fail "k still held 10 s into a 300 ms --hold"
	[ $((free - t0)) -ge 300 ] ||
	    fail "k was free $((free - t0)) ms into a 300 ms --hold"
	# The keeper is gone with it, if it could be seen at all.
	if [ -s "$TMP/keeper.k.pid" ]; then
		wait_gone "$(cat "$TMP/keeper.k.pid")"
	fi
}

@test "--owner: the lock ends with the owner process" {
	sleep 30 &
	local owner=$!
	acquire --owner "$owner" k
	local keeper
	keeper=$(cat "$TMP/keeper.k.pid")
	run "$KL" run -n k -- true
	assert_failure 75
	kill "$owner"
	wait "$owner" || true
	wait_gone "$keeper"
	run "$KL" run -n k -- true
	assert_success
}

@test "a keeper SIGKILLed: local frees at once, Redis at lease expiry" {
	acquire -t 1s k
	local keeper t0
	keeper=$(cat "$TMP/keeper.k.pid")
	kill -9 "$keeper"
	wait_gone "$keeper"
	t0=$(date +%s%N)
	run "$KL" run -w 5s k -- true
	assert_success
	local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	# Locally the lock goes with the keeper, at once; with Redis at the
	# end of its 1 s lease.  Both bounds leave room for a slow start and
	# stay well under the 5 s that a waiter left hanging would take.
	if [ "$BACKEND" = local ]; then
		[ "$ms" -lt 2000 ] || fail "waited $ms ms"
	else
		[ "$ms" -lt 3000 ] || fail "waited $ms ms"
	fi
}

@test "--note is shown by status, --json, list and the conflict message" {
	acquire --note 'deploy #812 by alice' deploy
	run "$KL" status --json deploy
	assert_equal "$(jq -r .note <<<"$output")" 'deploy #812 by alice'
	[ "$(jq -r .until <<<"$output")" != null ] || fail "no until"
	run "$KL" status deploy
	assert_output --partial "note 'deploy #812 by alice'"
	run --separate-stderr "$KL" run -n deploy -- true
	assert_failure 75
	[[ $stderr == *"'deploy #812 by alice'"* ]] || fail "stderr: $stderr"
	"$KL" release --token "$KEYLOCK_TOKEN" deploy
	run "$KL" acquire --note $'bad\x1b[31m' x
	assert_failure 64
}

@test "acquire waits like run: -n gives 75 (-E), -w times out" {
	acquire k
	run "$KL" acquire -n k
	assert_failure 75
	run "$KL" acquire -n -E 3 k
	assert_failure 3
	run --separate-stderr "$KL" acquire -w 200ms k
	assert_failure 75
	[[ $stderr == *"timed out"* ]] || fail "stderr: $stderr"
	"$KL" release --token "$KEYLOCK_TOKEN" k
}

@test "renew: 0 while the token holds the key, 76 once it does not" {
	acquire -t 1s k
	run "$KL" renew --token "$KEYLOCK_TOKEN" -t 60s k
	assert_success
	"$KL" release --token "$KEYLOCK_TOKEN" k
	run "$KL" renew --token "$KEYLOCK_TOKEN" k
	assert_failure 76
}

@test "--cooldown: the next caller on another machine does not run; -E 0 exits 0; a failure sets none" {
	# A cooldown that nothing here waits out: the calls below all fall
	# within it however slowly they start.
	run on_machine 1 "$KL" run --cooldown 1m job -- true
	assert_success
	run --separate-stderr on_machine 2 "$KL" run job -- touch "$TMP/ran2"
	assert_failure 75
	[[ $stderr == *"cooling down until"* ]] || fail "stderr: $stderr"
	[ ! -e "$TMP/ran2" ]
	run on_machine 2 "$KL" run -E 0 -q job -- touch "$TMP/ran2"
	assert_success
	[ ! -e "$TMP/ran2" ]
	run "$KL" status --json job
	[ "$(jq -r .cooldown_until <<<"$output")" != null ] || fail "$output"
	# A failed run starts no cooldown.
	run "$KL" run --cooldown 10s other -- false
	assert_failure 1
	run "$KL" run other -- true
	assert_success
}

@test "--cooldown: after the window the next caller runs" {
	local t0 ran=
	t0=$(now_ms)
	# Long enough for the second caller to start within it.
	"$KL" run --cooldown 1500ms job -- true
	run "$KL" run -w 5s job -- touch "$TMP/ran"
	assert_failure 75
	[ ! -e "$TMP/ran" ] || fail "ran within the cooldown"
	# Then a caller runs once the window is over, and not before.
	for _ in $(seq 1 100); do
		if "$KL" run -n -q job -- touch "$TMP/ran"; then
			ran=$(now_ms)
			break
		fi
		sleep 0.05
	done
	[ -n "$ran" ] || fail "no run within 5 s of a 1.5 s cooldown"
	[ -e "$TMP/ran" ] || fail "the command did not run"
	[ $((ran - t0)) -ge 1500 ] ||
	    fail "ran $((ran - t0)) ms after a 1.5 s cooldown began"
}

@test "--cooldown ends the wait of callers already waiting" {
	"$KL" run --cooldown 1m job -- sh -c 'touch "$0/up"
	    while [ ! -e "$0/go" ]; do sleep 0.02; done' "$TMP" &
	local first=$!
	wait_for_file "$TMP/up"
	"$KL" run -v -w 10s job -- touch "$TMP/second" 2>"$TMP/second.err" &
	local second=$!
	wait_for_line "$TMP/second.err" 'waiting for job'
	touch "$TMP/go"
	wait "$first"
	local st=0
	wait "$second" || st=$?
	assert_equal "$st" 75
	[ ! -e "$TMP/second" ]
}

# Runs COMMAND... as if on machine $1 of several sharing the backend: with
# Redis a lock directory of its own; locally there is one.
on_machine() {
	local m=$1
	shift
	if [ "$BACKEND" = redis ]; then
		KEYLOCK_DIR="$TMP/m$m/locks" "$@"
	else
		"$@"
	fi
}

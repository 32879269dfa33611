#!/usr/bin/env bats
# run --memo scenarios that every backend must pass: hits and misses,
# expiry, failures not cached, identity by KEY and argv, stderr, binary
# and empty output, a cold stampede that runs the command once, waiters,
# status and forget, the --memo-max cap, readers that go away, usage
# errors.  This file runs once per backend, picked from its name:
# memo.bats is the local cache, memo_redis.bats (a symlink to it) the
# Redis one.  What only one backend does is in local.bats or redis.bats.

bats_require_minimum_version 1.5.0
load helper
load backend

setup() {
	backend_setup
	# A command that counts its runs in $TMP/runs and prints $1 and its
	# pid, so that two runs never print the same thing.
	cat >"$TMP/work" <<WORK
#!/bin/sh
echo run >>"$TMP/runs"
printf 'result of %s from %s\n' "\$1" "\$\$"
WORK
	chmod +x "$TMP/work"
	backend_scripts
}

teardown() {
	backend_teardown
}

# Writes two scripts for this file's backend, usable where a shell
# function is not (in the background, so that $! is keylock's pid, and in
# the commands keylock runs): $KL SUBCOMMAND [ARG]... runs keylock against
# the backend, and $TMP/waiting KEY prints how many callers of KEY are
# blocked waiting (with Redis, waiters listening on their own channels; locally, the waiting
# helpers, keylock children of a keylock, that use this test's lock
# directory).
backend_scripts() {
	KL=$TMP/kl
	if [ "$BACKEND" = redis ]; then
		printf '#!/bin/sh\nsub=$1\nshift\nexec %q "$sub" --redis %q "$@"\n' \
		    "$KEYLOCK" "$REDIS_URL" >"$KL"
		printf '#!/bin/sh\nredis-cli -s %q PUBSUB CHANNELS "keylock:{$1}:w:*" | grep -c .\n' \
		    "$REDIS_SOCK" >"$TMP/waiting"
	else
		printf '#!/bin/sh\nexec %q "$@"\n' "$KEYLOCK" >"$KL"
		cat >"$TMP/waiting" <<WAITING
#!/bin/bash
n=0
parents=\$(pgrep -d, -x keylock) || { echo 0; exit 0; }
for p in \$(pgrep -x keylock -P "\$parents"); do
	grep -qzxF "KEYLOCK_DIR=$KEYLOCK_DIR" /proc/\$p/environ 2>/dev/null &&
	    n=\$((n + 1))
done
echo "\$n"
WAITING
	fi
	chmod +x "$KL" "$TMP/waiting"
}

# Runs COMMAND... as if on machine $1 of several sharing the backend: with
# Redis a lock and cache directory of its own; locally there is one.
on_machine() {
	local m=$1
	shift
	if [ "$BACKEND" = redis ]; then
		KEYLOCK_DIR="$TMP/m$m/locks" XDG_CACHE_HOME="$TMP/m$m/cache" "$@"
	else
		"$@"
	fi
}

# Prints how many cached entries status lists for key $1.
cached() {
	local out st=0
	out=$("$KL" status --json -- "$1") || st=$?
	[ "$st" -le 1 ] || { echo "status $1 exited $st" >&2; return 1; }
	jq -e '.memo | length' <<<"$out"
}

# Prints the number of --memo captures in progress (temp keys or files);
# fails if it cannot tell.
temps() {
	local found=
	if [ "$BACKEND" = redis ]; then
		found=$(rcli --scan --pattern '*:tmp:*') || return 1
	elif [ -d "$XDG_CACHE_HOME/keylock" ]; then
		found=$(find "$XDG_CACHE_HOME/keylock" -name '.*~*') || return 1
	fi
	grep -c . <<<"$found" || [ $? -eq 1 ]
}

# Fails when a capture temp (key or file) is left behind.
no_temps() {
	local n
	n=$(temps)
	[ "$n" -eq 0 ] || { echo "$n capture temps left" >&2; return 1; }
}

# Fails unless nothing at all was stored: no key in Redis, no lock or
# cache file locally (directories may be there).
nothing_stored() {
	if [ "$BACKEND" = redis ]; then
		assert_equal "$(rcli DBSIZE)" 0
	else
		assert_equal "$(find "$KEYLOCK_DIR" "$XDG_CACHE_HOME" ! -type d \
		    2>/dev/null)" ""
	fi
}

# Prints how many callers of key $1 are blocked waiting.
waiting() {
	"$TMP/waiting" "$1"
}

# Waits (bounded, 10 s) until at least $1 callers of key $2 wait.
wait_waiting() {
	for _ in $(seq 1 200); do
		[ "$(waiting "$2")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "fewer than $1 waiters on $2: $(waiting "$2")" >&2
	return 1
}

# Waits for the background callers 0..$1 ($TMP/wI.pid) and checks that
# each exited $2 having printed $3 ($TMP/out.I).
wait_callers() {
	local i rc
	for i in $(seq 0 "$1"); do
		rc=0
		wait "$(cat "$TMP/w$i.pid")" || rc=$?
		assert_equal "$rc" "$2"
		assert_equal "$(cat "$TMP/out.$i")" "$3"
	done
}

# The fence the next acquisition of key $1 gets.
next_fence() {
	"$KL" run "$1" sh -c 'echo "$KEYLOCK_FENCE"'
}

@test "a miss runs the command, a hit prints its stdout without running it" {
	run --separate-stderr "$KL" run --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$stderr" ""
	local first=$output
	assert_output --regexp '^result of a from [0-9]+$'
	assert_equal "$(runs)" 1
	assert_equal "$(cached k)" 1
	run --separate-stderr "$KL" run --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$first"
	assert_equal "$(runs)" 1
	run --separate-stderr "$KL" run -v --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$output" "$first"
	[[ $stderr == *"served from the cache"* ]] || fail "stderr: $stderr"
	# A hit takes no lock: the one run so far took fence 1.
	assert_equal "$(next_fence k)" 2
	no_temps
}

@test "a hit does not wait for the lock; a miss does (-n, -w: 75)" {
	"$KL" run --memo 1m k "$TMP/work" a >"$TMP/first"
	# Someone else holds KEY now (any command).
	"$KL" run k sh -c ': >"$1/held"
	    while [ ! -e "$1/go" ]; do sleep 0.05; done' x "$TMP" 3>&- &
	echo $! >"$TMP/holder.pid"
	wait_for_file "$TMP/held"
	run --separate-stderr "$KL" run -n --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$output" "$(cat "$TMP/first")"
	assert_equal "$(runs)" 1
	# A miss (other argv) must wait: -n and -w turn that into 75.
	run "$KL" run -n --memo 1m k "$TMP/work" other
	assert_failure 75
	run "$KL" run -w 200ms --memo 1m k "$TMP/work" other
	assert_failure 75
	assert_equal "$(runs)" 1
	touch "$TMP/go"
	wait "$(cat "$TMP/holder.pid")"
}

@test "an entry expires after its TTL" {
	# 2 s: the second call must come within the TTL, however slowly
	# keylock starts.
	run "$KL" run --memo 2s k "$TMP/work" a
	assert_success
	run "$KL" run --memo 2s k "$TMP/work" a
	assert_success
	assert_equal "$(runs)" 1
	sleep 2.5
	run "$KL" run --memo 2s k "$TMP/work" a
	assert_success
	assert_equal "$(runs)" 2
}

@test "an entry older than the caller's TTL is not served" {
	job_script 0
	run --separate-stderr "$KL" run --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_equal "$(runs)" 1
	assert_equal "$(cached job)" 1
	# Still stored, but older than this caller's TTL: a miss.
	sleep 0.4
	run --separate-stderr "$KL" run --memo 300ms job -- "$TMP/job.sh"
	assert_success
	assert_output out
	assert_equal "$(runs)" 2
	# That run stored it for 300 ms: then it is gone.
	for _ in $(seq 1 40); do
		[ "$(cached job)" -eq 0 ] && break
		sleep 0.05
	done
	assert_equal "$(cached job)" 0
	run --separate-stderr "$KL" run --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	assert_equal "$(runs)" 3
	run --separate-stderr "$KL" run --memo 1m job -- "$TMP/job.sh"
	assert_output out
	assert_equal "$(runs)" 3
	no_temps
}

@test "age counts from when the result was stored, not when the run began" {
	# The run outlasts the TTL; the next call must come within the TTL
	# of the store, however slowly keylock starts: 2 s.
	run "$KL" run --memo 2s k sh -c 'sleep 2.5; "$0" a' "$TMP/work"
	assert_success
	local first=$output
	assert_equal "$(runs)" 1
	run "$KL" run --memo 2s k sh -c 'sleep 2.5; "$0" a' "$TMP/work"
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(runs)" 1
}

@test "a waiter accepts the result it waited for; age counts from the store" {
	job_script 0
	mkfifo "$TMP/go"
	"$KL" run --memo 1m job -- "$TMP/job.sh" >"$TMP/first" 2>/dev/null 3>&- &
	echo $! >"$TMP/first.pid"
	wait_for_file "$TMP/up"
	"$KL" run -v --memo 300ms job -- "$TMP/job.sh" >"$TMP/second" \
	    2>"$TMP/second.err" 3>&- &
	echo $! >"$TMP/second.pid"
	wait_waiting 1 job
	# The waiter wakes up only when the result is older than its TTL.
	kill -STOP "$(cat "$TMP/second.pid")"
	sleep 0.3
	local t_go
	t_go=$(date +%s%3N)
	echo >"$TMP/go"
	wait "$(cat "$TMP/first.pid")"
	sleep 0.4
	kill -CONT "$(cat "$TMP/second.pid")"
	wait "$(cat "$TMP/second.pid")"
	assert_equal "$(cat "$TMP/first")" out
	assert_equal "$(cat "$TMP/second")" out
	assert_equal "$(runs)" 1
	# The waiting line names who is producing the result.
	local first
	first=$(cat "$TMP/first.pid")
	grep -q "waiting for job: .*$first.* is producing the result" \
	    "$TMP/second.err"
	# Its age counts from the store (after go), not from the run's start
	# (at least 300 ms before go).
	run "$KL" status --json job
	local age
	age=$(jq -e '.memo[0].age_ms' <<<"$output")
	[ "$age" -ge 400 ] || fail "age $age"
	[ "$age" -le $(( $(date +%s%3N) - t_go + 20 )) ] || fail "age $age"
}

@test "a failing run exits with its status and stores nothing" {
	run --separate-stderr "$KL" run --memo 1m k sh -c \
	    'echo partial; echo run >>"$0/runs"; exit 3' "$TMP"
	assert_failure 3
	assert_output partial
	run --separate-stderr "$KL" run --memo 1m k sh -c \
	    'echo partial; echo run >>"$0/runs"; exit 3' "$TMP"
	assert_failure 3
	assert_equal "$(runs)" 2
	run "$KL" status k
	refute_output --partial cached
	assert_equal "$(cached k)" 0
	no_temps
}

@test "after a failure the waiters take turns, one run at a time" {
	job_script 3
	mkfifo "$TMP/go"
	local i rc
	"$KL" run --memo 1m job -- "$TMP/job.sh" >"$TMP/out.0" 2>/dev/null 3>&- &
	echo $! >"$TMP/w0.pid"
	wait_for_file "$TMP/up"
	# The capture lives in a temp (key or file) while the command runs.
	assert_equal "$(temps)" 1
	for i in 1 2 3 4 5; do
		on_machine "$i" "$KL" run --memo 1m job -- "$TMP/job.sh" >"$TMP/out.$i" 2>/dev/null \
		    3>&- &
		echo $! >"$TMP/w$i.pid"
	done
	wait_waiting 5 job
	echo >"$TMP/go"
	wait_callers 5 3 out
	# Everyone ran the command (nothing was stored), one at a time.
	assert_equal "$(runs)" 6
	[ ! -e "$TMP/overlap" ] || fail "runs overlapped: $(cat "$TMP/overlap")"
	assert_equal "$(cached job)" 0
	no_temps
	# The next caller runs it again.
	run "$KL" run --memo 1m job -- "$TMP/job.sh"
	assert_failure 3
	assert_equal "$(runs)" 7
}

@test "a different argv is a different entry; the lock is still KEY's" {
	run "$KL" run --memo 1m k "$TMP/work" a
	local a=$output
	run "$KL" run --memo 1m k "$TMP/work" b
	local b=$output
	assert_equal "$(runs)" 2
	[ "$a" != "$b" ]
	# Argument boundaries count: "a b" is not "a" "b", "ab" "c" not "a" "bc".
	run "$KL" run --memo 1m k "$TMP/work" "a b"
	run "$KL" run --memo 1m k "$TMP/work" a b
	run "$KL" run --memo 1m k "$TMP/work" ab c
	run "$KL" run --memo 1m k "$TMP/work" a bc
	assert_equal "$(runs)" 6
	# The same argv under another key is another entry.
	run "$KL" run --memo 1m other "$TMP/work" a
	assert_equal "$(runs)" 7
	assert_equal "$(cached k)" 6
	assert_equal "$(cached other)" 1
	# Each is served to its own command.
	run "$KL" run --memo 1m k "$TMP/work" a
	assert_equal "$output" "$a"
	run "$KL" run --memo 1m k "$TMP/work" b
	assert_equal "$output" "$b"
	run "$KL" run --memo 1m k "$TMP/work" ab c
	assert_output --regexp '^result of ab from'
	assert_equal "$(runs)" 7
	# Every run took KEY's lock, hits none: fences 1-6 on k, 1 on other.
	assert_equal "$(next_fence k)" 7
	assert_equal "$(next_fence other)" 2
	no_temps
}

@test "stderr passes through on a miss and is not cached" {
	run --separate-stderr "$KL" run --memo 1m k sh -c 'echo out; echo err >&2'
	assert_success
	assert_output out
	assert_equal "$stderr" err
	run --separate-stderr "$KL" run --memo 1m k sh -c 'echo out; echo err >&2'
	assert_success
	assert_output out
	assert_equal "$stderr" ""
	# The entry is "out\n" alone.
	run "$KL" status --json k
	assert_equal "$(jq -c '[.memo[].size]' <<<"$output")" "[4]"
}

@test "binary output with NUL bytes is byte-identical on miss and hit" {
	{
		printf 'a\0b\0\0\n\r\377'
		head -c 1500000 /dev/urandom
		printf '\0no newline at the end'
	} >"$TMP/blob"
	"$KL" run --memo 1m k cat "$TMP/blob" >"$TMP/miss"
	cmp "$TMP/blob" "$TMP/miss"
	"$KL" run --memo 1m k cat "$TMP/blob" >"$TMP/hit"
	cmp "$TMP/blob" "$TMP/hit"
	# Through a pipe too (no sendfile to a file there).
	"$KL" run --memo 1m k cat "$TMP/blob" | cat >"$TMP/hit2"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	cmp "$TMP/blob" "$TMP/hit2"
	rm "$TMP/blob"
	"$KL" run --memo 1m k cat "$TMP/blob" >"$TMP/hit3"
	cmp "$TMP/miss" "$TMP/hit3"
	no_temps
}

@test "an empty output is cached too" {
	run "$KL" run --memo 1m k sh -c 'echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_output ""
	run "$KL" run --memo 1m k sh -c 'echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_output ""
	assert_equal "$(runs)" 1
	no_temps
}

@test "a cold stampede of 30 callers runs the command once" {
	local i st
	for i in $(seq 1 30); do
		on_machine "$i" "$KL" run --memo 1m storm sh -c '
			echo run >>"$0/runs"
			# Hold on (bounded) until all other callers wait.
			i=0
			while [ $i -lt 200 ]; do
				n=$("$0/waiting" storm)
				[ "$n" -ge 29 ] && break
				sleep 0.05
				i=$((i + 1))
			done
			echo "$n" >"$0/waited"
			head -c 20000 /dev/urandom | od -An -tx1
			echo "from $$"' "$TMP" >"$TMP/out.$i" 2>"$TMP/err.$i" 3>&- &
		echo $! >"$TMP/c$i.pid"
	done
	for i in $(seq 1 30); do
		st=0
		wait "$(cat "$TMP/c$i.pid")" || st=$?
		assert_equal "$st" 0
	done
	assert_equal "$(runs)" 1
	# It really was a stampede: the 29 others waited while it ran.
	[ "$(cat "$TMP/waited")" -ge 29 ] ||
	    fail "only $(cat "$TMP/waited") callers waited"
	[ -s "$TMP/out.1" ]
	for i in $(seq 2 30); do
		cmp "$TMP/out.1" "$TMP/out.$i"
	done
	assert_equal "$(cached storm)" 1
	no_temps
}

@test "-n while another caller produces the result: 75; -v names the producer" {
	"$KL" run --memo 1m k sh -c ': >"$1/started"
	    while [ ! -e "$1/go" ]; do sleep 0.1; done; echo done' \
	    x "$TMP" >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/producer.pid"
	wait_for_file "$TMP/started"
	run --separate-stderr "$KL" run -n --memo 1m k sh -c 'echo mine'
	assert_failure 75
	assert_output ""
	run --separate-stderr "$KL" run -v -w 0.3 --memo 1m k sh -c 'echo mine'
	assert_failure 75
	[[ "$stderr" == *"pid $(cat "$TMP/producer.pid")"*"producing"* ]] ||
	    fail "stderr: $stderr"
	touch "$TMP/go"
	wait "$(cat "$TMP/producer.pid")"
}

@test "forget drops every cached entry of the key, and only of it" {
	"$KL" run --memo 1m k "$TMP/work" a >/dev/null
	"$KL" run --memo 1m k "$TMP/work" b >/dev/null
	"$KL" run --memo 1m other "$TMP/work" a >/dev/null
	assert_equal "$(runs)" 3
	run --separate-stderr "$KL" forget k
	assert_success
	assert_output ""
	assert_equal "$(cached k)" 0
	assert_equal "$(cached other)" 1
	"$KL" run --memo 1m k "$TMP/work" a >/dev/null
	"$KL" run --memo 1m k "$TMP/work" b >/dev/null
	assert_equal "$(runs)" 5
	"$KL" run --memo 1m other "$TMP/work" a >/dev/null
	assert_equal "$(runs)" 5
	run --separate-stderr "$KL" forget -v k
	assert_success
	[[ "$stderr" == *2* ]] || fail "stderr: $stderr"
	run "$KL" forget never-cached
	assert_success
}

@test "status shows the cached entries: age, size, TTL left" {
	run "$KL" status k
	refute_output --partial cached
	run "$KL" run --memo 1m k printf 12345
	assert_success
	run "$KL" run --memo 10m k printf abcdefghij
	assert_success
	run --separate-stderr "$KL" status k
	assert_failure 1
	assert_line --index 0 'k: free'
	assert_line --regexp '^  cached [0-9a-f]{12}: 5 bytes, stored [0-9.]+m?s ago, ([56][0-9](\.[0-9])?s|1m00s) left$'
	assert_line --regexp '^  cached [0-9a-f]{12}: 10 bytes, stored [0-9.]+m?s ago, (9m5[0-9]s|10m00s) left$'
	assert_equal "${#lines[@]}" 3
	run --separate-stderr "$KL" status --json k
	assert_failure 1
	printf '%s' "$output" >"$TMP/status.json"
	python3 - "$TMP/status.json" "$BACKEND" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["backend"] == sys.argv[2] and s["held"] is False, s
m = sorted(s["memo"], key=lambda e: e["size"])
assert [e["size"] for e in m] == [5, 10], m
for e, ttl in zip(m, (60000, 600000)):
    assert len(e["digest"]) == 64, e
    assert 0 <= e["age_ms"] < 10000, e
    assert ttl - 10000 < e["ttl_ms"] <= ttl, e
PY
	# Another key's entries are not listed.
	assert_equal "$(cached other)" 0
	"$KL" forget k
	run "$KL" status k
	refute_output --partial cached
}

@test "status shows cached entries while the key is held" {
	job_script 0
	run "$KL" run --memo 1m job -- echo cached
	mkfifo "$TMP/go"
	"$KL" run --memo 1m job -- "$TMP/job.sh" >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/k.pid"
	wait_for_file "$TMP/up"
	run "$KL" status job
	assert_success
	assert_line --index 0 --partial 'job: held by'
	# The capture in progress is not an entry.
	assert_equal "$(grep -c cached <<<"$output")" 1
	assert_output --partial ': 7 bytes'
	echo >"$TMP/go"
	wait "$(cat "$TMP/k.pid")"
	run "$KL" status job
	assert_equal "$(grep -c cached <<<"$output")" 2
}

@test "--memo-max: a bigger output passes through whole, one warning, not cached" {
	head -c 5000 /dev/urandom >"$TMP/blob"
	run --separate-stderr "$KL" run --memo 1m --memo-max 4K k \
	    sh -c 'cat "$0/blob"; echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_equal "$stderr" ""
	"$KL" run --memo 1m --memo-max 4K k \
	    sh -c 'cat "$0/blob"; echo run >>"$0/runs"' "$TMP" >"$TMP/out"
	cmp "$TMP/blob" "$TMP/out"
	assert_equal "$(runs)" 2
	run --separate-stderr "$KL" run -v --memo 1m --memo-max 4K k \
	    sh -c 'cat "$0/blob"; echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_equal "$(grep -c memo-max <<<"$stderr")" 1
	assert_equal "$(runs)" 3
	run "$KL" status k
	refute_output --partial cached
	no_temps
}

@test "--memo-max: an output of exactly the cap is cached, one byte more is not" {
	"$KL" run --memo 1m --memo-max 1K k \
	    sh -c 'head -c 1024 /dev/zero; echo run >>"$0/runs"' "$TMP" >/dev/null
	"$KL" run --memo 1m --memo-max 1K k \
	    sh -c 'head -c 1024 /dev/zero; echo run >>"$0/runs"' "$TMP" >"$TMP/out"
	assert_equal "$(runs)" 1
	assert_equal "$(wc -c <"$TMP/out")" 1024
	run "$KL" status --json k
	assert_equal "$(jq -c '[.memo[].size]' <<<"$output")" "[1024]"
	run "$KL" run --memo 1m --memo-max 1K k head -c 1025 /dev/zero
	assert_success
	assert_equal "$(cached k)" 1
	no_temps
}

@test "--memo 0, a bad TTL or a bad --memo-max: 64, nothing run or stored" {
	local ttl size
	for ttl in 0 0s 0ms abc soon -5 -5s 1x "" 1.5.5; do
		run --separate-stderr "$KL" run --memo "$ttl" k "$TMP/work"
		assert_equal "$status" 64
		assert_output ""
		[[ "$stderr" == keylock:*"'$ttl'"* ]] || fail "stderr: $stderr"
	done
	for size in abc -1 1X 1T 12Q ""; do
		run --separate-stderr "$KL" run --memo 1m --memo-max "$size" \
		    k "$TMP/work"
		assert_equal "$status" 64
		[[ "$stderr" == keylock:*"'$size'"* ]] || fail "stderr: $stderr"
	done
	assert_equal "$(runs)" 0
	nothing_stored
}

@test "| head -1 on a miss: SIGPIPE like the command, nothing stored, released" {
	run bash -c 'set -o pipefail
	    "$1" run --memo 1m k sh -c "echo run >>\"$2/runs\"; seq 1 3000000" |
	    head -1' x "$KL" "$TMP"
	assert_failure 141
	assert_output 1
	assert_equal "$(cached k)" 0
	no_temps
	# Released: the next caller runs at once, and stores the whole output.
	run bash -c 'set -o pipefail
	    "$1" run -n --memo 1m k sh -c "echo run >>\"$2/runs\"; seq 1 3000000" |
	    tail -1' x "$KL" "$TMP"
	assert_success
	assert_output 3000000
	assert_equal "$(runs)" 2
	assert_equal "$(cached k)" 1
}

@test "| head -1: a command that exits 0 on EPIPE stores nothing either" {
	local st
	st=$(set +o pipefail; "$KL" run --memo 1m k bash -c \
	    'trap "" PIPE; while echo y 2>/dev/null; do :; done; exit 0' |
	    head -1; echo "${PIPESTATUS[0]}")
	assert_equal "$st" "y
0"
	assert_equal "$(cached k)" 0
	no_temps
}

@test "| head -1 on a hit: SIGPIPE, and the entry stays whole" {
	seq 1 200000 >"$TMP/expect"
	run "$KL" run --memo 1m k seq 1 200000
	assert_success
	local size st
	size=$(stat -c %s "$TMP/expect")
	run "$KL" status --json k
	assert_equal "$(jq -c '[.memo[].size]' <<<"$output")" "[$size]"
	st=$(set +o pipefail; "$KL" run --memo 1m k seq 1 200000 \
	    2>"$TMP/err" | head -1; echo "${PIPESTATUS[0]}")
	assert_equal "$st" "1
141"
	run "$KL" status --json k
	assert_equal "$(jq -c '[.memo[].size]' <<<"$output")" "[$size]"
	"$KL" run --memo 1m k seq 1 200000 >"$TMP/hit"
	cmp "$TMP/expect" "$TMP/hit"
}

@test "| head -1 on a waiter: SIGPIPE, and the lock is released" {
	mkfifo "$TMP/p.go"
	"$KL" run --memo 1m job -- \
	    sh -c 'touch "$0.up"; read x < "$0.go"; seq 1 500000' "$TMP/p" \
	    >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/p.pid"
	wait_for_file "$TMP/p.up"
	# The waiter's reader goes away after one line of the result.
	(set +o pipefail; "$KL" run --memo 1m job \
	    -- sh -c 'touch "$0.up"; read x < "$0.go"; seq 1 500000' "$TMP/p" \
	    2>/dev/null | head -1 >"$TMP/w.out"
	    echo "${PIPESTATUS[0]}" >"$TMP/w.st") 3>&- &
	wait_waiting 1 job
	echo >"$TMP/p.go"
	wait "$(cat "$TMP/p.pid")"
	wait_for_file "$TMP/w.st"
	wait
	assert_equal "$(cat "$TMP/w.out")" 1
	assert_equal "$(cat "$TMP/w.st")" 141
	# The waiter took the lock to read the result; it must not keep it
	# (until the lease runs out, with Redis).
	run "$KL" status job
	assert_failure 1
	run "$KL" run -n job -- echo next
	assert_success
	assert_output next
}

@test "a run stopped by a signal stores nothing and leaves no temp" {
	"$KL" run --memo 1m job -- \
	    sh -c 'seq 1 100000; touch "$0"; exec sleep 30' "$TMP/up" \
	    >"$TMP/out" 2>/dev/null 3>&- &
	local pid=$! rc=0
	echo $pid >"$TMP/k.pid"
	wait_for_file "$TMP/up"
	assert_equal "$(temps)" 1
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	assert_equal "$(cached job)" 0
	no_temps
}

@test "status and forget of a key never cached leave nothing behind" {
	run "$KL" status never
	assert_failure 1
	run "$KL" forget never
	assert_success
	nothing_stored
}

@test "an output that cannot be written (full disk): 74, the reason, nothing stored" {
	run --separate-stderr sh -c '"$@" >/dev/full' x "$KL" run --memo 1m k echo x
	assert_failure 74
	assert_equal "$stderr" "keylock: k: cannot write the output: No space left on device"
	assert_equal "$(cached k)" 0
	no_temps
}

@test "a full disk past a pipe's worth of output: still 74, not the command's SIGPIPE" {
	run --separate-stderr sh -c '"$@" >/dev/full' x "$KL" run --memo 1m k \
	    seq 1 20000
	assert_failure 74
	assert_equal "$stderr" "keylock: k: cannot write the output: No space left on device"
	assert_equal "$(cached k)" 0
	no_temps
}

@test "a SIGTERM while a waiter prints the result to a stalled reader ends it" {
	local cmd=': >"$1/up.$$"
	    while [ ! -e "$1/go" ]; do sleep 0.02; done
	    head -c 1000000 /dev/zero'
	"$KL" run --memo 1m big sh -c "$cmd" x "$TMP" >/dev/null 3>&- &
	echo $! >"$TMP/a.pid"
	for _ in $(seq 1 200); do
		ls "$TMP"/up.* >/dev/null 2>&1 && break
		sleep 0.05
	done
	ls "$TMP"/up.* >/dev/null
	# The waiter's reader does not read until told to.
	mkfifo "$TMP/out"
	"$KL" run --memo 1m big sh -c "$cmd" x "$TMP" >"$TMP/out" 3>&- &
	echo $! >"$TMP/b.pid"
	exec 5<"$TMP/out"
	wait_waiting 1 big
	touch "$TMP/go"
	wait "$(cat "$TMP/a.pid")"
	# b took the result and is writing it into the pipe: wait until full.
	for _ in $(seq 1 200); do
		pipe_full 5 && break
		sleep 0.05
	done
	pipe_full 5 || fail "the waiter did not fill the pipe"
	kill -TERM "$(cat "$TMP/b.pid")"
	wait_gone "$(cat "$TMP/b.pid")"
	local st=0
	wait "$(cat "$TMP/b.pid")" || st=$?
	exec 5<&-
	assert_equal "$st" 143
	run "$KL" status big
	assert_output --partial 'big: free'
}

# --- cache identity inputs: --memo-cwd, --memo-env, --memo-file ---

# Prints the cached stdout of "$KL run --memo 1m ARGS... k $TMP/work x",
# run in the current directory.
memo_work() {
	"$KL" run --memo 1m "$@" k "$TMP/work" x
}

@test "--memo-cwd: another working directory is a miss, the same one a hit" {
	mkdir "$TMP/a" "$TMP/b"
	local a b
	a=$(cd "$TMP/a" && memo_work --memo-cwd) || fail "run in a"
	b=$(cd "$TMP/b" && memo_work --memo-cwd) || fail "run in b"
	assert_equal "$(runs)" 2
	[ "$a" != "$b" ] || fail "a and b share an entry"
	assert_equal "$(cd "$TMP/a" && memo_work --memo-cwd)" "$a"
	assert_equal "$(cd "$TMP/b" && memo_work --memo-cwd)" "$b"
	assert_equal "$(runs)" 2
	# The physical directory: a symlink to a is a.
	ln -s "$TMP/a" "$TMP/link"
	assert_equal "$(cd "$TMP/link" && memo_work --memo-cwd)" "$a"
	assert_equal "$(runs)" 2
	# Without --memo-cwd the directory does not count.
	local c
	c=$(cd "$TMP/a" && memo_work) || fail "run without --memo-cwd"
	assert_equal "$(cd "$TMP/b" && memo_work)" "$c"
	assert_equal "$(runs)" 3
	no_temps
}

@test "--memo-env: unset, empty and each value are entries of their own" {
	local unset empty one
	unset=$(env -u V "$KL" run --memo 1m --memo-env V k "$TMP/work" x) ||
	    fail "unset"
	empty=$(V= "$KL" run --memo 1m --memo-env V k "$TMP/work" x) ||
	    fail "empty"
	one=$(V=1 "$KL" run --memo 1m --memo-env V k "$TMP/work" x) ||
	    fail "V=1"
	assert_equal "$(runs)" 3
	[ "$unset" != "$empty" ] || fail "unset and empty share an entry"
	[ "$empty" != "$one" ] || fail "empty and 1 share an entry"
	assert_equal "$(env -u V "$KL" run --memo 1m --memo-env V k "$TMP/work" x)" "$unset"
	assert_equal "$(V= "$KL" run --memo 1m --memo-env V k "$TMP/work" x)" "$empty"
	assert_equal "$(V=1 "$KL" run --memo 1m --memo-env V k "$TMP/work" x)" "$one"
	assert_equal "$(runs)" 3
	# Only the named variables count: another one changing is a hit.
	assert_equal "$(V=1 W=2 "$KL" run --memo 1m --memo-env V k "$TMP/work" x)" "$one"
	assert_equal "$(runs)" 3
	# Two names: each value counts; "V=a W=" is not "V= W=a".
	V=a W= "$KL" run --memo 1m --memo-env V --memo-env W k "$TMP/work" x >/dev/null
	V= W=a "$KL" run --memo 1m --memo-env V --memo-env W k "$TMP/work" x >/dev/null
	assert_equal "$(runs)" 5
	# Values are hashed, never stored.
	SECRET=hunter2-value "$KL" run --memo 1m --memo-env SECRET k "$TMP/work" x >/dev/null
	if [ "$BACKEND" = redis ]; then
		local k
		for k in $(rcli --scan); do
			run rcli DUMP "$k"
			refute_output --partial hunter2-value
		done
	else
		run grep -rl hunter2-value "$XDG_CACHE_HOME"
		assert_failure 1
	fi
}

@test "--memo-file: changed content is a miss, a touch is not, a missing file is its own input" {
	echo one >"$TMP/in"
	local first
	first=$(memo_work --memo-file "$TMP/in") || fail "first run"
	assert_equal "$(runs)" 1
	# Same content, new mtime and inode: a hit.
	cp "$TMP/in" "$TMP/in.new"
	mv "$TMP/in.new" "$TMP/in"
	touch -d '2001-01-01' "$TMP/in"
	assert_equal "$(memo_work --memo-file "$TMP/in")" "$first"
	assert_equal "$(runs)" 1
	# Same size, new content: a miss.
	echo two >"$TMP/in"
	memo_work --memo-file "$TMP/in" >/dev/null
	assert_equal "$(runs)" 2
	# Back to the first content: that entry again.
	echo one >"$TMP/in"
	assert_equal "$(memo_work --memo-file "$TMP/in")" "$first"
	assert_equal "$(runs)" 2
	# Missing is an input of its own, then the file's content counts.
	rm "$TMP/in"
	local missing
	missing=$(memo_work --memo-file "$TMP/in") || fail "missing file"
	assert_equal "$(runs)" 3
	assert_equal "$(memo_work --memo-file "$TMP/in")" "$missing"
	: >"$TMP/in"
	memo_work --memo-file "$TMP/in" >/dev/null
	assert_equal "$(runs)" 4
	# Without --memo-file the file does not count.
	assert_equal "$(cached k)" 4
	no_temps
}

# Prints n as 8 bytes big-endian.
u64() {
	printf '%016x' "$1" | xxd -r -p
}

# Prints s with its length in front.
lstr() {
	u64 "${#1}"
	printf '%s' "$1"
}

@test "the identity is the documented version-2 encoding (a 0.1 entry is a miss)" {
	V=val "$KL" run --memo 1m --memo-env V --memo-env U k echo hi >/dev/null
	local want
	want=$({ printf 'keylock-memo\0'; u64 2; lstr k; u64 2; lstr echo
	    lstr hi; u64 0; u64 0; u64 2; lstr V; u64 1; lstr val; lstr U; u64 0
	    u64 0; } | sha256sum | cut -d' ' -f1)
	run "$KL" status --json k
	assert_equal "$(jq -r '.memo[].digest' <<<"$output")" "$want"
	# An entry stored under the version-1 name of the same command
	# (keylock 0.1) is a miss, never served.
	"$KL" forget k
	"$KL" run --memo 1m k "$TMP/work" x >/dev/null
	local v1 v2
	v1=$({ printf 'keylock-memo\0'; u64 1; lstr k; u64 2; lstr "$TMP/work"
	    lstr x; } | sha256sum | cut -d' ' -f1)
	v2=$({ printf 'keylock-memo\0'; u64 2; lstr k; u64 2; lstr "$TMP/work"
	    lstr x; u64 0; u64 0; u64 0; u64 0; } | sha256sum | cut -d' ' -f1)
	run "$KL" status --json k
	assert_equal "$(jq -r '.memo[].digest' <<<"$output")" "$v2"
	if [ "$BACKEND" = redis ]; then
		rcli RENAME "keylock:{k}:memo:$v2" "keylock:{k}:memo:$v1" >/dev/null
		rcli RENAME "keylock:{k}:memo:$v2:meta" "keylock:{k}:memo:$v1:meta" >/dev/null
	else
		local f
		f=$(find "$XDG_CACHE_HOME/keylock" -name "$v2")
		[ -f "$f" ] || fail "no entry file $v2"
		mv "$f" "${f%/*}/$v1"
	fi
	"$KL" run --memo 1m k "$TMP/work" x >/dev/null
	assert_equal "$(runs)" 2
}

@test "--memo-cwd, --memo-env, --memo-file: bad values and no --memo are 64" {
	local args
	for args in "--memo-env=" "--memo-env=A=B" "--memo-file=" \
	    "--memo-cwd --memo-env=X" ; do
		# shellcheck disable=SC2086
		run --separate-stderr "$KL" run --memo 1m $args k "$TMP/work"
		if [ "$args" = "--memo-cwd --memo-env=X" ]; then
			assert_success
			continue
		fi
		assert_equal "$status" 64
		[[ "$stderr" == keylock:* ]] || fail "stderr: $stderr"
		assert_equal "${#stderr_lines[@]}" 1
	done
	for args in --memo-cwd --memo-env=X --memo-file=/x --memo-stderr \
	    --memo-failures=1m --memo-refresh --memo-stale=1m; do
		run --separate-stderr "$KL" run "$args" k "$TMP/work"
		assert_equal "$status" 64
		assert_equal "$stderr" "keylock: run: option '${args%%=*}' needs --memo"
	done
	# A file that cannot be read as one: 74, named, nothing run.
	run --separate-stderr "$KL" run --memo 1m --memo-file "$TMP" k "$TMP/work"
	assert_equal "$status" 74
	[[ "$stderr" == *"--memo-file $TMP: not a regular file" ]] || fail "stderr: $stderr"
	assert_equal "$(runs)" 1
}

# --- --memo-stderr ---

@test "--memo-stderr: stderr is stored and replayed to stderr on a hit" {
	local cmd='echo run >>"$0/runs"; echo out; echo err >&2; printf "e\0x" >&2'
	run --separate-stderr "$KL" run --memo 1m --memo-stderr k sh -c "$cmd" "$TMP"
	assert_success
	assert_output out
	local err=$stderr
	[[ $err == $'err\ne'* ]] || fail "stderr: $err"
	run --separate-stderr "$KL" run --memo 1m --memo-stderr k sh -c "$cmd" "$TMP"
	assert_success
	assert_output out
	assert_equal "$stderr" "$err"
	assert_equal "$(runs)" 1
	# Byte for byte, NUL included.
	"$KL" run --memo 1m --memo-stderr k sh -c "$cmd" "$TMP" 2>"$TMP/err.hit" >/dev/null
	printf 'err\ne\0x' | cmp - "$TMP/err.hit"
	# Entries with and without stderr are not the same entry.
	run --separate-stderr "$KL" run --memo 1m k sh -c "$cmd" "$TMP"
	assert_equal "$(runs)" 2
	run --separate-stderr "$KL" run --memo 1m k sh -c "$cmd" "$TMP"
	assert_equal "$stderr" ""
	assert_equal "$(runs)" 2
	run "$KL" status --json k
	assert_equal "$(jq -c '[.memo[].size] | sort' <<<"$output")" "[4,11]"
	no_temps
}

@test "--memo-stderr: a MiB on each stream, interleaved, replayed whole" {
	local cmd='for i in $(seq 1 64); do head -c 16384 /dev/zero | tr "\0" o
	    head -c 16384 /dev/zero | tr "\0" e >&2; done'
	"$KL" run --memo 1m --memo-stderr k bash -c "$cmd" >"$TMP/o1" 2>"$TMP/e1"
	"$KL" run --memo 1m --memo-stderr k bash -c "$cmd" >"$TMP/o2" 2>"$TMP/e2"
	assert_equal "$(wc -c <"$TMP/o1")" 1048576
	assert_equal "$(wc -c <"$TMP/e1")" 1048576
	cmp "$TMP/o1" "$TMP/o2"
	cmp "$TMP/e1" "$TMP/e2"
	run grep -c e "$TMP/o2"
	assert_output 0
	assert_equal "$(cached k)" 1
}

@test "--memo-stderr: waiters get the stderr of the run they waited for" {
	job_script 0
	mkfifo "$TMP/go"
	"$KL" run --memo 1m --memo-stderr job -- "$TMP/job.sh" >"$TMP/out.0" 2>"$TMP/err.0" 3>&- &
	echo $! >"$TMP/w0.pid"
	wait_for_file "$TMP/up"
	on_machine 1 "$KL" run --memo 1m --memo-stderr job -- "$TMP/job.sh" >"$TMP/out.1" 2>"$TMP/err.1" 3>&- &
	echo $! >"$TMP/w1.pid"
	wait_waiting 1 job
	echo >"$TMP/go"
	wait "$(cat "$TMP/w0.pid")"
	wait "$(cat "$TMP/w1.pid")"
	assert_equal "$(runs)" 1
	assert_equal "$(cat "$TMP/out.1")" out
	assert_equal "$(cat "$TMP/err.1")" err
}

@test "--memo-stderr: a stderr that cannot be written: the run stands, nothing stored" {
	local rc=0
	"$KL" run --memo 1m --memo-stderr k sh -c \
	    'echo out; echo err >&2; echo run >>"$0/runs"' "$TMP" \
	    >"$TMP/out" 2>/dev/full || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$TMP/out")" out
	assert_equal "$(runs)" 1
	assert_equal "$(cached k)" 0
	no_temps
}

# --- --memo-failures ---

@test "--memo-failures: a failure is stored for DURATION, replayed with its status" {
	local cmd='echo run >>"$0/runs"; echo out; echo err >&2; exit 3'
	run --separate-stderr "$KL" run --memo 1h --memo-failures 30s --memo-stderr \
	    k sh -c "$cmd" "$TMP"
	assert_failure 3
	assert_output out
	assert_equal "$stderr" err
	run --separate-stderr "$KL" run --memo 1h --memo-failures 30s --memo-stderr \
	    k sh -c "$cmd" "$TMP"
	assert_failure 3
	assert_output out
	assert_equal "$stderr" err
	assert_equal "$(runs)" 1
	# It lives for --memo-failures, not --memo.
	run "$KL" status --json k
	local ttl
	ttl=$(jq '.memo[0].ttl_ms' <<<"$output")
	[ "$ttl" -gt 20000 ] && [ "$ttl" -le 30000 ] || fail "ttl_ms $ttl"
	# Without the flag a stored failure is a miss, and a failure is not
	# stored: the run fails again.
	run --separate-stderr "$KL" run --memo 1h --memo-stderr k sh -c "$cmd" "$TMP"
	assert_failure 3
	assert_equal "$(runs)" 2
	# A success replaces it.
	run "$KL" run --memo 1h --memo-stderr k sh -c 'echo fixed' "$TMP"
	run "$KL" run --memo 1h --memo-failures 30s --memo-stderr k sh -c 'echo fixed' "$TMP"
	assert_success
	assert_output fixed
	no_temps
}

@test "--memo-failures: 20 concurrent callers of a failing command run it once" {
	job_script 4
	mkfifo "$TMP/go"
	local i rc
	"$KL" run --memo 1m --memo-failures 1m job -- "$TMP/job.sh" >"$TMP/out.0" 2>/dev/null 3>&- &
	echo $! >"$TMP/w0.pid"
	wait_for_file "$TMP/up"
	for i in $(seq 1 19); do
		on_machine "$i" "$KL" run --memo 1m --memo-failures 1m job -- "$TMP/job.sh" \
		    >"$TMP/out.$i" 2>/dev/null 3>&- &
		echo $! >"$TMP/w$i.pid"
	done
	wait_waiting 19 job
	echo >"$TMP/go"
	wait_callers 19 4 out
	assert_equal "$(runs)" 1
	assert_equal "$(cached job)" 1
	no_temps
}

@test "--memo-failures: a run killed by a signal or that cannot start is not stored" {
	run "$KL" run --memo 1m --memo-failures 1m k sh -c 'echo run >>"$0/runs"; kill -9 $$' "$TMP"
	assert_failure 137
	run "$KL" run --memo 1m --memo-failures 1m k sh -c 'echo run >>"$0/runs"; kill -9 $$' "$TMP"
	assert_failure 137
	assert_equal "$(runs)" 2
	run -127 "$KL" run --memo 1m --memo-failures 1m k "$TMP/no-such-command"
	assert_equal "$(cached k)" 0
	run --separate-stderr "$KL" run --memo 1m --memo-failures soon k true
	assert_equal "$status" 64
	[[ $stderr == *"'soon'"* ]] || fail "stderr: $stderr"
	assert_equal "${#stderr_lines[@]}" 1
	run "$KL" run --memo 1m --memo-failures 0 k true
	assert_equal "$status" 64
	assert_equal "$(cached k)" 0
}

# --- --memo-refresh ---

@test "--memo-refresh: runs now and replaces a fresh entry" {
	local first second
	first=$("$KL" run --memo 1h k "$TMP/work" x)
	second=$("$KL" run --memo 1h --memo-refresh k "$TMP/work" x)
	assert_equal "$(runs)" 2
	[ "$first" != "$second" ] || fail "not run again"
	assert_equal "$("$KL" run --memo 1h k "$TMP/work" x)" "$second"
	assert_equal "$(runs)" 2
	assert_equal "$(cached k)" 1
	# It takes the lock like any run: -n gives up while KEY is held.
	mkfifo "$TMP/release"
	"$KL" run k bash -c ': >"$1/held"; exec 4<>"$1/release"; read -t 10 x <&4' \
	    x "$TMP" 3>&- &
	echo $! >"$TMP/holder.pid"
	wait_for_file "$TMP/held"
	run "$KL" run -n --memo 1h --memo-refresh k "$TMP/work" x
	assert_failure 75
	echo >"$TMP/release"
	wait "$(cat "$TMP/holder.pid")"
	assert_equal "$(runs)" 2
}

@test "--memo-refresh while a run is in progress takes that run's result" {
	job_script 0
	mkfifo "$TMP/go"
	"$KL" run --memo 1m job -- "$TMP/job.sh" >"$TMP/out.0" 2>/dev/null 3>&- &
	echo $! >"$TMP/w0.pid"
	wait_for_file "$TMP/up"
	on_machine 1 "$KL" run --memo 1m --memo-refresh job -- "$TMP/job.sh" \
	    >"$TMP/out.1" 2>/dev/null 3>&- &
	echo $! >"$TMP/w1.pid"
	wait_waiting 1 job
	echo >"$TMP/go"
	wait "$(cat "$TMP/w0.pid")"
	wait "$(cat "$TMP/w1.pid")"
	assert_equal "$(cat "$TMP/out.1")" out
	assert_equal "$(runs)" 1
	[ ! -e "$TMP/overlap" ] || fail "runs overlapped"
}

# --- KEYLOCK_MEMO_TTL_FILE ---

@test "KEYLOCK_MEMO_TTL_FILE: a private file, removed afterwards" {
	run --separate-stderr "$KL" run --memo 1m k sh -c \
	    'echo "$KEYLOCK_MEMO_TTL_FILE"; stat -c %a "$KEYLOCK_MEMO_TTL_FILE"'
	assert_success
	assert_line --index 1 600
	[ ! -e "${lines[0]}" ] || fail "${lines[0]} left behind"
	# Under TMPDIR.
	mkdir "$TMP/t"
	run env TMPDIR="$TMP/t" "$KL" run --memo 1m k2 sh -c 'echo "$KEYLOCK_MEMO_TTL_FILE"'
	[[ $output == "$TMP/t/"* ]] || fail "output: $output"
	assert_equal "$(ls -A "$TMP/t")" ""
}

@test "KEYLOCK_MEMO_TTL_FILE: a longer TTL outlives --memo for every reader" {
	local cmd='echo run >>"$0/runs"; echo out; echo 1h >"$KEYLOCK_MEMO_TTL_FILE"'
	"$KL" run --memo 200ms k sh -c "$cmd" "$TMP" >/dev/null
	run "$KL" status --json k
	local ttl
	ttl=$(jq '.memo[0].ttl_ms' <<<"$output")
	[ "$ttl" -gt 3500000 ] || fail "ttl_ms $ttl"
	sleep 0.3
	run "$KL" run --memo 200ms k sh -c "$cmd" "$TMP"
	assert_success
	assert_output out
	assert_equal "$(runs)" 1
	# --memo-refresh still replaces it.
	run "$KL" run --memo 200ms --memo-refresh k sh -c "$cmd" "$TMP"
	assert_equal "$(runs)" 2
}

@test "KEYLOCK_MEMO_TTL_FILE: a shorter TTL, and 0 stores nothing" {
	local cmd='echo run >>"$0/runs"; echo out; printf "$1" >"$KEYLOCK_MEMO_TTL_FILE"'
	# 1s: status must find the entry still there, under the sanitizers
	# too.
	"$KL" run --memo 1h k sh -c "$cmd" "$TMP" 1s >/dev/null
	run "$KL" status --json k
	local ttl
	ttl=$(jq '.memo[0].ttl_ms' <<<"$output")
	[ "$ttl" -le 1000 ] || fail "ttl_ms $ttl"
	sleep 1.1
	"$KL" run --memo 1h k sh -c "$cmd" "$TMP" 0 >/dev/null
	assert_equal "$(runs)" 2
	assert_equal "$(cached k)" 0
	run "$KL" run --memo 1h k sh -c "$cmd" "$TMP" '0\n'
	assert_success
	assert_output out
	assert_equal "$(runs)" 3
	assert_equal "$(cached k)" 0
	no_temps
}

@test "KEYLOCK_MEMO_TTL_FILE: what is no duration is warned about, --memo TTL kept" {
	run --separate-stderr "$KL" run --memo 1h k sh -c \
	    'echo out; echo soon >"$KEYLOCK_MEMO_TTL_FILE"'
	assert_success
	assert_output out
	[[ $stderr == *"KEYLOCK_MEMO_TTL_FILE: not a duration: 'soon'"* ]] ||
	    fail "stderr: $stderr"
	assert_equal "${#stderr_lines[@]}" 1
	run "$KL" status --json k
	local ttl
	ttl=$(jq '.memo[0].ttl_ms' <<<"$output")
	[ "$ttl" -gt 3500000 ] || fail "ttl_ms $ttl"
}

# --- status and forget of grown-up entries ---

@test "status shows each entry's exit status, stderr and whose TTL; forget drops all" {
	"$KL" run --memo 1m k printf 12345 >/dev/null
	"$KL" run --memo 1m --memo-stderr k sh -c 'printf ab; printf cde >&2' >/dev/null 2>&1
	run "$KL" run --memo 1m --memo-failures 30s k sh -c 'printf x; exit 9'
	assert_failure 9
	"$KL" run --memo 1m k sh -c 'printf yy; echo 2h >"$KEYLOCK_MEMO_TTL_FILE"' >/dev/null
	run --separate-stderr "$KL" status --json k
	assert_failure 1
	assert_equal "$(jq -c '[.memo[] | [.size, .stderr, .stderr_size, .exit_status, .own_ttl]] | sort' <<<"$output")" \
	    '[[1,false,0,9,false],[2,false,0,0,true],[5,false,0,0,false],[5,true,3,0,false]]'
	run --separate-stderr "$KL" status k
	assert_failure 1
	assert_equal "${#lines[@]}" 5
	assert_line --regexp '^  cached [0-9a-f]{12}: 5 bytes, stored [0-9.]+m?s ago, [0-9.ms]+ left$'
	assert_line --regexp '^  cached [0-9a-f]{12}: 5 bytes, stored .* left, 3 of them stderr$'
	assert_line --regexp '^  cached [0-9a-f]{12}: 1 bytes, stored .* left, exit 9$'
	assert_line --regexp '^  cached [0-9a-f]{12}: 2 bytes, stored .* (1h59m|2h00m|2h) left, TTL chosen by the command$'
	run "$KL" forget k
	assert_success
	assert_equal "$(cached k)" 0
	no_temps
}

# --- --memo-stale ---

# Writes $TMP/slow: logs its run to $TMP/runs and prints "result N" for
# the Nth run; waits on the fifo $TMP/go if there is one (touching
# $TMP/up first); fails (exit 1, no output) while $TMP/fail exists.
slow_script() {
	cat >"$TMP/slow" <<EOF
#!/bin/bash
echo run >>"$TMP/runs"
n=\$(wc -l <"$TMP/runs")
if [ -p "$TMP/go" ]; then
	touch "$TMP/up"
	exec 4<>"$TMP/go"
	read -t 10 x <&4
fi
[ -e "$TMP/fail" ] && exit 1
echo "result \$n"
EOF
	chmod +x "$TMP/slow"
}

# Waits (bounded, 10 s) until no keylock of this test runs any more
# (background refreshes included).
wait_refreshers() {
	local p busy
	for _ in $(seq 1 200); do
		busy=
		for p in $(pgrep -x keylock); do
			tr '\0' '\n' </proc/$p/environ 2>/dev/null |
			    grep -qxF "XDG_CACHE_HOME=$XDG_CACHE_HOME" && busy=1
		done
		[ -z "$busy" ] && return 0
		sleep 0.05
	done
	echo "keylock processes still running" >&2
	return 1
}

# Runs the stale-capable caller of the slow script.
stale_call() {
	"$KL" run --memo 200ms --memo-stale 1m "$@" k "$TMP/slow"
}

@test "--memo-stale: a stale hit prints at once; one background refresh replaces it" {
	slow_script
	assert_equal "$(stale_call)" "result 1"
	sleep 0.3	# the entry ages past its TTL
	mkfifo "$TMP/go"
	# Returns, output and all, while the refresh is still blocked.
	run --separate-stderr stale_call -v
	assert_success
	assert_output "result 1"
	[[ $stderr == *"stale; refreshing in the background"* ]] || fail "stderr: $stderr"
	wait_for_file "$TMP/up"
	# status shows the refresh: it holds the key.
	run "$KL" status --json k
	assert_equal "$(jq .held <<<"$output")" true
	echo >"$TMP/go"
	rm "$TMP/go"	# a later refresh (of an entry read late) runs through
	wait_refreshers
	assert_equal "$(runs)" 2
	# The refreshed entry is there.  It lives 200ms (its storer's TTL):
	# a loaded machine can read it past that, as a stale hit that starts
	# one more refresh, so the run count is not asserted again here.
	assert_equal "$(stale_call)" "result 2"
	wait_refreshers
	no_temps
}

@test "--memo-stale: 10 concurrent stale hits start exactly one refresh" {
	slow_script
	stale_call >/dev/null
	sleep 0.3
	mkfifo "$TMP/go"
	local i
	for i in $(seq 1 10); do
		stale_call >"$TMP/out.$i" 3>&- &
		echo $! >"$TMP/s$i.pid"
	done
	for i in $(seq 1 10); do
		wait "$(cat "$TMP/s$i.pid")" || fail "caller $i failed"
		assert_equal "$(cat "$TMP/out.$i")" "result 1"
	done
	wait_for_file "$TMP/up"
	echo >"$TMP/go"
	rm "$TMP/go"	# a later refresh (of an entry read late) runs through
	wait_refreshers
	assert_equal "$(runs)" 2
	assert_equal "$(stale_call)" "result 2"
}

@test "--memo-stale: a failed refresh keeps the stale entry; past TTL + DURATION it is a miss" {
	slow_script
	# A window of an hour: however slow the machine, each call below is
	# a stale hit.
	"$KL" run --memo 200ms --memo-stale 1h k "$TMP/slow" >/dev/null
	sleep 0.3
	touch "$TMP/fail"
	run "$KL" run --memo 200ms --memo-stale 1h k "$TMP/slow"
	assert_success
	assert_output "result 1"
	wait_refreshers
	assert_equal "$(runs)" 2
	run "$KL" run --memo 200ms --memo-stale 1h k "$TMP/slow"
	assert_success
	assert_output "result 1"
	wait_refreshers
	assert_equal "$(runs)" 3
	# Past TTL + --memo-stale: a miss, run in the foreground.  A slow
	# machine only makes the entry older.
	rm "$TMP/fail"
	sleep 0.8
	run "$KL" run --memo 200ms --memo-stale 500ms k "$TMP/slow"
	assert_success
	assert_output "result 4"
	# Without --memo-stale a stale entry is a miss.
	sleep 0.3
	run "$KL" run --memo 200ms k "$TMP/slow"
	assert_output "result 5"
}

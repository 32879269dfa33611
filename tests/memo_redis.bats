#!/usr/bin/env bats
# --memo over Redis: hit, miss and expiry, failures, separate entries per
# argv, stderr, a cold stampede of many "machines", status, the size cap,
# a closed output pipe, temp keys, flat memory and usage errors, against
# one real redis-server.  (The shared cache seen from a second machine,
# binary output and forget are in redis.bats.)

bats_require_minimum_version 1.5.0
load helper
load redis_suite

# Runs keylock over the test server with --memo and the rest of "$@".
kmemo() {
	"$KEYLOCK" run --redis "$REDIS_URL" "$@"
}

# Prints the stored entries (data keys) of key $1, one a line, sorted;
# fails if the server cannot be asked, so that "no entry" is never an
# unreachable server.
memo_entries() {
	local keys
	keys=$(rcli --scan --pattern "keylock:{$1}:memo:*") || return 1
	printf '%s' "$keys" | grep -v -e ':meta$' -e ':tmp:' | sort
}

# Fails when any capture temp key is left in the server.
no_tmp_keys() {
	local left
	left=$(rcli --scan --pattern '*:tmp:*') || return 1
	if [ -n "$left" ]; then
		echo "temp keys left: $left" >&2
		return 1
	fi
}

# Writes $TMP/job.sh: logs each run to $TMP/runs, records an overlap in
# $TMP/overlap if another run is active at the same time, waits for
# $TMP/go on the first run if that fifo exists, prints "out" on stdout
# and "err" on stderr, and exits $1.
job_script() {
	cat > "$TMP/job.sh" <<EOF
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

# Number of runs logged in $TMP/runs.
runs() {
	if [ -e "$TMP/runs" ]; then wc -l < "$TMP/runs"; else echo 0; fi
}

@test "miss runs and stores, hit prints the same bytes without running" {
	job_script 0
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 1 ]
	# One entry: data and meta, both expiring within the memo TTL.
	run memo_entries job
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	local data=${lines[0]} pttl
	pttl=$(rcli PTTL "$data")
	[ "$pttl" -gt 50000 ] || fail "data PTTL $pttl"
	[ "$pttl" -le 60000 ] || fail "data PTTL $pttl"
	pttl=$(rcli PTTL "$data:meta")
	[ "$pttl" -gt 50000 ] || fail "meta PTTL $pttl"
	[ "$pttl" -le 60000 ] || fail "meta PTTL $pttl"
	[ "$(rcli GET "$data")" = out ]
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 1 ]
	# A hit takes no lock: the fence did not move.
	[ "$(rcli GET 'keylock:{job}:fence')" = 1 ]
	run --separate-stderr kmemo -v --memo 1m job -- "$TMP/job.sh"
	assert_success
	[[ $stderr == *"served from the cache"* ]]
	no_tmp_keys
}

@test "an empty output is cached too" {
	run kmemo --memo 1m job -- sh -c 'echo x >> "$0"' "$TMP/runs"
	assert_success
	assert_output ''
	run kmemo --memo 1m job -- sh -c 'echo x >> "$0"' "$TMP/runs"
	assert_success
	assert_output ''
	[ "$(runs)" -eq 1 ]
	no_tmp_keys
}

@test "a fresh entry is served without waiting for a held lock" {
	job_script 0
	kmemo --memo 1m job -- "$TMP/job.sh" >/dev/null 2>&1
	# Someone else holds KEY now (any command).
	mkfifo "$TMP/hold.go"
	"$KEYLOCK" run --redis "$REDIS_URL" job -- \
	    sh -c 'touch "$0.up"; read x < "$0.go"' "$TMP/hold" 3>&- &
	echo $! > "$TMP/hold.pid"
	wait_for_file "$TMP/hold.up"
	run --separate-stderr kmemo -n --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 1 ]
	# A miss (other argv) must wait: -n and -w turn that into 75.
	run kmemo -n --memo 1m job -- "$TMP/job.sh" other
	assert_failure 75
	run kmemo -w 200ms --memo 1m job -- "$TMP/job.sh" other
	assert_failure 75
	[ "$(runs)" -eq 1 ]
	echo > "$TMP/hold.go"
}

@test "an entry older than the memo TTL is not served" {
	job_script 0
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	[ "$(runs)" -eq 1 ]
	local data
	data=$(memo_entries job)
	[ -n "$data" ]
	# Still in Redis, but older than this caller's TTL: a miss.
	sleep 0.4
	run --separate-stderr kmemo --memo 300ms job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 2 ]
	# That run stored it for 300 ms: Redis expires data and meta.
	for _ in $(seq 1 40); do
		[ "$(rcli EXISTS "$data" "$data:meta")" = 0 ] && break
		sleep 0.05
	done
	[ "$(rcli EXISTS "$data" "$data:meta")" = 0 ]
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 3 ]
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 3 ]
	no_tmp_keys
}

@test "a waiter accepts the result it waited for; age counts from the store" {
	job_script 0
	mkfifo "$TMP/go"
	"$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- "$TMP/job.sh" \
	    > "$TMP/first" 2>/dev/null 3>&- &
	echo $! > "$TMP/first.pid"
	wait_for_file "$TMP/up"
	"$KEYLOCK" run --redis "$REDIS_URL" -v --memo 300ms job -- \
	    "$TMP/job.sh" > "$TMP/second" 2> "$TMP/second.err" 3>&- &
	echo $! > "$TMP/second.pid"
	wait_subscribers 1 job
	# The waiter wakes up only when the result is older than its TTL.
	kill -STOP "$(cat "$TMP/second.pid")"
	sleep 0.3
	local t_go
	t_go=$(date +%s%3N)
	echo > "$TMP/go"
	wait "$(cat "$TMP/first.pid")"
	sleep 0.4
	kill -CONT "$(cat "$TMP/second.pid")"
	wait "$(cat "$TMP/second.pid")"
	[ "$(cat "$TMP/first")" = out ]
	[ "$(cat "$TMP/second")" = out ]
	[ "$(runs)" -eq 1 ]
	# The waiting line names who is producing the result.
	local first
	first=$(cat "$TMP/first.pid")
	grep -q "waiting for job: .*$first.* is producing the result" \
	    "$TMP/second.err"
	# Its age counts from the store (after go), not from the run's start
	# (at least 300 ms before go).
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	local age
	age=$(printf '%s' "$output" | python3 -c \
	    'import json, sys; print(json.load(sys.stdin)["memo"][0]["age_ms"])')
	[ "$age" -ge 400 ]
	[ "$age" -le $(( $(date +%s%3N) - t_go + 20 )) ]
}

@test "a failing run stores nothing and its waiters take turns" {
	job_script 3
	mkfifo "$TMP/go"
	local i pids=()
	"$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- "$TMP/job.sh" \
	    > "$TMP/out.0" 2>/dev/null 3>&- &
	pids+=($!)
	echo $! > "$TMP/w0.pid"
	wait_for_file "$TMP/up"
	# The capture lives in a temp key while the command runs.
	run rcli --scan --pattern 'keylock:{job}:memo:*:tmp:*'
	[ "${#lines[@]}" -eq 1 ]
	for i in 1 2 3 4; do
		KEYLOCK_DIR="$TMP/m$i" "$KEYLOCK" run --redis "$REDIS_URL" \
		    --memo 1m job -- "$TMP/job.sh" > "$TMP/out.$i" 2>/dev/null \
		    3>&- &
		pids+=($!)
		echo $! > "$TMP/w$i.pid"
	done
	wait_subscribers 4 job
	echo > "$TMP/go"
	local rc
	for i in 0 1 2 3 4; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ "$rc" -eq 3 ]
		[ "$(cat "$TMP/out.$i")" = out ]
	done
	# Everyone ran the command (nothing was stored), one at a time.
	[ "$(runs)" -eq 5 ]
	[ ! -e "$TMP/overlap" ]
	run memo_entries job
	assert_success
	assert_output ''
	no_tmp_keys
	# The next caller runs it again.
	run kmemo --memo 1m job -- "$TMP/job.sh"
	assert_failure 3
	[ "$(runs)" -eq 6 ]
}

@test "a failing run with a large output leaves no temp key" {
	run kmemo --memo 1m job -- sh -c 'seq 1 100000; exit 3'
	assert_failure 3
	[ "${#lines[@]}" -eq 100000 ]
	run rcli --scan --pattern 'keylock:{job}:*'
	assert_output 'keylock:{job}:fence'
}

@test "a failing run whose connection was cut leaves no temp key" {
	kmemo --memo 1m job -- sh -c 'head -c 100000 /dev/zero; : >"$1/up"
	    while [ ! -e "$1/go" ]; do sleep 0.02; done; exit 3' x "$TMP" \
	    >/dev/null 2>&1 &
	local pid=$!
	wait_for_file "$TMP/up"
	rcli CLIENT KILL TYPE normal >/dev/null
	touch "$TMP/go"
	local st=0
	wait "$pid" || st=$?
	assert_equal "$st" 3
	no_tmp_keys
}

@test "--memo-max: the temp key goes once the output passes the cap" {
	kmemo --memo 1m --memo-max 1K job -- sh -c 'head -c 100000 /dev/zero
	    : >"$1/up"; while [ ! -e "$1/go" ]; do sleep 0.02; done' x "$TMP" \
	    >/dev/null 2>&1 &
	local pid=$! left
	wait_for_file "$TMP/up"
	for _ in $(seq 1 100); do
		left=$(rcli --scan --pattern '*:tmp:*')
		[ -z "$left" ] && break
		sleep 0.05
	done
	kill -0 "$pid"		# the command still runs
	[ -z "$left" ]
	touch "$TMP/go"
	wait "$pid"
}

@test "a run stopped by a signal stores nothing and leaves no temp key" {
	"$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- \
	    sh -c 'seq 1 100000; touch "$0"; exec sleep 30' "$TMP/up" \
	    > "$TMP/out" 2>/dev/null 3>&- &
	local pid=$!
	echo $pid > "$TMP/k.pid"
	wait_for_file "$TMP/up"
	run rcli --scan --pattern 'keylock:{job}:memo:*:tmp:*'
	[ "${#lines[@]}" -eq 1 ]
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	run rcli --scan --pattern 'keylock:{job}:*'
	assert_output 'keylock:{job}:fence'
}

@test "a different argv is a different entry under the same lock" {
	run kmemo --memo 1m job -- echo a
	assert_output a
	run kmemo --memo 1m job -- echo b
	assert_output b
	# Arguments are length-prefixed: "ab" "c" is not "a" "bc".
	run kmemo --memo 1m job -- echo ab c
	assert_output 'ab c'
	run kmemo --memo 1m job -- echo a bc
	assert_output 'a bc'
	# So is another namespace.
	run kmemo -N ci --memo 1m job -- echo a
	assert_output a
	run rcli --scan --pattern 'ci:{job}:memo:*'
	[ "${#lines[@]}" -eq 2 ]
	# Another KEY with the same command is another entry too.
	run kmemo --memo 1m other -- echo a
	assert_output a
	run memo_entries job
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	run memo_entries other
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	# Each is served to its own command.
	run kmemo --memo 1m job -- echo ab c
	assert_output 'ab c'
	run kmemo --memo 1m job -- echo a bc
	assert_output 'a bc'
	run kmemo --memo 1m job -- echo b
	assert_output b
	# All five runs took KEY's lock (fences 1-4 on job, 1 on other).
	[ "$(rcli GET 'keylock:{job}:fence')" = 4 ]
	[ "$(rcli GET 'keylock:{other}:fence')" = 1 ]
	no_tmp_keys
}

@test "stderr passes through on a miss and is not cached" {
	run --separate-stderr kmemo --memo 1m job -- \
	    sh -c 'echo out; echo err >&2'
	assert_success
	assert_output out
	[ "$stderr" = err ]
	run --separate-stderr kmemo --memo 1m job -- \
	    sh -c 'echo out; echo err >&2'
	assert_success
	assert_output out
	[ -z "$stderr" ]
	[ "$(rcli GET "$(memo_entries job)")" = out ]
}

@test "cold stampede: 30 machines, the command runs once, same bytes" {
	local i pids=()
	seq 1 100000 > "$TMP/expect"
	for i in $(seq 1 30); do
		KEYLOCK_DIR="$TMP/m$i/locks" XDG_CACHE_HOME="$TMP/m$i/cache" \
		    "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m storm -- sh -c '
			echo x >> "$0/runs"
			# Hold on until all other callers are waiting.
			i=0
			while [ $i -lt 200 ]; do
				n=$(redis-cli -s "$1" PUBSUB NUMSUB \
				    "keylock:{storm}:ch" | tail -1)
				[ "$n" -ge 29 ] && break
				sleep 0.05
				i=$((i + 1))
			done
			echo "$n" > "$0/waiting"
			seq 1 100000' "$TMP" "$REDIS_SOCK" \
		    > "$TMP/out.$i" 2> "$TMP/err.$i" 3>&- &
		pids+=($!)
		echo $! > "$TMP/c$i.pid"
	done
	local rc fails=0
	for i in $(seq 1 30); do
		rc=0
		wait "${pids[$((i - 1))]}" || rc=$?
		[ "$rc" -eq 0 ] || fails=$((fails + 1))
	done
	[ "$fails" -eq 0 ]
	[ "$(runs)" -eq 1 ]
	# It really was a stampede: the 29 others waited while it ran.
	[ "$(cat "$TMP/waiting")" -ge 29 ]
	for i in $(seq 1 30); do
		cmp "$TMP/expect" "$TMP/out.$i"
	done
	run memo_entries storm
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	no_tmp_keys
}

@test "status shows the cached entries: age, size, TTL left" {
	run kmemo --memo 1m job -- printf 12345
	assert_success
	run kmemo --memo 2m job -- printf abcdefghij
	assert_success
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_failure 1
	assert_line --index 0 'job: free'
	local entry='^  cached [0-9a-f]{12}: %s bytes, stored .+ ago, .+ left$'
	assert_line --regexp "$(printf "$entry" 5)"
	assert_line --regexp "$(printf "$entry" 10)"
	[ "${#lines[@]}" -eq 3 ]
	run "$KEYLOCK" status --redis "$REDIS_URL" --json job
	assert_failure 1
	printf '%s' "$output" > "$TMP/status.json"
	python3 - "$TMP/status.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["backend"] == "redis" and s["held"] is False, s
m = sorted(s["memo"], key=lambda e: e["size"])
assert [e["size"] for e in m] == [5, 10], m
for e, ttl in zip(m, (60000, 120000)):
    assert len(e["digest"]) == 64, e
    assert 0 <= e["age_ms"] < 10000, e
    assert ttl - 10000 < e["ttl_ms"] <= ttl, e
EOF
	# Another key's entries are not listed.
	run "$KEYLOCK" status --redis "$REDIS_URL" --json other
	assert_failure 1
	assert_output --regexp '"memo": *\[\]'
}

@test "status shows cached entries while the key is held" {
	job_script 0
	run kmemo --memo 1m job -- echo cached
	mkfifo "$TMP/go"
	"$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- "$TMP/job.sh" \
	    >/dev/null 2>&1 3>&- &
	echo $! > "$TMP/k.pid"
	wait_for_file "$TMP/up"
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	assert_success
	assert_line --index 0 --partial 'job: held by'
	# The capture in progress is not an entry.
	[ "$(printf '%s\n' "$output" | grep -c 'cached')" -eq 1 ]
	assert_output --partial ': 7 bytes'
	echo > "$TMP/go"
	wait "$(cat "$TMP/k.pid")"
	run "$KEYLOCK" status --redis "$REDIS_URL" job
	[ "$(printf '%s\n' "$output" | grep -c 'cached')" -eq 2 ]
}

@test "--memo-max: a bigger output passes through, not stored, one warning" {
	seq 1 50000 > "$TMP/expect"
	run --separate-stderr kmemo -v --memo 1m --memo-max 100K job -- \
	    seq 1 50000
	assert_success
	printf '%s\n' "$output" | cmp - "$TMP/expect"
	[ "$(printf '%s\n' "$stderr" | grep -c 'memo-max')" -eq 1 ]
	run memo_entries job
	assert_success
	assert_output ''
	no_tmp_keys
	# Not cached: the next call runs it again (and says nothing without -v).
	run --separate-stderr kmemo --memo 1m --memo-max 100K job -- \
	    sh -c 'seq 1 50000; echo x >> "$0"' "$TMP/runs"
	assert_success
	[ -z "$stderr" ]
	run --separate-stderr kmemo --memo 1m --memo-max 100K job -- \
	    sh -c 'seq 1 50000; echo x >> "$0"' "$TMP/runs"
	[ "$(runs)" -eq 2 ]
	no_tmp_keys
}

@test "--memo-max: an output of exactly the cap is stored" {
	run kmemo --memo 1m --memo-max 1K job -- head -c 1024 /dev/zero
	assert_success
	run memo_entries job
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	[ "$(rcli STRLEN "${lines[0]}")" -eq 1024 ]
	run kmemo --memo 1m --memo-max 1K job -- head -c 1025 /dev/zero
	assert_success
	run memo_entries job
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	no_tmp_keys
}

@test "| head -1 on a miss: ends like the command would, nothing stored" {
	local st
	st=$(set +o pipefail; kmemo --memo 1m job -- yes 2>"$TMP/err" |
	    head -1; echo "${PIPESTATUS[0]}")
	[ "$st" = "y
141" ]
	run memo_entries job
	assert_success
	assert_output ''
	no_tmp_keys
	# Released: the next caller runs at once.
	run kmemo -n --memo 1m job -- echo fresh
	assert_success
	assert_output fresh
}

@test "| head -1: a command that exits 0 on EPIPE stores nothing either" {
	local st
	st=$(set +o pipefail; kmemo --memo 1m job -- bash -c \
	    'trap "" PIPE; while echo y 2>/dev/null; do :; done; exit 0' |
	    head -1; echo "${PIPESTATUS[0]}")
	[ "$st" = "y
0" ]
	run memo_entries job
	assert_success
	assert_output ''
	no_tmp_keys
}

@test "| head -1 on a hit: SIGPIPE, and the entry stays whole" {
	seq 1 200000 > "$TMP/expect"
	run kmemo --memo 1m job -- seq 1 200000
	assert_success
	local data size st
	data=$(memo_entries job)
	size=$(rcli STRLEN "$data")
	[ "$size" -eq "$(stat -c %s "$TMP/expect")" ]
	st=$(set +o pipefail; kmemo --memo 1m job -- seq 1 200000 \
	    2>"$TMP/err" | head -1; echo "${PIPESTATUS[0]}")
	[ "$st" = "1
141" ]
	[ "$(rcli STRLEN "$data")" -eq "$size" ]
	kmemo --memo 1m job -- seq 1 200000 > "$TMP/hit"
	cmp "$TMP/expect" "$TMP/hit"
}

@test "| head -1 on a waiter: SIGPIPE, and the lock is released" {
	mkfifo "$TMP/p.go"
	"$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job -- \
	    sh -c 'touch "$0.up"; read x < "$0.go"; seq 1 500000' "$TMP/p" \
	    > /dev/null 2>&1 3>&- &
	echo $! > "$TMP/p.pid"
	wait_for_file "$TMP/p.up"
	# The waiter's reader goes away after one line of the result.
	(set +o pipefail; "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m job \
	    -- sh -c 'touch "$0.up"; read x < "$0.go"; seq 1 500000' "$TMP/p" \
	    2>/dev/null | head -1 > "$TMP/w.out"
	    echo "${PIPESTATUS[0]}" > "$TMP/w.st") 3>&- &
	echo $! > "$TMP/w.pid"
	wait_subscribers 1 job
	echo > "$TMP/p.go"
	wait "$(cat "$TMP/p.pid")"
	wait "$(cat "$TMP/w.pid")"
	[ "$(cat "$TMP/w.out")" = 1 ]
	[ "$(cat "$TMP/w.st")" = 141 ]
	# The waiter took the lock to read the result; it must not keep it
	# until the lease runs out.
	run rcli EXISTS 'keylock:{job}:lock'
	assert_output 0
	run kmemo -n job -- echo next
	assert_success
	assert_output next
}

@test "a tampered entry is never served" {
	job_script 0
	run kmemo --memo 1m job -- "$TMP/job.sh"
	local data
	data=$(memo_entries job)
	# Data grown behind keylock's back: size mismatch, a miss.
	rcli APPEND "$data" junk >/dev/null
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_success
	assert_output out
	[ "$(runs)" -eq 2 ]
	# Meta gone: a miss too.
	rcli DEL "$data:meta" >/dev/null
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 3 ]
	run --separate-stderr kmemo --memo 1m job -- "$TMP/job.sh"
	assert_output out
	[ "$(runs)" -eq 3 ]
	no_tmp_keys
}

@test "flat memory: 512 MB streamed past the cap, 50 MB stored and served" {
	# Sanitized builds: a small quarantine, or freed chunks stay resident.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1
	# The baseline: 1 MiB, stored.
	/usr/bin/time -f %M -o "$TMP/rss.small" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m small -- head -c 1M /dev/zero \
	    >/dev/null
	# Beyond --memo-max (default 64M): passed through, not stored.
	/usr/bin/time -f %M -o "$TMP/rss.big" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m big -- head -c 512M /dev/zero |
	    wc -c > "$TMP/n.big"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	[ "$(cat "$TMP/n.big")" -eq $((512 << 20)) ]
	run memo_entries big
	assert_success
	assert_output ''
	# Below the cap: stored, then served from Redis.
	/usr/bin/time -f %M -o "$TMP/rss.miss" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m mid -- head -c 50M /dev/zero |
	    wc -c > "$TMP/n.miss"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	/usr/bin/time -f %M -o "$TMP/rss.hit" "$KEYLOCK" run \
	    --redis "$REDIS_URL" --memo 1m mid -- head -c 50M /dev/zero |
	    wc -c > "$TMP/n.hit"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	[ "$(cat "$TMP/n.miss")" -eq $((50 << 20)) ]
	[ "$(cat "$TMP/n.hit")" -eq $((50 << 20)) ]
	[ "$(rcli STRLEN "$(memo_entries mid)")" -eq $((50 << 20)) ]
	local f small
	small=$(tail -1 "$TMP/rss.small")
	for f in big miss hit; do
		echo "peak RSS $f: $(tail -1 "$TMP/rss.$f") KiB," \
		    "$small KiB for 1 MiB" >&2
		[ "$(tail -1 "$TMP/rss.$f")" -lt $((small + 8192)) ]
		# Unsanitized builds start small; the whole run stays under 20 MB.
		if [ "$small" -lt 5000 ]; then
			[ "$(tail -1 "$TMP/rss.$f")" -lt 20480 ]
		fi
	done
	no_tmp_keys
}

@test "Redis unreachable with --memo: 69, the command not run" {
	local port
	port=$(free_port)
	run --separate-stderr "$KEYLOCK" run --redis "redis://127.0.0.1:$port" \
	    --memo 1m job -- touch "$TMP/ran"
	assert_failure 69
	[ ! -e "$TMP/ran" ]
	[[ $stderr == *"127.0.0.1:$port"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

@test "--memo 0, a bad duration or a bad --memo-max: 64, nothing run" {
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo 0 job -- touch "$TMP/ran"
	assert_failure 64
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo soon job -- \
	    touch "$TMP/ran"
	assert_failure 64
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo -5s job -- \
	    touch "$TMP/ran"
	assert_failure 64
	run "$KEYLOCK" run --redis "$REDIS_URL" --memo 1m --memo-max 12Q job \
	    -- touch "$TMP/ran"
	assert_failure 64
	[ ! -e "$TMP/ran" ]
	run rcli DBSIZE
	assert_output 0
}

#!/usr/bin/env bats
# run --memo with the local cache: hits and misses, expiry, failures not
# cached, identity by KEY and argv, binary output, a cold stampede that
# runs the command once, forget, status, the --memo-max cap, a reader
# that goes away, and flat memory on a large output.

load helper
bats_require_minimum_version 1.5.0

setup() {
	common_setup
	# A command that counts its runs in $TMP/runs and prints $1 and its
	# pid, so that two runs never print the same thing.
	cat >"$TMP/work" <<EOF
#!/bin/sh
echo run >>"$TMP/runs"
printf 'result of %s from %s\n' "\$1" "\$\$"
EOF
	chmod +x "$TMP/work"
}

teardown() { common_teardown; }

# How many times the command ran.
runs() {
	if [ -e "$TMP/runs" ]; then wc -l <"$TMP/runs"; else echo 0; fi
}

@test "a miss runs the command, a hit prints its stdout without running it" {
	run --separate-stderr "$KEYLOCK" run --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$stderr" ""
	local first=$output
	assert_output --regexp '^result of a from [0-9]+$'
	assert_equal "$(runs)" 1
	run --separate-stderr "$KEYLOCK" run --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" "$first"
	assert_equal "$(runs)" 1
}

@test "a hit does not wait for the lock" {
	"$KEYLOCK" run --memo 1m k "$TMP/work" a >"$TMP/first"
	"$KEYLOCK" run k sh -c ': >"$1/held"
	    while [ ! -e "$1/go" ]; do sleep 0.1; done' x "$TMP" 3>&- &
	echo $! >"$TMP/holder.pid"
	wait_for_file "$TMP/held"
	run --separate-stderr "$KEYLOCK" run -n --memo 1m k "$TMP/work" a
	assert_success
	assert_equal "$output" "$(cat "$TMP/first")"
	assert_equal "$(runs)" 1
	touch "$TMP/go"
	wait "$(cat "$TMP/holder.pid")"
}

@test "an entry expires after its TTL" {
	run "$KEYLOCK" run --memo 1s k "$TMP/work" a
	run "$KEYLOCK" run --memo 1s k "$TMP/work" a
	assert_equal "$(runs)" 1
	sleep 1.5
	run "$KEYLOCK" run --memo 1s k "$TMP/work" a
	assert_success
	assert_equal "$(runs)" 2
}

@test "age counts from when the result was stored, not when the run began" {
	run "$KEYLOCK" run --memo 1s k sh -c 'sleep 1.5; "$0" a' "$TMP/work"
	assert_success
	local first=$output
	assert_equal "$(runs)" 1
	run "$KEYLOCK" run --memo 1s k sh -c 'sleep 1.5; "$0" a' "$TMP/work"
	assert_equal "$output" "$first"
	assert_equal "$(runs)" 1
}

@test "a failing run exits with its status and stores nothing" {
	run --separate-stderr "$KEYLOCK" run --memo 1m k sh -c \
	    'echo partial; echo run >>"$0/runs"; exit 3' "$TMP"
	assert_failure 3
	assert_output partial
	run --separate-stderr "$KEYLOCK" run --memo 1m k sh -c \
	    'echo partial; echo run >>"$0/runs"; exit 3' "$TMP"
	assert_failure 3
	assert_equal "$(runs)" 2
	run "$KEYLOCK" status k
	refute_output --partial cached
}

@test "after a failure the waiters take turns, one run at a time" {
	local i st
	for i in $(seq 1 6); do
		"$KEYLOCK" run --memo 1m k sh -c '
		    mkdir "$0/running" || echo overlap >>"$0/overlaps"
		    echo run >>"$0/runs"
		    sleep 0.1
		    rmdir "$0/running"
		    exit 5' "$TMP" >/dev/null 2>&1 3>&- &
		echo $! >"$TMP/c$i.pid"
	done
	for i in $(seq 1 6); do
		st=0
		wait "$(cat "$TMP/c$i.pid")" || st=$?
		assert_equal "$st" 5
	done
	assert_equal "$(runs)" 6
	[ ! -e "$TMP/overlaps" ]
}

@test "a different argv is a different entry; the lock is still KEY's" {
	run "$KEYLOCK" run --memo 1m k "$TMP/work" a
	local a=$output
	run "$KEYLOCK" run --memo 1m k "$TMP/work" b
	local b=$output
	assert_equal "$(runs)" 2
	[ "$a" != "$b" ]
	# Argument boundaries count: "a b" is not "a" "b".
	run "$KEYLOCK" run --memo 1m k "$TMP/work" "a b"
	run "$KEYLOCK" run --memo 1m k "$TMP/work" a b
	assert_equal "$(runs)" 4
	# The same argv under another key is another entry.
	run "$KEYLOCK" run --memo 1m other "$TMP/work" a
	assert_equal "$(runs)" 5
	run "$KEYLOCK" run --memo 1m k "$TMP/work" a
	assert_equal "$output" "$a"
	run "$KEYLOCK" run --memo 1m k "$TMP/work" b
	assert_equal "$output" "$b"
	assert_equal "$(runs)" 5
}

@test "stderr passes through on a miss and is not cached" {
	run --separate-stderr "$KEYLOCK" run --memo 1m k sh -c \
	    'echo out; echo err >&2'
	assert_success
	assert_output out
	assert_equal "$stderr" err
	run --separate-stderr "$KEYLOCK" run --memo 1m k sh -c \
	    'echo out; echo err >&2'
	assert_success
	assert_output out
	assert_equal "$stderr" ""
}

@test "binary output with NUL bytes is byte-identical on miss and hit" {
	{
		printf 'a\0b\0\0\n\r\377'
		head -c 300000 /dev/urandom
		printf '\0no newline at the end'
	} >"$TMP/blob"
	"$KEYLOCK" run --memo 1m k cat "$TMP/blob" >"$TMP/miss"
	cmp "$TMP/blob" "$TMP/miss"
	"$KEYLOCK" run --memo 1m k cat "$TMP/blob" >"$TMP/hit"
	cmp "$TMP/blob" "$TMP/hit"
	# Through a pipe too (no sendfile to a file there).
	"$KEYLOCK" run --memo 1m k cat "$TMP/blob" | cat >"$TMP/hit2"
	assert_equal "${PIPESTATUS[*]}" "0 0"
	cmp "$TMP/blob" "$TMP/hit2"
	rm "$TMP/blob"
	"$KEYLOCK" run --memo 1m k cat "$TMP/blob" >"$TMP/hit3"
	cmp "$TMP/miss" "$TMP/hit3"
}

@test "an empty output is cached too" {
	run "$KEYLOCK" run --memo 1m k sh -c 'echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_output ""
	run "$KEYLOCK" run --memo 1m k sh -c 'echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_output ""
	assert_equal "$(runs)" 1
}

@test "a cold stampede of 30 callers runs the command once" {
	local i st
	for i in $(seq 1 30); do
		"$KEYLOCK" run --memo 1m k sh -c '
		    echo run >>"$0/runs"
		    sleep 1
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
	[ -s "$TMP/out.1" ]
	for i in $(seq 2 30); do
		cmp "$TMP/out.1" "$TMP/out.$i"
	done
}

@test "-n while another caller produces the result: 75; -v names the producer" {
	"$KEYLOCK" run --memo 1m k sh -c ': >"$1/started"
	    while [ ! -e "$1/go" ]; do sleep 0.1; done; echo done' \
	    x "$TMP" >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/producer.pid"
	wait_for_file "$TMP/started"
	run --separate-stderr "$KEYLOCK" run -n --memo 1m k sh -c 'echo mine'
	assert_failure 75
	assert_output ""
	run --separate-stderr "$KEYLOCK" run -v -w 0.3 --memo 1m k \
	    sh -c 'echo mine'
	assert_failure 75
	[[ "$stderr" == *"pid $(cat "$TMP/producer.pid")"*"producing"* ]] ||
	    fail "stderr: $stderr"
	touch "$TMP/go"
	wait "$(cat "$TMP/producer.pid")"
}

@test "forget drops every cached entry of the key, and only of it" {
	"$KEYLOCK" run --memo 1m k "$TMP/work" a >/dev/null
	"$KEYLOCK" run --memo 1m k "$TMP/work" b >/dev/null
	"$KEYLOCK" run --memo 1m other "$TMP/work" a >/dev/null
	assert_equal "$(runs)" 3
	run --separate-stderr "$KEYLOCK" forget k
	assert_success
	assert_output ""
	"$KEYLOCK" run --memo 1m k "$TMP/work" a >/dev/null
	"$KEYLOCK" run --memo 1m k "$TMP/work" b >/dev/null
	assert_equal "$(runs)" 5
	"$KEYLOCK" run --memo 1m other "$TMP/work" a >/dev/null
	assert_equal "$(runs)" 5
	run --separate-stderr "$KEYLOCK" forget -v k
	assert_success
	[[ "$stderr" == *2* ]] || fail "stderr: $stderr"
	run "$KEYLOCK" forget never-cached
	assert_success
}

@test "status shows the cached entries of the key" {
	run "$KEYLOCK" status k
	refute_output --partial cached
	"$KEYLOCK" run --memo 10m k printf 12345 >/dev/null
	"$KEYLOCK" run --memo 10m k printf 1234567890 >/dev/null
	run "$KEYLOCK" status k
	assert_failure 1
	assert_output --regexp 'cached [0-9a-f]+: 5 bytes, stored [0-9.]+m?s ago, (9m5[0-9]s|10m00s) left'
	assert_output --regexp 'cached [0-9a-f]+: 10 bytes'
	run "$KEYLOCK" status --json k
	assert_failure 1
	assert_output --regexp '"memo":\[\{"digest":"[0-9a-f]{64}","age_ms":[0-9]+,"size":(5|10),"ttl_ms":[0-9]+\},\{.*\}\]'
	if command -v jq >/dev/null; then
		assert_equal "$(jq -c '[.memo[].size] | sort' <<<"$output")" "[5,10]"
		[ "$(jq '.memo[0].ttl_ms' <<<"$output")" -le 600000 ]
		[ "$(jq '.memo[0].ttl_ms' <<<"$output")" -gt 590000 ]
	fi
	"$KEYLOCK" forget k
	run "$KEYLOCK" status k
	refute_output --partial cached
}

@test "--memo-max: a bigger output passes through whole and is not cached" {
	head -c 5000 /dev/urandom >"$TMP/blob"
	run --separate-stderr "$KEYLOCK" run --memo 1m --memo-max 4K k \
	    sh -c 'cat "$0/blob"; echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_equal "$stderr" ""
	"$KEYLOCK" run --memo 1m --memo-max 4K k \
	    sh -c 'cat "$0/blob"; echo run >>"$0/runs"' "$TMP" >"$TMP/out"
	cmp "$TMP/blob" "$TMP/out"
	assert_equal "$(runs)" 2
	run --separate-stderr "$KEYLOCK" run -v --memo 1m --memo-max 4K k \
	    sh -c 'cat "$0/blob"; echo run >>"$0/runs"' "$TMP"
	assert_success
	assert_equal "$(grep -c memo-max <<<"$stderr")" 1
	assert_equal "$(runs)" 3
	run "$KEYLOCK" status k
	refute_output --partial cached
}

@test "--memo-max: an output of exactly the cap is cached" {
	"$KEYLOCK" run --memo 1m --memo-max 1K k \
	    sh -c 'head -c 1024 /dev/zero; echo run >>"$0/runs"' "$TMP" >/dev/null
	"$KEYLOCK" run --memo 1m --memo-max 1K k \
	    sh -c 'head -c 1024 /dev/zero; echo run >>"$0/runs"' "$TMP" >"$TMP/out"
	assert_equal "$(runs)" 1
	assert_equal "$(wc -c <"$TMP/out")" 1024
}

@test "--memo 0, a bad TTL or a bad --memo-max: 64, nothing run" {
	for ttl in 0 0s 0ms abc -5 1x "" 1.5.5; do
		run --separate-stderr "$KEYLOCK" run --memo "$ttl" k "$TMP/work"
		assert_equal "$status" 64
		assert_output ""
		[[ "$stderr" == keylock:*"'$ttl'"* ]] || fail "stderr: $stderr"
	done
	for size in abc -1 1X 1T ""; do
		run --separate-stderr "$KEYLOCK" run --memo 1m --memo-max "$size" \
		    k "$TMP/work"
		assert_equal "$status" 64
		[[ "$stderr" == keylock:*"'$size'"* ]] || fail "stderr: $stderr"
	done
	assert_equal "$(runs)" 0
}

@test "a reader that goes away (| head -1) leaves no entry" {
	run bash -c 'set -o pipefail
	    "$1" run --memo 1m k sh -c "echo run >>\"$2/runs\"; seq 1 3000000" |
	    head -1' x "$KEYLOCK" "$TMP"
	assert_failure 141
	assert_output 1
	run "$KEYLOCK" status k
	refute_output --partial cached
	run bash -c 'set -o pipefail
	    "$1" run --memo 1m k sh -c "echo run >>\"$2/runs\"; seq 1 3000000" |
	    tail -1' x "$KEYLOCK" "$TMP"
	assert_success
	assert_output 3000000
	assert_equal "$(runs)" 2
	# A hit into a closed pipe ends like the command would: SIGPIPE.
	run bash -c 'set -o pipefail
	    "$1" run --memo 1m k sh -c "echo run >>\"$2/runs\"; seq 1 3000000" |
	    head -1' x "$KEYLOCK" "$TMP"
	assert_failure 141
	assert_output 1
	assert_equal "$(runs)" 2
}

@test "the cache directory is created 0700" {
	"$KEYLOCK" run --memo 1m k true
	run stat -c %a "$XDG_CACHE_HOME/keylock"
	assert_output 700
}

@test "an unsafe cache directory is refused, nothing run" {
	mkdir -p "$XDG_CACHE_HOME/keylock"
	chmod 777 "$XDG_CACHE_HOME/keylock"
	run --separate-stderr "$KEYLOCK" run --memo 1m k "$TMP/work" a
	assert_failure
	[[ "$stderr" == keylock:*"$XDG_CACHE_HOME/keylock"* ]] ||
	    fail "stderr: $stderr"
	assert_equal "$(runs)" 0
	rmdir "$XDG_CACHE_HOME/keylock"
	mkdir -m 700 "$TMP/elsewhere"
	ln -s "$TMP/elsewhere" "$XDG_CACHE_HOME/keylock"
	run --separate-stderr "$KEYLOCK" run --memo 1m k "$TMP/work" a
	assert_failure
	assert_equal "$(runs)" 0
	[ -z "$(ls -A "$TMP/elsewhere")" ]
}

# Peak RSS in kB of keylock running --memo on COMMAND... to /dev/null,
# read by the command from /proc/$PPID/status just before it ends.
peak_rss() {
	"$KEYLOCK" run --memo 1m "$@" >/dev/null 2>"$TMP/hwm" || return 1
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "$TMP/hwm"
}

@test "peak RSS stays flat while 1 GiB of output goes through --memo" {
	local small big
	small=$(peak_rss small sh -c \
	    'head -c 1M /dev/zero; cat /proc/$PPID/status >&2')
	big=$(peak_rss big sh -c \
	    'head -c 1G /dev/zero; cat /proc/$PPID/status >&2')
	[ -n "$small" ] && [ -n "$big" ] || fail "no VmHWM: $(cat "$TMP/hwm")"
	[ "$big" -lt $((small + 8192)) ] ||
	    fail "peak RSS ${big} kB for 1 GiB, ${small} kB for 1 MiB"
	# Unsanitized builds start small; the whole run stays under 20 MB.
	if [ "$small" -lt 5000 ]; then
		[ "$big" -lt 20000 ] || fail "peak RSS ${big} kB"
	fi
}

@test "peak RSS stays flat capturing 256 MiB into the cache and serving it" {
	local small big hit1 hit2
	small=$(peak_rss small sh -c \
	    'head -c 1M /dev/zero; cat /proc/$PPID/status >&2')
	big=$(peak_rss --memo-max 512M k sh -c \
	    'head -c 256M /dev/zero; cat /proc/$PPID/status >&2')
	[ -n "$small" ] && [ -n "$big" ] || fail "no VmHWM: $(cat "$TMP/hwm")"
	[ "$big" -lt $((small + 8192)) ] ||
	    fail "peak RSS ${big} kB capturing 256 MiB, ${small} kB for 1 MiB"
	run "$KEYLOCK" status --json k
	assert_output --partial '"size":268435456'
	# Serving it: compare with serving the 1 MiB entry.
	command -v /usr/bin/time >/dev/null || skip "/usr/bin/time not installed"
	/usr/bin/time -f %M -o "$TMP/rss1" "$KEYLOCK" run --memo 1m small \
	    sh -c 'head -c 1M /dev/zero; cat /proc/$PPID/status >&2' >/dev/null
	/usr/bin/time -f %M -o "$TMP/rss2" "$KEYLOCK" run --memo 1m \
	    --memo-max 512M k sh -c \
	    'head -c 256M /dev/zero; cat /proc/$PPID/status >&2' >"$TMP/hit"
	assert_equal "$(wc -c <"$TMP/hit")" 268435456
	hit1=$(tail -1 "$TMP/rss1")
	hit2=$(tail -1 "$TMP/rss2")
	[ "$hit2" -lt $((hit1 + 8192)) ] ||
	    fail "peak RSS ${hit2} kB serving 256 MiB, ${hit1} kB for 1 MiB"
}

@test "status and forget of a key never cached leave nothing behind for it" {
	run "$KEYLOCK" status never
	assert_failure 1
	run "$KEYLOCK" forget never
	assert_success
	[ ! -e "$XDG_CACHE_HOME/keylock/never" ]
}

@test "an output that cannot be written (full disk): 74, the reason, nothing stored" {
	run --separate-stderr sh -c \
	    '"$1" run --memo 1m k echo x >/dev/full' x "$KEYLOCK"
	assert_failure 74
	[[ "$stderr" == "keylock: k: cannot write the output: No space left on device" ]]
	run "$KEYLOCK" status --json k
	assert_output --partial '"memo":[]'
}

@test "an entry stamped in the future (the clock stepped back) is not served" {
	"$KEYLOCK" run --memo 1h k echo first >/dev/null
	local f
	f=$(ls "$XDG_CACHE_HOME/keylock/k/")
	# CREATED_MS is the second field of the header: make it a day ahead.
	printf '%020d' $(( ($(date +%s) + 86400) * 1000 )) |
	    dd of="$XDG_CACHE_HOME/keylock/k/$f" bs=1 seek=5 conv=notrunc \
	    2>/dev/null
	run "$KEYLOCK" run --memo 1h k echo first
	assert_output first
	run "$KEYLOCK" status --json k
	refute_output --partial '"age_ms":-'
}

@test "temp files of a killed run are swept by the next run and by forget" {
	mkdir -p "$XDG_CACHE_HOME/keylock/k"
	chmod 700 "$XDG_CACHE_HOME" "$XDG_CACHE_HOME/keylock" \
	    "$XDG_CACHE_HOME/keylock/k"
	: >"$XDG_CACHE_HOME/keylock/k/.0123~99999"
	"$KEYLOCK" run --memo 1m k echo hi >/dev/null
	[ ! -e "$XDG_CACHE_HOME/keylock/k/.0123~99999" ]
	: >"$XDG_CACHE_HOME/keylock/k/.4567~99999"
	run "$KEYLOCK" forget -v k
	assert_output 'keylock: k: dropped 1 cached result'
	run ls -A "$XDG_CACHE_HOME/keylock/k"
	assert_output ''
}

@test "a SIGTERM while a waiter prints the result to a stalled reader ends it" {
	local cmd='while [ ! -e "$1/go" ]; do sleep 0.02; done
	    head -c 1000000 /dev/zero'
	"$KEYLOCK" run --memo 1m big sh -c "$cmd" x "$TMP" >/dev/null 3>&- &
	echo $! >"$TMP/a.pid"
	wait_for_file "$KEYLOCK_DIR/big"
	# The waiter's reader does not read until told to.
	mkfifo "$TMP/out"
	"$KEYLOCK" run --memo 1m big sh -c "$cmd" x "$TMP" >"$TMP/out" 3>&- &
	echo $! >"$TMP/b.pid"
	exec 5<"$TMP/out"
	touch "$TMP/go"
	wait "$(cat "$TMP/a.pid")"
	# b took the lock and is writing the cached result into the pipe.
	for _ in $(seq 1 200); do
		[ "$(awk '/^wchar/ {print $2}' /proc/"$(cat "$TMP/b.pid")"/io)" \
		    -gt 0 ] && break
		sleep 0.05
	done
	[ "$(awk '/^wchar/ {print $2}' /proc/"$(cat "$TMP/b.pid")"/io)" -gt 0 ]
	kill -TERM "$(cat "$TMP/b.pid")"
	wait_gone "$(cat "$TMP/b.pid")"
	local st=0
	wait "$(cat "$TMP/b.pid")" || st=$?
	exec 5<&-
	assert_equal "$st" 143
	run "$KEYLOCK" status big
	assert_output --partial 'big: free'
}

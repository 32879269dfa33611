#!/usr/bin/env bats
# The command-line contract of keylock: help and version, usage errors
# (exit 64), option parsing that stops at KEY, awkward keys, exit codes
# of "run" (passthrough, 126/127, conflict 75 and -E, --wait timeouts)
# and keylock's messages going to stderr only.

load helper
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

# Starts holding KEY in the background until release NAME.
hold_start() {
	local key=$1 name=$2
	"$KEYLOCK" run -- "$key" sh -c 'touch "$1.started"
	    while [ ! -e "$1.release" ]; do sleep 0.1; done' x "$TMP/$name" \
	    >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/$name.pid"
}

# Holds KEY in the background until release NAME; returns once held.
hold() {
	hold_start "$1" "$2"
	wait_for_file "$TMP/$2.started"
}

# Lets the holder NAME finish and waits for it.
release() {
	touch "$TMP/$1.release"
	wait "$(cat "$TMP/$1.pid")"
}

# Milliseconds on a monotonic-enough clock.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# Asserts a usage error: exit 64, one line "keylock: ..." naming $1 on
# stderr, nothing on stdout.
assert_usage_error() {
	assert_equal "$status" 64
	assert_equal "$output" ""
	[[ "$stderr" == keylock:* ]] || fail "stderr not 'keylock: ...': $stderr"
	[[ "$stderr" == *"$1"* ]] || fail "stderr does not name '$1': $stderr"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] ||
	    fail "not one line: $stderr"
}

@test "--help and -h print the usage with every option on stdout, exit 0" {
	for h in --help -h; do
		run --separate-stderr "$KEYLOCK" "$h"
		assert_success
		assert_equal "$stderr" ""
		assert_output --partial "Usage: keylock run [OPTIONS] KEY [--] COMMAND [ARG]..."
		assert_output --partial "keylock status [OPTIONS] [--json] KEY"
		assert_output --partial "keylock list [OPTIONS] [--json]"
		for opt in --no-wait --wait --conflict-exit-code --dir --quiet \
		    --verbose --memo --memo-max --json --help --version \
		    " -n," " -w," " -E," " -d," " -q," " -v,"; do
			assert_output --partial -- "$opt"
		done
	done
}

@test "run --help prints the usage too, and runs nothing" {
	run --separate-stderr "$KEYLOCK" run --help k touch "$TMP/ran"
	assert_success
	assert_output --partial "Usage: keylock run"
	[ ! -e "$TMP/ran" ]
}

@test "--version and -V print 'keylock VERSION' on stdout" {
	for v in --version -V; do
		run --separate-stderr "$KEYLOCK" "$v"
		assert_success
		assert_equal "$stderr" ""
		assert_output --regexp '^keylock [0-9]+\.[0-9]+(\.[0-9]+)?'
	done
}

@test "no subcommand or an unknown one: 64" {
	run --separate-stderr "$KEYLOCK"
	assert_usage_error "missing command"
	run --separate-stderr "$KEYLOCK" frobnicate k true
	assert_usage_error "frobnicate"
	run --separate-stderr "$KEYLOCK" --bogus
	assert_usage_error "--bogus"
}

@test "run without KEY, with an empty KEY or without COMMAND: 64" {
	run --separate-stderr "$KEYLOCK" run
	assert_usage_error "KEY"
	run --separate-stderr "$KEYLOCK" run -n
	assert_usage_error "KEY"
	run --separate-stderr "$KEYLOCK" run "" touch "$TMP/ran"
	assert_usage_error "KEY"
	run --separate-stderr "$KEYLOCK" run mykey
	assert_usage_error "mykey"
	run --separate-stderr "$KEYLOCK" run mykey --
	assert_usage_error "mykey"
	[ ! -e "$TMP/ran" ]
}

@test "unknown options and missing option values: 64 naming the option" {
	run --separate-stderr "$KEYLOCK" run -x k touch "$TMP/ran"
	assert_usage_error "x"
	run --separate-stderr "$KEYLOCK" run --frob k touch "$TMP/ran"
	assert_usage_error "--frob"
	run -127 --separate-stderr "$KEYLOCK" run k -w
	# -w after KEY is the command, not an option: it is not found.
	assert_failure 127
	run --separate-stderr "$KEYLOCK" run -w
	assert_usage_error "-w"
	run --separate-stderr "$KEYLOCK" run --wait
	assert_usage_error "--wait"
	[ ! -e "$TMP/ran" ]
}

@test "bad durations for --wait: 64 naming the value, command not run" {
	for d in abc -1 5x 1.5.2 "" "1 s" 5sec s 1e999 +3; do
		run --separate-stderr "$KEYLOCK" run -w "$d" k touch "$TMP/ran"
		assert_equal "$status" 64
		assert_equal "$output" ""
		[[ "$stderr" == *"'$d'"* ]] ||
		    fail "stderr does not name '$d': $stderr"
		[ ! -e "$TMP/ran" ]
	done
}

@test "good durations: bare seconds, ms, s, m, h, d, fractions" {
	for d in 0 2 0.25 .5 1.5s 500ms 10m 1h 1d; do
		rm -f "$TMP/ran"
		run --separate-stderr "$KEYLOCK" run --wait "$d" k touch "$TMP/ran"
		assert_success
		assert_equal "$stderr" ""
		[ -e "$TMP/ran" ] || fail "--wait $d: command did not run"
	done
	run "$KEYLOCK" run --wait=1.5s k true
	assert_success
}

@test "bad -E values: 64" {
	for e in 256 -1 abc "" 7x 1.5 " 5" +5; do
		run --separate-stderr "$KEYLOCK" run -E "$e" k touch "$TMP/ran"
		assert_equal "$status" 64
		assert_equal "$output" ""
		[[ "$stderr" == keylock:* ]]
	done
	[ ! -e "$TMP/ran" ]
}

@test "--min-replicas: local locks have none (64), bad counts are 64" {
	run --separate-stderr "$KEYLOCK" run --min-replicas 1 k touch "$TMP/ran"
	assert_usage_error "local locks have no replicas"
	run --separate-stderr "$KEYLOCK" acquire --min-replicas 1 k
	assert_usage_error "--min-replicas"
	for n in -1 x 1001 ""; do
		run --separate-stderr "$KEYLOCK" run --min-replicas "$n" \
		    --redis redis://127.0.0.1:1 k touch "$TMP/ran"
		assert_usage_error "--min-replicas"
	done
	run --separate-stderr "$KEYLOCK" status --min-replicas 1 k
	assert_usage_error "--min-replicas"
	[ ! -e "$TMP/ran" ]
}

@test "options of other subcommands are refused: 64" {
	run --separate-stderr "$KEYLOCK" status -n k
	assert_usage_error "-n"
	run --separate-stderr "$KEYLOCK" list --memo 1m
	assert_usage_error "--memo"
	run --separate-stderr "$KEYLOCK" run --json k true
	assert_usage_error "--json"
}

@test "status, list and forget with wrong operands: 64" {
	run --separate-stderr "$KEYLOCK" status
	assert_usage_error "KEY"
	run --separate-stderr "$KEYLOCK" status a b
	assert_usage_error "operand"
	run --separate-stderr "$KEYLOCK" status ""
	assert_usage_error "KEY"
	run --separate-stderr "$KEYLOCK" list extra
	assert_usage_error "operand"
	run --separate-stderr "$KEYLOCK" forget
	assert_usage_error "KEY"
}

@test "options stop at KEY: the command's arguments are passed verbatim" {
	run --separate-stderr "$KEYLOCK" run -n k printf '[%s]' -n --wait 5 \
	    -- -v --help "" "a b"
	assert_success
	assert_equal "$stderr" ""
	assert_output "[-n][--wait][5][--][-v][--help][][a b]"
}

@test "one '--' after KEY is dropped, a second one is the command's" {
	run "$KEYLOCK" run k -- printf '[%s]' -- x
	assert_success
	assert_output "[--][x]"
}

@test "keys starting with a dash work after '--'" {
	run --separate-stderr "$KEYLOCK" run -- -weird-key sh -c \
	    'printf "%s" "$KEYLOCK_KEY"'
	assert_success
	assert_output "-weird-key"
	run --separate-stderr "$KEYLOCK" run -n -- -n -- sh -c \
	    'printf "%s" "$KEYLOCK_KEY"'
	assert_success
	assert_output "-n"
	run --separate-stderr "$KEYLOCK" run -- -- sh -c \
	    'printf "%s" "$KEYLOCK_KEY"'
	assert_success
	assert_equal "$output" "--"
}

@test "awkward keys lock distinct files inside the lock dir, list shows them" {
	local long1 long2 k n before after
	long1=$(head -c 1200 /dev/zero | tr '\0' x)
	long2=$(head -c 1199 /dev/zero | tr '\0' x)y
	local -a keys=("a b" "a/b" ".." "." "../escape" "/" "/etc/passwd"
	    "ключ-日本語" "%41" "A" "%2F" "a%2Fb" "#x" ".hidden" "*" "~"
	    "$long1" "$long2" "-dash" "tab	x")
	mkdir -p "$KEYLOCK_DIR"
	before=$(find "$TMP" -path "$KEYLOCK_DIR" -prune -o -print | sort)
	for k in "${keys[@]}"; do
		# While KEY is held, list shows exactly KEY and its holder.
		run --separate-stderr "$KEYLOCK" run -- "$k" "$KEYLOCK" list
		assert_success
		assert_equal "$output" "$k"$'\t1 holder'
	done
	# One lock file per key: no two keys share one.
	n=$(find "$KEYLOCK_DIR" -mindepth 1 -maxdepth 1 -type f ! -name '.*' |
	    wc -l)
	assert_equal "$n" "${#keys[@]}"
	# Nothing was created outside the lock directory, and every name
	# fits NAME_MAX.
	after=$(find "$TMP" -path "$KEYLOCK_DIR" -prune -o -print | sort)
	assert_equal "$after" "$before"
	[ ! -e "$BATS_TMPDIR/escape" ]
	[ ! -e /escape ]
	run bash -c 'set -o pipefail; ls -a "$1" | awk "length(\$0) > 255"' \
	    x "$KEYLOCK_DIR"
	assert_success
	assert_output ""
}

@test "awkward keys conflict with their own holder only" {
	local long
	long=$(head -c 1200 /dev/zero | tr '\0' x)
	hold "../escape" h1
	hold "$long" h2
	run "$KEYLOCK" run -n -q -- "../escape" true
	assert_failure 75
	run "$KEYLOCK" run -n -q -- "$long" true
	assert_failure 75
	for k in "..%2Fescape" "%2E%2E%2Fescape" "escape" "${long}x" \
	    "${long%x}" "${long%x}y"; do
		run "$KEYLOCK" run -n -- "$k" true
		assert_success
	done
	release h1
	release h2
}

@test "KEYLOCK_KEY is the original awkward key" {
	local long k
	long=$(head -c 1500 /dev/zero | tr '\0' z)
	for k in "a b" "../x" "." "ключ" "$long" "%41"; do
		run "$KEYLOCK" run -- "$k" sh -c 'printf "%s" "$KEYLOCK_KEY"'
		assert_success
		assert_equal "$output" "$k"
	done
}

@test "list shows a 5000-byte key whole" {
	local long
	long=$(head -c 5000 /dev/zero | tr '\0' q)
	hold "$long" h
	run --separate-stderr "$KEYLOCK" list
	assert_success
	assert_equal "$output" "$long"$'\t1 holder'
	release h
}

@test "run exits with the command's status" {
	for c in 0 1 2 42 74 75 76 255; do
		run "$KEYLOCK" run k sh -c "exit $c"
		assert_equal "$status" "$c"
	done
}

@test "command not found: 127, one message naming it, lock released" {
	run -127 --separate-stderr "$KEYLOCK" run k "$TMP/no-such-command"
	assert_failure 127
	assert_output ""
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[[ "$stderr" == keylock:*"$TMP/no-such-command"* ]]
	run -127 --separate-stderr "$KEYLOCK" run k no-such-command-anywhere
	assert_failure 127
	[[ "$stderr" == *no-such-command-anywhere* ]]
	run "$KEYLOCK" run -n k true
	assert_success
}

@test "command not executable: 126 (plain file and directory)" {
	printf '#!/bin/sh\ntouch "%s/ran"\n' "$TMP" >"$TMP/script"
	chmod 644 "$TMP/script"
	run --separate-stderr "$KEYLOCK" run k "$TMP/script"
	assert_failure 126
	[[ "$stderr" == keylock:*"$TMP/script"* ]]
	[ ! -e "$TMP/ran" ]
	run --separate-stderr "$KEYLOCK" run k "$TMP"
	assert_failure 126
	run "$KEYLOCK" run -n k true
	assert_success
}

@test "conflict: 75 with -n, one message naming the key, command not run" {
	hold busy h
	run --separate-stderr "$KEYLOCK" run -n busy touch "$TMP/ran"
	assert_failure 75
	assert_output ""
	[[ "$stderr" == keylock:*busy* ]] || fail "stderr: $stderr"
	assert_equal "$(printf '%s\n' "$stderr" | wc -l)" 1
	[ ! -e "$TMP/ran" ]
	run --separate-stderr "$KEYLOCK" run --no-wait busy true
	assert_failure 75
	release h
}

@test "-E / --conflict-exit-code sets the conflict status, -q silences it" {
	hold busy h
	run --separate-stderr "$KEYLOCK" run -n -E 3 busy true
	assert_failure 3
	run --separate-stderr "$KEYLOCK" run -n --conflict-exit-code=200 busy true
	assert_failure 200
	run --separate-stderr "$KEYLOCK" run -n -E 0 busy touch "$TMP/ran"
	assert_success
	[ ! -e "$TMP/ran" ]
	run --separate-stderr "$KEYLOCK" run -w 0.2 -E 9 busy true
	assert_failure 9
	run --separate-stderr "$KEYLOCK" run -n -q busy true
	assert_failure 75
	assert_equal "$stderr" ""
	assert_output ""
	release h
}

@test "-w with fractional durations times out after about that long" {
	local t0 t1 d
	hold busy h
	# keylock gives up no earlier than the deadline (the clock it waits
	# on is monotonic): a fraction dropped shows under the lower bound.
	# The upper one leaves room for a slow start under the sanitizers.
	for spec in "1.5s 1490 3000" "0.8 790 2300" "800ms 790 2300"; do
		set -- $spec
		t0=$(now_ms)
		run --separate-stderr "$KEYLOCK" run -w "$1" busy touch "$TMP/ran"
		t1=$(now_ms)
		assert_failure 75
		assert_output ""
		[[ "$stderr" == *busy* ]]
		d=$((t1 - t0))
		[ "$d" -ge "$2" ] || fail "-w $1 gave up after ${d}ms"
		[ "$d" -le "$3" ] || fail "-w $1 gave up after ${d}ms"
	done
	[ ! -e "$TMP/ran" ]
	release h
}

@test "-w acquires when the holder ends before the deadline" {
	hold busy h
	"$KEYLOCK" run -w 10 busy sh -c 'echo got >"$1"' x "$TMP/got" \
	    >/dev/null 2>&1 3>&- &
	echo $! >"$TMP/waiter.pid"
	[ ! -e "$TMP/got" ]
	release h
	wait "$(cat "$TMP/waiter.pid")"
	run cat "$TMP/got"
	assert_output got
}

@test "a successful run prints nothing of its own" {
	run --separate-stderr "$KEYLOCK" run k sh -c 'echo out; echo err >&2'
	assert_success
	assert_output out
	assert_equal "$stderr" err
}

@test "with -v keylock still writes nothing to stdout" {
	run --separate-stderr "$KEYLOCK" run -v k echo out
	assert_success
	assert_output out
	hold busy h
	run --separate-stderr "$KEYLOCK" run -v -w 0.3 busy echo out
	assert_failure 75
	assert_output ""
	[[ "$stderr" == *busy* ]]
	run --separate-stderr "$KEYLOCK" run -v -n busy echo out
	assert_failure 75
	assert_output ""
	release h
}

@test "usage errors write nothing to stdout" {
	local st=0
	"$KEYLOCK" run -w bad k echo out >"$TMP/out" 2>"$TMP/err" || st=$?
	assert_equal "$st" 64
	[ ! -s "$TMP/out" ]
	[ -s "$TMP/err" ]
}

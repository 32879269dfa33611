#!/usr/bin/env bats
# keylock status and list on the local backend: human and JSON output,
# exit 0 held / 1 free, and what list shows.

load helper
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { common_teardown; }

# Checks that $output is valid JSON, when jq is there to tell.
assert_json() {
	if command -v jq >/dev/null; then
		jq -e . >/dev/null <<<"$output" || fail "not JSON: $output"
	fi
}

RFC3339='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})'

@test "status of a free key: exit 1, 'KEY: free' on stdout" {
	run --separate-stderr "$KEYLOCK" status k
	assert_failure 1
	assert_output "k: free"
	assert_equal "$stderr" ""
	"$KEYLOCK" run k true
	run --separate-stderr "$KEYLOCK" status k
	assert_failure 1
	assert_output "k: free"
}

@test "status of a held key: exit 0, pid, host and fence" {
	hold_local k h
	run --separate-stderr "$KEYLOCK" status k
	assert_success
	assert_equal "$stderr" ""
	assert_output --regexp "^k: held by pid $(cat "$TMP/h.pid") on $(hostname) since $RFC3339, fence $(cat "$TMP/h.fence")\$"
	release_local h
	run "$KEYLOCK" status k
	assert_failure 1
}

@test "status --json of a free key" {
	run --separate-stderr "$KEYLOCK" status --json k
	assert_failure 1
	assert_equal "$stderr" ""
	assert_json
	assert_output --regexp '^\{"key":"k","backend":"local","held":false[,}]'
	refute_output --partial '"pid"'
}

@test "status --json of a held key has key, backend, held, pid, host, since, fence" {
	local pid fence
	hold_local k h
	pid=$(cat "$TMP/h.pid")
	fence=$(cat "$TMP/h.fence")
	run --separate-stderr "$KEYLOCK" status --json k
	assert_success
	assert_json
	assert_output --partial '"key":"k"'
	assert_output --partial '"backend":"local"'
	assert_output --partial '"held":true'
	assert_output --partial "\"pid\":$pid,"
	assert_output --partial "\"host\":\"$(hostname)\""
	assert_output --regexp "\"since\":\"$RFC3339\""
	assert_output --regexp "\"fence\":$fence[,}]"
	if command -v jq >/dev/null; then
		assert_equal "$(jq -r '.pid' <<<"$output")" "$pid"
		assert_equal "$(jq -r '.fence' <<<"$output")" "$fence"
	fi
	release_local h
}

@test "status --json since is the time the lock was taken" {
	local before after since
	command -v jq >/dev/null || skip "jq not installed"
	before=$(date -u +%s)
	hold_local k h
	after=$(date -u +%s)
	run "$KEYLOCK" status --json k
	since=$(jq -r .since <<<"$output")
	since=$(date -u -d "$since" +%s)
	[ "$since" -ge "$before" ] && [ "$since" -le "$after" ] ||
	    fail "since $since not in [$before, $after]"
	release_local h
}

@test "status --json escapes awkward keys" {
	local key='a "quoted" \ key/ключ'
	command -v jq >/dev/null || skip "jq not installed"
	hold_local "$key" h
	run "$KEYLOCK" status --json -- "$key"
	assert_success
	assert_json
	assert_equal "$(jq -r .key <<<"$output")" "$key"
	run "$KEYLOCK" list --json
	assert_json
	assert_equal "$(jq -r '.[0].key' <<<"$output")" "$key"
	release_local h
}

@test "status shows the holder that took over after a SIGKILLed holder" {
	hold_local k h1
	kill -9 "$(cat "$TMP/h1.pid")"
	local st=0
	wait "$(cat "$TMP/h1.pid")" || st=$?
	assert_equal "$st" 137
	run "$KEYLOCK" status k
	assert_failure 1
	hold_local k h2
	run "$KEYLOCK" status k
	assert_success
	assert_output --partial "pid $(cat "$TMP/h2.pid") "
	release_local h2
}

@test "a damaged holder record is never shown as the holder" {
	hold_local k h
	# The record starts after the fence (21 bytes) and its checksum (17):
	# change one byte of it, as a torn read would.
	printf X | dd of="$KEYLOCK_DIR/k" bs=1 seek=40 conv=notrunc 2>/dev/null
	run "$KEYLOCK" status k
	assert_success
	assert_output 'k: held by an unknown process'
	run "$KEYLOCK" status --json k
	assert_success
	assert_json
	assert_output --partial '"held":true,"pid":null,"host":null'
	release_local h
}

@test "list: nothing held prints nothing and exits 0" {
	run --separate-stderr "$KEYLOCK" list
	assert_success
	assert_output ""
	"$KEYLOCK" run used true
	run --separate-stderr "$KEYLOCK" list
	assert_success
	assert_output ""
}

@test "list prints each held key on its own line, free keys not at all" {
	"$KEYLOCK" run freed true
	hold_local one h1
	hold_local "two words" h2
	hold_local "../three" h3
	run --separate-stderr "$KEYLOCK" list
	assert_success
	assert_equal "$(sort <<<"$output")" "$(printf '%s\t1 holder\n' ../three one "two words")"
	release_local h2
	run "$KEYLOCK" list
	assert_equal "$(sort <<<"$output")" "$(printf '%s\t1 holder\n' ../three one)"
	release_local h1
	release_local h3
}

@test "list --json: an array of held keys with holder fields" {
	run --separate-stderr "$KEYLOCK" list --json
	assert_success
	assert_output "[]"
	hold_local a h1
	hold_local b h2
	run --separate-stderr "$KEYLOCK" list --json
	assert_success
	assert_json
	assert_output --regexp '^\[\{.*\},\{.*\}\]$'
	assert_output --partial "\"key\":\"a\""
	assert_output --partial "\"key\":\"b\""
	assert_output --partial "\"pid\":$(cat "$TMP/h1.pid"),"
	assert_output --partial "\"pid\":$(cat "$TMP/h2.pid"),"
	assert_output --regexp "\"since\":\"$RFC3339\""
	if command -v jq >/dev/null; then
		assert_equal "$(jq length <<<"$output")" 2
		assert_equal "$(jq -r '.[] | select(.key == "a") | .fence' \
		    <<<"$output")" "$(cat "$TMP/h1.fence")"
	fi
	release_local h1
	release_local h2
}

@test "status and list honour --dir" {
	mkdir -m 700 "$TMP/other"
	"$KEYLOCK" run --dir "$TMP/other" -- k sh -c ': >"$1/started"
	    while [ ! -e "$1/go" ]; do sleep 0.1; done' x "$TMP" 3>&- &
	echo $! >"$TMP/h.pid"
	wait_for_file "$TMP/started"
	run "$KEYLOCK" status k
	assert_failure 1
	run "$KEYLOCK" status --dir "$TMP/other" k
	assert_success
	run "$KEYLOCK" list -d "$TMP/other"
	assert_output "k	1 holder"
	touch "$TMP/go"
	wait "$(cat "$TMP/h.pid")"
}

@test "status and list of a key that starts with a dash" {
	hold_local -dash h
	run "$KEYLOCK" status -- -dash
	assert_success
	assert_output --partial -- "-dash: held by pid $(cat "$TMP/h.pid")"
	run "$KEYLOCK" list
	assert_equal "$output" "-dash	1 holder"
	release_local h
}

@test "--json is valid UTF-8 for any key; text shows control and bad bytes as ?" {
	local key=$'bad\xff\xfe utf8 \xc3\xa9 ctl\n\e[31m'
	run "$KEYLOCK" run -- "$key" sh -c \
	    '"$1" status --json -- "$KEYLOCK_KEY"; "$1" list' x "$KEYLOCK"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	python3 -c 'import json, sys
k = json.loads(sys.argv[1].encode("utf-8", "surrogateescape"))["key"]
assert k == "bad\ufffd\ufffd utf8 \u00e9 ctl\n\x1b[31m", repr(k)' \
	    "${lines[0]}"
	assert_equal "${lines[1]}" $'bad?? utf8 \xc3\xa9 ctl??[31m\t1 holder'
}

@test "C1 controls never reach the terminal raw, as bytes or as UTF-8" {
	local key=$'a\x9b31mb\xc2\x9b31mc\xc2\x85d'
	run "$KEYLOCK" run -- "$key" sh -c '"$1" list; "$1" status -- "$KEYLOCK_KEY"' \
	    x "$KEYLOCK"
	assert_success
	assert_line --index 0 $'a?31mb?31mc?d\t1 holder'
	assert_line --index 1 --partial 'a?31mb?31mc?d: held by'
}

# Starts `keylock run -v ARGS... -- true` as NAME in the background and
# returns once it has joined the queue (its waiting notice is out).
qwaiter() {
	local name=$1
	shift
	"$KEYLOCK" run -v "$@" -- true >/dev/null 2>"$TMP/$name.err" 3>&- &
	echo $! >"$TMP/$name.pid"
	wait_for_line "$TMP/$name.err" 'waiting for'
}

@test "status lists shared holders and the waiters in queue order" {
	hold_local k r1 -s
	hold_local k r2 -s
	qwaiter w1 k
	qwaiter w2 -s --supersede k
	run --separate-stderr "$KEYLOCK" status k
	assert_success
	assert_line --index 0 --regexp "^k: held by pid $(cat "$TMP/r1.pid") on .*, fence 1, shared$"
	assert_line --index 1 --regexp "^k: held by pid $(cat "$TMP/r2.pid") on .*, fence 2, shared$"
	assert_line --index 2 --regexp "^k: 1st in queue: pid $(cat "$TMP/w1.pid") on [^ ]+ since $RFC3339$"
	assert_line --index 3 --regexp "^k: 2nd in queue: pid $(cat "$TMP/w2.pid") on .*, shared, supersede$"
	run "$KEYLOCK" status --json k
	assert_success
	assert_json
	run jq -c '[.held, [.holders[] | [.mode, .pid]], [.waiters[] | [.position,
	    .mode, .pid, .supersede]]]' <<<"$output"
	assert_output "[true,[[\"shared\",$(cat "$TMP/r1.pid")],[\"shared\",$(cat "$TMP/r2.pid")]],[[1,\"exclusive\",$(cat "$TMP/w1.pid"),false],[2,\"shared\",$(cat "$TMP/w2.pid"),true]]]"
	run "$KEYLOCK" list
	assert_output "k	2 holders, 2 waiting"
	release_local r1
	release_local r2
	wait "$(cat "$TMP/w1.pid")"
	wait "$(cat "$TMP/w2.pid")"
	run "$KEYLOCK" status --json k
	run jq -c '[.held, .holders, .waiters]' <<<"$output"
	assert_output '[false,[],[]]'
}

@test "status shows each slot holder with its slot; list counts them" {
	hold_local k a --slots 3
	hold_local k b --slots 3
	run --separate-stderr "$KEYLOCK" status k
	assert_success
	assert_line --index 0 --regexp "^k: held by pid $(cat "$TMP/a.pid") on .*, slot 0 of 3$"
	assert_line --index 1 --regexp "^k: held by pid $(cat "$TMP/b.pid") on .*, slot 1 of 3$"
	run "$KEYLOCK" status --json k
	run jq -c '[.holders[] | [.mode, .slots, .slot, .pid]]' <<<"$output"
	assert_output "[[\"slots\",3,0,$(cat "$TMP/a.pid")],[\"slots\",3,1,$(cat "$TMP/b.pid")]]"
	run "$KEYLOCK" list --json
	run jq -c '[.[] | [.key, .holder_count, .waiter_count]]' <<<"$output"
	assert_output '[["k",2,0]]'
	release_local a
	run "$KEYLOCK" status --json k
	run jq -c '[.holders[] | .slot]' <<<"$output"
	assert_output '[1]'
	release_local b
}

@test "status and list never join a queue nor take a slot" {
	hold_local k a --slots 2
	run "$KEYLOCK" status k
	run "$KEYLOCK" list
	run ls -A "$KEYLOCK_DIR/.q.k"
	assert_output "$(printf 'next\ns0')"
	run "$KEYLOCK" run -n --slots 2 k -- sh -c 'echo "$KEYLOCK_SLOT"'
	assert_success
	assert_output 1
	release_local a
}

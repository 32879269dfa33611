#!/usr/bin/env bats
# keylock --version: the version configure was given, and the features
# built in, as text and as JSON for scripts.

bats_require_minimum_version 1.5.0

load helper

setup() { common_setup; }
teardown() { common_teardown; }

@test "--version: 'keylock VERSION (features)' on stdout, exit 0" {
	for v in --version -V; do
		run --separate-stderr "$KEYLOCK" "$v"
		assert_success
		assert_equal "$stderr" ""
		assert_output --regexp '^keylock [0-9]+\.[0-9]+\.[0-9]+ \([a-z, ;]+\)$'
		# The backends of this build; redis is not optional yet.
		assert_output --partial "(local, redis"
	done
}

@test "--version --json: one object with name, version and features" {
	run --separate-stderr "$KEYLOCK" --version --json
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -r .name <<<"$output")" keylock
	assert_equal "$(jq .features.local <<<"$output")" true
	assert_equal "$(jq .features.redis <<<"$output")" true
	# The text and the JSON name the same version and built features.
	local text json
	text=$("$KEYLOCK" --version)
	json=$(jq -r '"keylock \(.version) (\([.features | to_entries[] |
	    select(.value) | .key] | join(", ")))"' <<<"$output")
	[[ $text == "$json" || $text == "${json%)}; without "* ]] ||
	    fail "text '$text' vs JSON '$json'"
}

@test "--version with anything but --json: 64" {
	run --separate-stderr "$KEYLOCK" --version --jsonx
	assert_equal "$status" 64
	assert_equal "$output" ""
	[[ $stderr == "keylock: --version: unknown option '--jsonx'"* ]] ||
	    fail "stderr: $stderr"
	run --separate-stderr "$KEYLOCK" -V --json extra
	assert_equal "$status" 64
}

#!/usr/bin/env bats
# Shell completions: the bash one driven in a real bash through
# COMP_WORDS/COMP_CWORD as readline sets them, keys from "keylock list"
# bounded by a timeout; zsh and fish parsed by their shells, and fish's
# completions run.

bats_require_minimum_version 1.5.0

load helper

COMPDIR=$BATS_TEST_DIRNAME/../completions

setup() { common_setup; }

# Lets the holders of hold_keys end before the scratch space goes.
teardown() {
	local f
	for f in "$TMP"/h*.pid; do
		[ -e "$f" ] && touch "${f%.pid}.release"
	done
	wait
	common_teardown
}

# Prints, one per line, what bash completes for the line $1 (cursor at its
# end), after sourcing the files "$@" and the bash completion.  COMP_WORDS
# is split as bash splits it: at blanks, and at runs of = and :.
comp() {
	local line=$1
	shift
	bash --norc --noprofile -c '
		line=$1; shift
		for f in "$@"; do source "$f"; done
		COMP_LINE=$line COMP_POINT=${#line} COMP_WORDS=()
		for tok in $line; do
			while [[ $tok =~ ^([^=:]*)([=:]+)(.*)$ ]]; do
				[ -n "${BASH_REMATCH[1]}" ] &&
				    COMP_WORDS+=("${BASH_REMATCH[1]}")
				COMP_WORDS+=("${BASH_REMATCH[2]}")
				tok=${BASH_REMATCH[3]}
			done
			[ -n "$tok" ] && COMP_WORDS+=("$tok")
		done
		[[ $line == *[[:space:]] ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		fn=$(complete -p keylock | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		"$fn" keylock "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}"
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
	' _ "$line" "$@" "$COMPDIR/bash/keylock"
}

# Holds local keys "$@" until the test ends.
hold_keys() {
	local k n=0
	for k in "$@"; do
		n=$((n + 1))
		hold_local "$k" "h$n"
	done
}

@test "bash: complete -p names the keylock function" {
	run bash --norc --noprofile -c 'source "$1"; complete -p keylock' _ \
	    "$COMPDIR/bash/keylock"
	assert_success
	assert_output "complete -F _keylock keylock"
}

@test "bash: subcommands, and --json after --version" {
	run comp "keylock "
	assert_output "$(printf '%s\n' run acquire release renew status list \
	    forget -h --help -V --version)"
	run comp "keylock rel"
	assert_output release
	run comp "keylock --version "
	assert_output --json
}

@test "bash: each subcommand offers the options it takes, and no others" {
	run comp "keylock run --"
	assert_line --memo
	assert_line --on-lost=
	assert_line --redis
	refute_line --json
	run comp "keylock status --"
	assert_line --json
	refute_line --memo
	run comp "keylock release --f"
	assert_output --force
	run comp "keylock forget --"
	refute_line --json
	refute_line --force
	assert_line --dir
}

@test "bash: option values by kind: choices, directories, URLs, durations" {
	mkdir "$TMP/dir1" "$TMP/dir2"
	touch "$TMP/dirfile"
	run comp "keylock run --on-lost "
	assert_output "$(printf 'kill\nwarn')"
	# bash splits at =: the reply replaces only its own piece.
	run comp "keylock run --on-lost=w"
	assert_output warn
	run comp "keylock run --on-lost="
	assert_output "$(printf '=kill\n=warn')"
	run comp "keylock run -d $TMP/dir"
	assert_output "$(printf '%s\n' "$TMP/dir1" "$TMP/dir2")"
	run comp "keylock status --redis "
	assert_output "$(printf '%s\n' redis:// unix:// redis+unix://)"
	run comp "keylock status --redis unix://$TMP/di"
	assert_output "$(printf '%s\n' "//$TMP/dir1/" "//$TMP/dir2/" \
	    "//$TMP/dirfile")"
	run comp "keylock run -w 10"
	assert_output "$(printf '%s\n' 10ms 10s 10m 10h 10d)"
	run comp "keylock run -nw 10"
	assert_line 10m
	run comp "keylock run --memo-max 64"
	assert_line 64M
	run comp "keylock run -E "
	assert_output ""
}

@test "bash: status, release and forget complete the held keys" {
	hold_keys alpha beta "with space"
	run comp "$KEYLOCK status "
	assert_equal "$(sort <<<"$output")" \
	    "$(printf '%s\n' alpha beta 'with\ space')"
	run comp "$KEYLOCK release --force b"
	assert_output beta
	run comp "$KEYLOCK forget -q w"
	assert_output 'with\ space'
	# run takes any key; list takes none.
	run comp "$KEYLOCK run "
	assert_output ""
	run comp "$KEYLOCK list "
	assert_output ""
	# Only one KEY.
	run comp "$KEYLOCK status alpha "
	assert_output ""
}

@test "bash: keys come from the directory on the line; a missing one is not created" {
	hold_keys alpha
	mkdir "$TMP/other"
	KEYLOCK_DIR="$TMP/other" hold_local "elsewhere" h9
	run comp "$KEYLOCK status -d $TMP/other "
	assert_output elsewhere
	run comp "$KEYLOCK status --dir=$TMP/other e"
	assert_output elsewhere
	run comp "$KEYLOCK status -d $TMP/missing "
	assert_output ""
	[ ! -e "$TMP/missing" ]
}

@test "bash: a slow keylock list is cut off after a second" {
	printf '#!/bin/sh\nsleep 10\necho late\n' >"$TMP/slow"
	chmod +x "$TMP/slow"
	SECONDS=0
	run comp "$TMP/slow status "
	assert_output ""
	[ "$SECONDS" -le 3 ] || fail "took ${SECONDS}s"
}

@test "bash: keys over Redis when KEYLOCK_REDIS_URL is set" {
	command -v redis-server >/dev/null || skip "redis-server not installed"
	redis_start
	export KEYLOCK_REDIS_URL=$REDIS_URL
	"$KEYLOCK" run redkey -- sh -c 'touch "$1"; sleep 30' x \
	    "$TMP/started" 3>&- &
	echo $! >"$TMP/red.pid"
	wait_for_file "$TMP/started"
	run comp "$KEYLOCK status "
	kill "$(cat "$TMP/red.pid")"
	wait "$(cat "$TMP/red.pid")" || true
	redis_stop
	assert_output redkey
}

@test "bash: after run's KEY, the command and its arguments" {
	run comp "keylock run -w 1m k ech"
	assert_line echo
	run comp "keylock run k -- ech"
	assert_line echo
	# With bash-completion loaded, the command's own completion is used.
	[ -r /usr/share/bash-completion/bash_completion ] ||
	    skip "bash-completion not installed"
	run comp "keylock run -n k -- ech" \
	    /usr/share/bash-completion/bash_completion
	assert_line echo
	hold_keys alpha
	run comp "$KEYLOCK status a" /usr/share/bash-completion/bash_completion
	assert_output alpha
}

@test "zsh: the completion parses" {
	command -v zsh >/dev/null || skip "zsh not installed"
	run zsh -n "$COMPDIR/zsh/_keylock"
	assert_success
	assert_output ""
}

@test "fish: the completion parses and completes subcommands and keys" {
	command -v fish >/dev/null || skip "fish not installed"
	run fish -n "$COMPDIR/fish/keylock.fish"
	assert_success
	hold_keys alpha
	run fish -c 'source $argv[1]; complete -C"keylock re"' \
	    "$COMPDIR/fish/keylock.fish"
	assert_output --regexp $'^release\t'
	run fish -c 'source $argv[1]; complete -C"$argv[2] status "' \
	    "$COMPDIR/fish/keylock.fish" "$KEYLOCK"
	assert_output $'alpha\theld key'
	run fish -c 'source $argv[1]; complete -C"keylock run --on-lost "' \
	    "$COMPDIR/fish/keylock.fish"
	assert_line --regexp $'^kill\t'
}

@test "bash: run --memo-env completes variables, --memo-stale durations, --memo-* options" {
	export KEYLOCK_TEST_VAR=1
	run comp "keylock run --memo-env KEYLOCK_TEST_V"
	assert_line KEYLOCK_TEST_VAR
	run comp "keylock run --memo-stale 5"
	assert_line 5s
	run comp "keylock run --memo-s"
	assert_line --memo-stale
	assert_line --memo-stderr
}

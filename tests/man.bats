#!/usr/bin/env bats
# The manual: keylock.1 is clean mdoc, and it documents every option that
# "keylock --help" prints, with the same short names and defaults.

load helper

MAN=${KEYLOCK_MAN:-$BATS_TEST_DIRNAME/../man/keylock.1}

# Prints the rendered manual as plain text on one line: no overstrike,
# no line breaks, single spaces.  Fails if mandoc does.
man_text() {
	local -
	set -o pipefail
	mandoc -Tascii "$MAN" | sed 's/.\x08//g' | tr -s ' \t\n' '   '
}

# Prints each long option of "keylock --help" once, e.g. "--no-wait".
# Fails if keylock --help does, or prints none.
help_longopts() {
	local -
	set -o pipefail
	"$KEYLOCK" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u
}

@test "mandoc -Tlint -Wwarning reports nothing" {
	run mandoc -Tlint -Wwarning "$MAN"
	assert_success
	assert_output ''
}

@test "every long option of --help is in the manual" {
	local text opts opt missing=
	text=$(man_text)
	opts=$(help_longopts)
	for opt in $opts; do
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" <<<"$text" ||
		    missing="$missing $opt"
	done
	assert_equal "missing:$missing" "missing:"
}

@test "every short/long pair of --help is in the manual's OPTIONS" {
	local text help pairs pair missing=
	text=$(man_text)
	help=$("$KEYLOCK" --help)
	pairs=$(grep -oE -- '-[A-Za-z], --[a-z][a-z-]*' <<<"$help")
	while read -r pair; do
		grep -qF -- "$pair" <<<"$text" || missing="$missing [$pair]"
	done <<<"$pairs"
	assert_equal "missing:$missing" "missing:"
}

@test "every long option in the manual exists in --help" {
	local opts manual opt extra=
	opts=$(help_longopts)
	# EXAMPLES shows options of other programs too.
	manual=$(set -o pipefail; mandoc -Tascii "$MAN" | sed 's/.\x08//g' |
	    sed '/^EXAMPLES/,/^SEE ALSO/d' |
	    grep -oE -- '--[a-z][a-z-]*[a-z]' | sort -u)
	for opt in $manual; do
		grep -qx -- "$opt" <<<"$opts" || extra="$extra $opt"
	done
	assert_equal "unknown:$extra" "unknown:"
}

@test "every default of --help is in the manual" {
	local text help defaults d missing=
	text=$(man_text)
	help=$("$KEYLOCK" --help)
	defaults=$(grep -oE 'default:? [^);]+' <<<"$help" |
	    sed -E 's/^default:? //')
	[ -n "$defaults" ]
	while read -r d; do
		grep -qF -e "(default $d)" -e "default is to $d" <<<"$text" ||
		    missing="$missing [$d]"
	done <<<"$defaults"
	assert_equal "missing:$missing" "missing:"
}

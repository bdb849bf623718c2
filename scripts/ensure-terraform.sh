#!/bin/sh
# ensure-terraform.sh - print the absolute path of a usable Terraform CLI (>= 1.6.0).
#
# Stdout carries exactly one line: the path. Everything else goes to stderr, so
# callers can write: TF="$(scripts/ensure-terraform.sh)".
#
# Where the binary comes from, in this order:
#   1. $TERRAFORM, when set and usable;
#   2. `terraform` on PATH, when its version is >= 1.6.0;
#   3. <repo>/bin/terraform, when present and >= 1.6.0;
#   4. otherwise it is built from source through the Go module proxy:
#        GOBIN=<repo>/bin go install github.com/hashicorp/terraform@v1.6.6
#      This is the ONLY way this project obtains Terraform: nothing is ever
#      downloaded from a release site. (Newer Terraform releases cannot be
#      installed with `go install`; 1.6.6 is the newest that can.)
set -eu

TF_MODULE_VERSION="v1.6.6"
MIN_MAJOR=1
MIN_MINOR=6

export CHECKPOINT_DISABLE=1

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
local_tf="$repo_root/bin/terraform"

log() {
	printf 'ensure-terraform: %s\n' "$*" >&2
}

# tf_version BINARY: print "X.Y.Z" for BINARY, or nothing when it cannot tell.
tf_version() {
	v=$("$1" version -json 2>/dev/null |
		sed -n 's/^[[:space:]]*"terraform_version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*$/\1/p' |
		head -n 1) || v=""
	if [ -z "$v" ]; then
		# Very old releases have no -json: parse "Terraform v1.2.3".
		v=$("$1" version 2>/dev/null |
			sed -n 's/^Terraform v\([0-9][0-9.]*\).*$/\1/p' |
			head -n 1) || v=""
	fi
	printf '%s' "$v"
}

# usable BINARY: true when BINARY runs and reports a version >= MIN_MAJOR.MIN_MINOR.
usable() {
	[ -n "$1" ] && [ -f "$1" ] && [ -x "$1" ] || return 1
	v=$(tf_version "$1")
	[ -n "$v" ] || return 1
	major=${v%%.*}
	rest=${v#*.}
	minor=${rest%%.*}
	case "$major$minor" in
	'' | *[!0-9]*) return 1 ;;
	esac
	[ "$major" -gt "$MIN_MAJOR" ] && return 0
	[ "$major" -eq "$MIN_MAJOR" ] && [ "$minor" -ge "$MIN_MINOR" ]
}

# abs PATH: make PATH absolute (without resolving symlinks).
abs() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd -P)" "$1" ;;
	esac
}

# 1. An explicit choice wins, but only if it works.
if [ -n "${TERRAFORM:-}" ]; then
	candidate="$TERRAFORM"
	case "$candidate" in
	*/*) ;;
	*) candidate=$(command -v "$candidate" 2>/dev/null || true) ;;
	esac
	if [ -n "$candidate" ] && usable "$candidate"; then
		abs "$candidate"
		exit 0
	fi
	log "ignoring TERRAFORM=$TERRAFORM: not an executable Terraform >= $MIN_MAJOR.$MIN_MINOR.0"
fi

# 2. Whatever is on PATH, when recent enough.
on_path=$(command -v terraform 2>/dev/null || true)
if [ -n "$on_path" ]; then
	if usable "$on_path"; then
		abs "$on_path"
		exit 0
	fi
	log "terraform on PATH ($on_path, version '$(tf_version "$on_path")') is older than $MIN_MAJOR.$MIN_MINOR.0; not using it"
fi

# 3. A copy built earlier into the repository's bin/.
if usable "$local_tf"; then
	printf '%s\n' "$local_tf"
	exit 0
fi

# 4. Build it from source through the Go module proxy.
if ! command -v go >/dev/null 2>&1; then
	log "no usable terraform found and 'go' is not on PATH; install Go or set TERRAFORM=/path/to/terraform"
	exit 1
fi
log "no terraform >= $MIN_MAJOR.$MIN_MINOR found; building terraform $TF_MODULE_VERSION from source into $repo_root/bin"
log "(go install github.com/hashicorp/terraform@$TF_MODULE_VERSION - this takes a few minutes, once)"
mkdir -p "$repo_root/bin"
if ! GOBIN="$repo_root/bin" go install "github.com/hashicorp/terraform@$TF_MODULE_VERSION" >&2; then
	log "go install github.com/hashicorp/terraform@$TF_MODULE_VERSION failed"
	exit 1
fi
if ! usable "$local_tf"; then
	log "built $local_tf but it does not report a usable version"
	exit 1
fi
log "built $local_tf ($(tf_version "$local_tf"))"
printf '%s\n' "$local_tf"

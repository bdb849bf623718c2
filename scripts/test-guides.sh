#!/usr/bin/env bash
# test-guides.sh - run the user documentation as written, as a new user would (make test-guides).
#
#   scripts/test-guides.sh          README.md's "Quick start for users", then the guide
#                                   docs/guides/testing-modules-offline.md
#   scripts/test-guides.sh DOC...   only these documents (paths in the repository)
#
# In each document, a hidden HTML comment marks the blocks that are run:
#
#   <!-- test: run -->          before a fenced block: run its lines
#   <!-- test: file PATH -->    before a fenced block: save its content as PATH, relative to
#                               the directory the session is in, as the reader is told to
#
# The marked blocks of a document become one bash script (set -euo pipefail), run in a new
# empty directory outside the repository, in the order they appear. Nothing is added
# between them. The guide is read from docs/ (what users read; make docs-check keeps it in
# step with templates/), README.md from the root.
#
# The session is a new user's on a fresh machine:
#   - HOME is a new temporary directory: make install-local writes the provider into its
#     ~/.terraform.d/plugins, and no CLI configuration, plugin cache, reattach setting or
#     KOOPHONE_*/HW_* credential is inherited.
#   - README.md runs with GOBIN set to a temporary directory that is on PATH; the guide runs
#     with GOBIN unset and GOPATH a temporary directory, so that its own
#     `export PATH="$(go env GOPATH)/bin:$PATH"` is what finds koophone-emulator. Go's module
#     and build caches and its settings (GOMODCACHE, GOCACHE, GOENV) stay the developer's.
#   - TF_CLI_ARGS=-no-color, so that the log is readable; nothing else of Terraform's is set.
#   - PATH has go and the terraform of scripts/ensure-terraform.sh (as `terraform`), and not
#     the developer's GOBIN or GOPATH/bin, where an older koophone-emulator may be.
#   - The one substitution: `git clone https://github.com/koophone/terraform-provider-koophone.git`
#     copies this checkout instead (its files as they are now, tracked and new, without .git,
#     so install-local takes its version from CHANGELOG.md as in a clone without tags). A
#     shell function named git does it; every other line runs as written. A document whose
#     clone line changed, so that no clone was intercepted, fails.
# Afterwards it checks that every `terraform init` of the session installed koophone/koophone
# from the local plugin directory under the session's HOME (a link there), not from a
# registry, and that the emulator was stopped.
#
# It prints each block before running it, then one line per document and a total:
#   test-guides: README.md: passed (18s)
#   test-guides: 2 documents, 0 failed
set -euo pipefail

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
cd "$repo_root"

export CHECKPOINT_DISABLE=1
unset TF_CLI_CONFIG_FILE TF_PLUGIN_CACHE_DIR TF_REATTACH_PROVIDERS TF_DATA_DIR TF_CLI_ARGS TF_CLI_ARGS_init TF_CLI_ARGS_test
unset KOOPHONE_ENDPOINT KOOPHONE_TOKEN KOOPHONE_ACCESS_KEY KOOPHONE_SECRET_KEY KOOPHONE_SECURITY_TOKEN KOOPHONE_PROJECT_ID
unset HW_ACCESS_KEY HW_SECRET_KEY HW_SECURITY_TOKEN HW_PROJECT_ID

log() { printf 'test-guides: %s\n' "$*" >&2; }

docs=("$@")
if [ "${#docs[@]}" -eq 0 ]; then
	docs=(README.md docs/guides/testing-modules-offline.md)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/koophone-guides.XXXXXX")
tmp=$(CDPATH='' cd -- "$tmp" && pwd -P)
case "$tmp/" in
"$repo_root"/*) log "the temporary directory $tmp is inside the repository; set TMPDIR elsewhere"; exit 2 ;;
esac
trap 'rm -rf -- "$tmp"' EXIT

# Terraform, first on PATH as `terraform`, through a directory holding only a link to it.
tf=$("$script_dir/ensure-terraform.sh")
mkdir -p "$tmp/path"
ln -s "$tf" "$tmp/path/terraform"
# PATH without the directories go install writes to (a koophone-emulator
# installed there earlier must not stand in for the one the session
# installs), but with go.
go_dir=$(dirname -- "$(command -v go)")
drop=":$(go env GOBIN):"
IFS=: read -r -a gopaths <<<"$(go env GOPATH)"
for p in "${gopaths[@]}"; do drop="$drop$p/bin:"; done
base_path="$tmp/path:$go_dir"
IFS=: read -r -a entries <<<"$PATH"
for p in "${entries[@]}"; do
	case "$drop" in *":$p:"*) continue ;; esac
	[ -z "$p" ] || base_path="$base_path:$p"
done

# Go's caches and settings survive the change of HOME.
GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE) GOENV=$(go env GOENV)
export GOMODCACHE GOCACHE GOENV

# The checkout, as a clone of it would be now: tracked and new files, without .git.
if git -C "$repo_root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$repo_root" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done |
		tar -C "$repo_root" --null -T - -cf "$tmp/checkout.tar"
else
	tar -C "$repo_root" --exclude=./bin --exclude=./dist --exclude=.terraform -cf "$tmp/checkout.tar" .
fi

# extract DOC: print the bash script of DOC's marked blocks, or fail naming the line.
extract() {
	awk -v doc="$1" '
		function fail(msg) { printf "test-guides: %s:%d: %s\n", doc, NR, msg > "/dev/stderr"; bad = 1; exit 2 }
		function quote(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
		state == 0 && /^<!-- test: run -->[ \t]*$/ { kind = "run"; state = 1; next }
		state == 0 && /^<!-- test: file [^ ]+ -->[ \t]*$/ { kind = "file"; path = $4; state = 1; next }
		state == 0 && /<!-- test:/ { fail("a test marker is <!-- test: run --> or <!-- test: file PATH -->") }
		state == 1 {
			if ($0 !~ /^```/) fail("a test marker must be followed at once by a fenced block")
			state = 2; body = ""; start = NR + 1; next
		}
		state == 2 && /^```[ \t]*$/ {
			if (index(body, "KOOPHONE_GUIDE_END") > 0) fail("the block contains KOOPHONE_GUIDE_END")
			blocks++
			printf "\n# --- %s, line %d\n", doc, start
			if (kind == "run") {
				printf "koophone_guide_show %s <<\047KOOPHONE_GUIDE_END\047\n%sKOOPHONE_GUIDE_END\n", quote(doc ":" start), body
				printf "%s", body
			} else {
				printf "koophone_guide_file %s %s <<\047KOOPHONE_GUIDE_END\047\n%sKOOPHONE_GUIDE_END\n", quote(path), quote(doc ":" start), body
			}
			state = 0; next
		}
		state == 2 { body = body $0 "\n"; next }
		END {
			if (bad) exit 2
			if (state != 0) { printf "test-guides: %s: the last marked block is not closed\n", doc > "/dev/stderr"; exit 2 }
			if (blocks == 0) { printf "test-guides: %s: no block is marked <!-- test: run --> or <!-- test: file PATH -->\n", doc > "/dev/stderr"; exit 2 }
		}
	' "$1"
}

# The prologue of every session: how blocks are shown, files saved, the clone
# intercepted, and background jobs (the emulator) stopped if a block fails.
prologue() {
	cat <<'PROLOGUE'
set -euo pipefail
koophone_guide_show() {
	printf '\n==> %s\n' "$1"
	sed 's/^/$ /'
}
koophone_guide_file() {
	printf '\n==> %s: save as %s\n' "$2" "$1"
	mkdir -p -- "$(dirname -- "$1")"
	cat >"$1"
}
git() {
	if [ "${1:-}" = clone ]; then
		local url="" dest="" skip=""
		shift
		for a in "$@"; do
			if [ -n "$skip" ]; then skip=""; continue; fi
			case "$a" in
			--depth | -b | --branch | --origin | -o) skip=1 ;;
			-*) ;;
			*) if [ -z "$url" ]; then url=$a; elif [ -z "$dest" ]; then dest=$a; fi ;;
			esac
		done
		case "$url" in
		https://github.com/koophone/terraform-provider-koophone | https://github.com/koophone/terraform-provider-koophone.git)
			dest=${dest:-terraform-provider-koophone}
			echo "(test-guides: cloning = copying the checkout under test into $dest)"
			mkdir -p -- "$dest"
			tar -C "$dest" -xf "$KOOPHONE_GUIDE_CHECKOUT"
			: >>"$KOOPHONE_GUIDE_CLONED"
			return 0
			;;
		esac
	fi
	command git "$@"
}
koophone_guide_stop_jobs() {
	local pids
	pids=$(jobs -pr)
	[ -z "$pids" ] || kill $pids 2>/dev/null || true
}
trap koophone_guide_stop_jobs EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
PROLOGUE
}

failures=0
results=()
n=0
for doc in "${docs[@]}"; do
	n=$((n + 1))
	[ -f "$doc" ] || { log "no document $doc"; exit 2; }
	session="$tmp/session-$n"
	mkdir -p "$session/home" "$session/work"
	script="$session/script.sh"
	{
		prologue
		extract "$doc"
	} >"$script"

	# TF_CLI_ARGS=-no-color: the one setting a user would not have, for readable logs.
	env_vars=(HOME="$session/home" TF_CLI_ARGS=-no-color KOOPHONE_GUIDE_CHECKOUT="$tmp/checkout.tar" KOOPHONE_GUIDE_CLONED="$session/cloned")
	if [ "$doc" = README.md ]; then
		# GOBIN set (and on PATH, as whoever sets GOBIN has it).
		mkdir -p "$session/gobin"
		env_vars+=(GOBIN="$session/gobin" GOPATH="$(go env GOPATH)" PATH="$session/gobin:$base_path")
		go_setup="GOBIN=$session/gobin"
	else
		# GOBIN unset: go install uses GOPATH/bin, which the document must put on PATH.
		env_vars+=(GOBIN= GOPATH="$session/gopath" PATH="$base_path")
		go_setup="GOBIN unset, GOPATH=$session/gopath"
	fi
	printf '\n==> %s: its marked blocks, in %s (HOME=%s, %s)\n' "$doc" "$session/work" "$session/home" "$go_setup"
	start=$SECONDS
	rc=0
	runner=(bash "$script")
	if command -v timeout >/dev/null 2>&1; then
		runner=(timeout 600 bash "$script")
	fi
	(cd "$session/work" && env "${env_vars[@]}" "${runner[@]}") || rc=$?
	problem=""
	if [ "$rc" -ne 0 ]; then
		problem="a block failed (exit $rc)"
	elif [ ! -e "$session/cloned" ] && grep -q 'git clone' "$doc"; then
		problem="its git clone of the repository was not intercepted: was the URL changed?"
	else
		# Every init took koophone/koophone from the session's local plugin directory.
		links=0
		while IFS= read -r -d '' link; do
			links=$((links + 1))
			target=$(readlink "$link" || true)
			case "$target" in
			"$session/home/.terraform.d/plugins/"*) ;;
			*) problem="terraform init installed ${link#"$session/work/"} from ${target:-a registry}, not from the local plugin directory" ;;
			esac
		done < <(find "$session/work" -path '*/.terraform/providers/registry.terraform.io/koophone/koophone/*/*' -prune -print0)
		if [ -z "$problem" ] && [ "$links" -eq 0 ] && grep -q 'terraform init' "$doc"; then
			problem="no terraform init installed koophone/koophone"
		fi
	fi
	elapsed=$((SECONDS - start))
	if [ -n "$problem" ]; then
		failures=$((failures + 1))
		line="test-guides: $doc: FAILED: $problem (${elapsed}s)"
		for f in "$session"/work/*/emulator.log "$session"/work/emulator.log; do
			[ -s "$f" ] || continue
			echo "test-guides: ${f#"$session/work/"}:" >&2
			sed 's/^/    /' "$f" >&2
		done
	else
		line="test-guides: $doc: passed (${elapsed}s)"
	fi
	printf '%s\n' "$line"
	results+=("$line")
done

echo
printf '%s\n' "${results[@]}"
printf 'test-guides: %d documents, %d failed\n' "${#docs[@]}" "$failures"
[ "$failures" -eq 0 ]

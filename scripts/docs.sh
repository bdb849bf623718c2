#!/usr/bin/env bash
# docs.sh - generate or check the provider documentation in docs/.
#
#   scripts/docs.sh generate   regenerate docs/ from the provider schema,
#                              examples/ and templates/   (make docs)
#   scripts/docs.sh check      regenerate into a temporary copy of the repo and
#                              fail when the committed docs/ differs, then run
#                              `tfplugindocs validate` on it (make docs-check)
#   scripts/docs.sh validate   run `tfplugindocs validate` on docs/ as it is
#
# The schemas come from scripts/providerschema, which serves the provider
# in-process and prints them as `terraform providers schema -json` does, with
# the actions' schemas (only Terraform 1.14 and later print those, and the
# Terraform this repository builds offline is older). tfplugindocs gets them
# with --providers-schema, so it neither builds the provider nor runs
# Terraform, and nothing touches the network; we never pass --tf-version
# (it downloads).
set -euo pipefail

PROVIDER_NAME="koophone"
TFPLUGINDOCS_PKG="github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"

script_dir=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)

log() { printf 'docs: %s\n' "$*" >&2; }

usage() {
	cat >&2 <<USAGE
usage: $0 generate|check|validate
  generate   regenerate docs/ (same as: make docs)
  check      fail if docs/ is not what generate would produce (same as: make docs-check)
  validate   run tfplugindocs validate on docs/
USAGE
}

[ $# -eq 1 ] || { usage; exit 2; }
mode=$1
case "$mode" in
generate | check | validate) ;;
-h | --help | help) usage; exit 0 ;;
*) usage; exit 2 ;;
esac

export CHECKPOINT_DISABLE=1

work=$(mktemp -d "${TMPDIR:-/tmp}/koophone-docs.XXXXXX")
cleanup() { rm -rf -- "$work"; }
trap cleanup EXIT

# The provider's schemas, actions included (see above).
log "printing the provider's schemas (scripts/providerschema)"
(cd "$repo_root" && go run ./scripts/providerschema >"$work/schema.json")

# Build tfplugindocs once from the tools module (cached by Go after the first time).
log "building tfplugindocs (tools/go.mod)"
(cd "$repo_root/tools" && go build -o "$work/tfplugindocs" "$TFPLUGINDOCS_PKG")
tfplugindocs_version=$(cd "$repo_root/tools" && go list -m -f '{{.Version}}' github.com/hashicorp/terraform-plugin-docs)
log "using tfplugindocs $tfplugindocs_version"

tfplugindocs() {
	"$work/tfplugindocs" "$@"
}

case "$mode" in
generate)
	log "generating docs/ in $repo_root"
	tfplugindocs generate --provider-dir "$repo_root" --provider-name "$PROVIDER_NAME" --providers-schema "$work/schema.json"
	log "docs/ regenerated; review with: git status docs/ && git diff docs/"
	;;

validate)
	tfplugindocs validate --provider-dir "$repo_root" --provider-name "$PROVIDER_NAME" --providers-schema "$work/schema.json"
	log "docs/ is valid"
	;;

check)
	# Work on a copy of the working tree (without .git, bin/, dist/ and
	# Terraform working files) so the repository itself is never modified.
	copy="$work/repo"
	mkdir -p "$copy"
	tar -C "$repo_root" \
		--exclude=./.git --exclude=./bin --exclude=./dist \
		--exclude=.terraform --exclude='*.tfstate' --exclude='*.tfstate.*' \
		-cf - . | tar -C "$copy" -xf -
	log "regenerating docs/ into a temporary copy"
	if ! tfplugindocs generate --provider-dir "$copy" --provider-name "$PROVIDER_NAME" --providers-schema "$work/schema.json" >"$work/generate.log" 2>&1; then
		cat "$work/generate.log" >&2
		log "tfplugindocs generate failed"
		exit 1
	fi
	mkdir -p "$copy/docs"
	committed="$repo_root/docs"
	generated="$copy/docs"
	changed=0
	while IFS= read -r f; do
		f=${f#./}
		if [ ! -f "$committed/$f" ]; then
			printf '  docs/%s (missing: not committed)\n' "$f"
		elif [ ! -f "$generated/$f" ]; then
			printf '  docs/%s (stale: no longer generated)\n' "$f"
		elif ! cmp -s "$committed/$f" "$generated/$f"; then
			printf '  docs/%s (changed)\n' "$f"
		else
			continue
		fi
		changed=1
	done >"$work/changed.txt" < <(
		{
			[ ! -d "$committed" ] || (cd "$committed" && find . -type f)
			(cd "$generated" && find . -type f)
		} | LC_ALL=C sort -u
	)
	if [ "$changed" -ne 0 ] || [ -s "$work/changed.txt" ]; then
		{
			echo "docs: the committed docs/ is not what 'make docs' generates. Differing files:"
			cat "$work/changed.txt"
			echo
			echo "docs: first lines of the difference (committed -> generated):"
			mkdir -p "$work/empty"
			[ -d "$committed" ] || committed="$work/empty"
			(cd "$work" && diff -r -u -N "$committed" "$generated" | sed -e "s#$committed#docs#g" -e "s#$generated#docs#g" | head -n 100) || true
			echo
			echo "docs: run 'make docs' (scripts/docs.sh generate) and commit docs/."
		} >&2
		exit 1
	fi
	log "docs/ matches the generated documentation"
	log "validating docs/"
	if ! tfplugindocs validate --provider-dir "$copy" --provider-name "$PROVIDER_NAME" --providers-schema "$work/schema.json" >"$work/validate.log" 2>&1; then
		grep -v '\[DEBUG\]' "$work/validate.log" >&2 || true
		log "tfplugindocs validate failed"
		exit 1
	fi
	log "docs/ is up to date and valid"
	;;
esac

#!/usr/bin/env bash
# Formats the C sources with clang-format and the repository's .clang-format (GTK/GNU style).
#   tools/format.sh           format every tracked .c/.h file in place
#   tools/format.sh --check   change nothing: list each file that is not formatted (with the diff
#                             of the first few) and exit 1 if there is any; the `format` test
#                             suite runs this, so CI fails on unformatted files
# Works from any directory. Files matching a line of .clang-format-ignore (git glob patterns
# from the repository root: `*` stays within a folder, `**` crosses folders) are never touched.
# Uses $CLANG_FORMAT if set, else clang-format-14, else clang-format; the tree is formatted with
# version 14 (Debian 12's), and other versions may break some lines differently. Without
# clang-format, --check exits 77, which meson reports as skipped.
set -euo pipefail

check=false
case "$#:${1:-}" in
1:--check) check=true ;;
0:) ;;
*)
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

cf=${CLANG_FORMAT:-}
if [[ -z $cf ]]; then
  for c in clang-format-14 clang-format; do
    if command -v "$c" >/dev/null; then
      cf=$c
      break
    fi
  done
fi
if [[ -z $cf ]] || ! command -v "$cf" >/dev/null; then
  echo "format.sh: clang-format is not installed (tools/install-deps.sh installs it)" >&2
  $check && exit 77
  exit 1
fi
version=$("$cf" --version | sed -n 's/.*clang-format version \([0-9]*\).*/\1/p')
if [[ $version != 14 ]]; then
  echo "format.sh: warning: $cf is version ${version:-unknown}; the tree is formatted with 14" >&2
fi

if [[ $(git rev-parse --show-toplevel 2>/dev/null) != "$root" ]]; then
  echo "format.sh: $root is not a git checkout: no list of tracked files" >&2
  $check && exit 77
  exit 1
fi

specs=('*.c' '*.h')
if [[ -f .clang-format-ignore ]]; then
  while IFS= read -r pattern || [[ -n $pattern ]]; do
    pattern=${pattern%$'\r'}
    [[ -z ${pattern// /} || $pattern == '#'* ]] && continue
    specs+=(":(exclude,glob)$pattern")
  done <.clang-format-ignore
fi
files=()
while IFS= read -r -d '' f; do
  [[ -f $f ]] && files+=("$f") # tracked but deleted in the work tree: nothing to format
done < <(git ls-files -z -- "${specs[@]}")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One clang-format run over all files (a run per file would take 20 times as long): its dry run
# names each file it would change, in the first warning for that file.
if ((${#files[@]})); then
  if ! printf '%s\0' "${files[@]}" \
    | xargs -0 "$cf" --style=file --dry-run --ferror-limit=1 2>"$tmp/dry-run"; then
    cat "$tmp/dry-run" >&2
    echo "format.sh: $cf failed" >&2
    exit 2
  fi
fi
changed=()
while IFS= read -r f; do
  changed+=("$f")
done < <(sed -n 's/^\(.*\):[0-9]*:[0-9]*: [a-z]*: .*\[-Wclang-format-violations\]$/\1/p' \
  "$tmp/dry-run" | uniq)

if $check; then
  for i in "${!changed[@]}"; do
    f=${changed[$i]}
    echo "not formatted: $f"
    if ((i < 3)); then
      "$cf" --style=file "$f" >"$tmp/formatted"
      diff -u --label "$f" --label "$f (formatted)" "$f" "$tmp/formatted" | head -n 40 || true
    fi
  done
  if ((${#changed[@]})); then
    echo "${#changed[@]} of ${#files[@]} files are not formatted (diffs of the first 3 above," \
      "cut at 40 lines); run tools/format.sh to format them"
    exit 1
  fi
  echo "all ${#files[@]} files are formatted"
else
  # In place, and only the files that change: the others keep their time stamps.
  if ((${#changed[@]})); then
    printf '%s\0' "${changed[@]}" | xargs -0 "$cf" --style=file -i
    printf 'formatted: %s\n' "${changed[@]}"
  fi
  echo "${#changed[@]} of ${#files[@]} files formatted"
fi

#!/bin/sh
# Resolve the dependencies afresh in a throw-away venv and pin every one in requirements.lock.
set -e
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip setuptools
"$tmp/venv/bin/pip" install --quiet -e '.[test]'
{
  echo "# Every dependency pinned; regenerate with \`make lock\` (scripts/lock.sh)."
  echo "# make install and CI install with -c requirements.lock."
  "$tmp/venv/bin/pip" freeze --all --exclude-editable | grep -v '^pip=='
} > requirements.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) packages"

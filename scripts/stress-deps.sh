#!/bin/sh
# What the server-level stress harnesses need beyond `make test`'s set-up: nginx, the reverse
# proxy stress/slow_clients.py runs in front of gunicorn (deploy/nginx.conf).
# Installed with apt when missing and we are root; otherwise the exact command is printed.
set -e
missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing$missing with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  exit 0
fi
echo "The stress harnesses need:$missing. Install them, then run the harness again:" >&2
echo "    sudo apt-get install$missing" >&2
exit 1

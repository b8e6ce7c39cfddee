#!/bin/sh
# What `make bench` needs beyond `make test`'s set-up: wrk (the HTTP load generator of the
# record-ingest benchmark), pgbench (its floor) and djpeg (the derivatives benchmark's floor).
# Installed with apt when missing and we are root; otherwise the exact command is printed.
set -e
missing=""
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v pgbench >/dev/null 2>&1 || missing="$missing postgresql-client"
command -v djpeg >/dev/null 2>&1 || missing="$missing libjpeg-turbo-progs"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing$missing with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  exit 0
fi
echo "The benchmarks need:$missing. Install them, then run make bench again:" >&2
echo "    sudo apt-get install$missing" >&2
exit 1

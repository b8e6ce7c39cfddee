#!/bin/sh
# The one system package the embedded default needs: SpatiaLite for SQLite.
# Installed with apt when missing and we are root; otherwise the exact command is printed.
set -e
found() {
  for f in /usr/lib/x86_64-linux-gnu/mod_spatialite.so /usr/lib/aarch64-linux-gnu/mod_spatialite.so \
           /usr/lib64/mod_spatialite.so /opt/homebrew/lib/mod_spatialite.dylib /usr/local/lib/mod_spatialite.dylib; do
    [ -e "$f" ] && return 0
  done
  return 1
}
found && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing libsqlite3-mod-spatialite with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-mod-spatialite >/dev/null
  found && exit 0
fi
echo "SpatiaLite is missing. Install it, then run make again:" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "    sudo apt-get install libsqlite3-mod-spatialite" >&2
elif command -v dnf >/dev/null 2>&1; then
  echo "    sudo dnf install libspatialite" >&2
elif command -v brew >/dev/null 2>&1; then
  echo "    brew install libspatialite" >&2
fi
exit 1

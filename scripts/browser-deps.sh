#!/bin/sh
# What the browser tier (tests/browser) needs: Debian's chromium and its driver, and a CJK font.
# Installed with apt when missing and we are root; otherwise the exact command is printed.
set -e
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium, chromium-driver and fonts-wqy-microhei with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
  exit 0
fi
echo "The browser tests need chromium and chromium-driver:" >&2
echo "    sudo apt-get install chromium chromium-driver fonts-wqy-microhei" >&2
echo "(or run the rest: make test PYTEST_ARGS='-n 2 -m \"not browser\"')" >&2
exit 1

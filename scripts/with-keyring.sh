#!/bin/sh
# Usage: dbus-run-session -- sh scripts/with-keyring.sh <command...>
# Starts gnome-keyring's Secret Service on the private session bus, unlocked
# with $KEYRING_PASS (default ci-pass), waits until it owns
# org.freedesktop.secrets, runs the command and stops the daemon again.
# Recipe and its reasons: ECOSYSTEM.md §1 (the wait closes a race that
# otherwise starts a second daemon; --foreground gives a PID to kill).
printf '%s' "${KEYRING_PASS:-ci-pass}" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
KPID=$!
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; do
  i=$((i+1)); if [ $i -gt 100 ]; then echo "secret service did not come up" >&2; kill $KPID; exit 1; fi
  sleep 0.1
done
"$@"; rc=$?
kill $KPID 2>/dev/null; wait $KPID 2>/dev/null
exit $rc

#!/usr/bin/env bash
# Stops the local stack when the process that owns it is gone, even if that process was
# SIGKILLed and never ran its own shutdown (an interrupted test run, a killed `npm start`).
# Usage: watchdog.sh <owner-pid> <state-dir> <pid>...
# Exits by itself as soon as the stack's processes are gone for any other reason.
set -u
owner=$1
state_dir=$2
shift 2

any_alive() {
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

while kill -0 "$owner" 2>/dev/null; do
  any_alive "$@" || exit 0
  sleep 1
done

kill -TERM "$@" 2>/dev/null
for _ in $(seq 1 200); do
  any_alive "$@" || break
  sleep 0.1
done
kill -KILL "$@" 2>/dev/null
rm -f "$state_dir/stack.json"

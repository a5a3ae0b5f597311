#!/bin/sh
# Run `valuechain train all` every night at $TRAIN_AT (UTC, HH:MM; default 02:00), forever.
# Compose has no scheduler; this loop is the whole cron. A failed night is logged and retried
# the next night; the service keeps serving the previous champions meanwhile.
set -u
at="${TRAIN_AT:-02:00}"
while true; do
    now=$(date -u +%s)
    next=$(date -u -d "today $at" +%s)
    [ "$next" -le "$now" ] && next=$(date -u -d "tomorrow $at" +%s)
    echo "next training at $(date -u -d "@$next" '+%Y-%m-%d %H:%M UTC')"
    sleep $((next - now))
    valuechain train all --data "${TRAIN_DATA:-/data}" || echo "train all failed (exit $?)"
done

#!/usr/bin/env bash
# Schedule the day's crawl of every category on a Scrapyd server; each job's closing pipeline
# rewrites the day's digest from the database, so the last to finish leaves the full post.
# Called by cron (crontab) or the systemd timer (digestcrawl-daily.timer).
#   SCRAPYD_URL (default http://127.0.0.1:6800), MODEL (default all), SINCE (default 1d)
# Arguments NAME=value are digestcrawl settings given to every job (Scrapyd's setting=NAME=value),
# e.g. `schedule-daily.sh NETGUARD_ALLOW=10.0.0.0/8 STORE_URL=postgresql+psycopg://db/digestcrawl`:
# jobs run in Scrapyd's environment, not this script's.
set -euo pipefail
SCRAPYD_URL=${SCRAPYD_URL:-http://127.0.0.1:6800}
settings=()
for setting in "$@"; do
  [[ $setting == [A-Z]*=* ]] || { echo "not a NAME=value setting: $setting" >&2; exit 2; }
  settings+=(--data-urlencode "setting=$setting")
done
for spider in news social finance releases; do
  curl --fail --silent --show-error "$SCRAPYD_URL/schedule.json" \
    -d project=digestcrawl -d spider="$spider" -d model="${MODEL:-all}" -d since="${SINCE:-1d}" "${settings[@]}"
  echo
done

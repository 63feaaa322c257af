#!/usr/bin/env bash
# Schedule the day's crawl of every category on a Scrapyd server; each job's closing pipeline
# rewrites the day's digest from the database, so the last to finish leaves the full post.
# Called by cron (crontab) or the systemd timer (digestcrawl-daily.timer).
#   SCRAPYD_URL (default http://127.0.0.1:6800), MODEL (default all), SINCE (default 1d)
set -euo pipefail
SCRAPYD_URL=${SCRAPYD_URL:-http://127.0.0.1:6800}
for spider in news social finance releases; do
  curl --fail --silent --show-error "$SCRAPYD_URL/schedule.json" \
    -d project=digestcrawl -d spider="$spider" -d model="${MODEL:-all}" -d since="${SINCE:-1d}"
  echo
done

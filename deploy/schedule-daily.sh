#!/usr/bin/env bash
# Schedule the day's crawl of every category on a Scrapyd server; each job's closing digest
# rewrites the day's post from the database (and builds the site with DIGEST_SITE_BUILD), so the
# last to finish publishes the full post. Run by cron (deploy/crontab) or systemd
# (digestcrawl-schedule@.service), with deploy/digestcrawl.env:
#   SCRAPYD_URL (default http://127.0.0.1:6800), MODEL (default all), SINCE (default 1d), UNTIL
#   (default: none, now);
#   the digestcrawl variables (DIGESTCRAWL_STORE_URL, DIGEST_SITE_DIR, …: README, "Settings") go to
#   every job as the settings they set (Scrapyd's setting=NAME=value), since jobs run in Scrapyd's
#   environment, not this script's.
# Arguments NAME=value are more settings for every job, e.g. `schedule-daily.sh DOWNLOAD_DELAY=1`.
set -euo pipefail
SCRAPYD_URL=${SCRAPYD_URL:-http://127.0.0.1:6800}
# Each environment variable digestcrawl/settings.py reads → the setting it sets
# (tests/test_schedule_script.py checks this table against settings.py).
declare -A SETTING_OF=(
  [DIGESTCRAWL_MODELS_FILE]=DIGESTCRAWL_MODELS_FILE [DIGESTCRAWL_SOURCES_FILE]=DIGESTCRAWL_SOURCES_FILE
  [DIGESTCRAWL_STORE_URL]=STORE_URL [DIGESTCRAWL_SPOOL_DIR]=STORE_SPOOL_DIR
  [DIGESTCRAWL_REPORT_DIR]=REPORT_DIR [DIGESTCRAWL_HTTPCACHE_DIR]=HTTPCACHE_DIR
  [DIGESTCRAWL_NETGUARD_ALLOW]=NETGUARD_ALLOW [DIGEST_SITE_DIR]=DIGEST_SITE_DIR
  [DIGESTCRAWL_SITE_BUILD]=DIGEST_SITE_BUILD [DIGESTCRAWL_LLM_MODEL]=LLM_MODEL
  [DIGESTCRAWL_DISTRIBUTED]=DIGESTCRAWL_DISTRIBUTED [DIGESTCRAWL_CRAWL_ID]=DIGESTCRAWL_CRAWL_ID
)
settings=()
for variable in $(printf '%s\n' "${!SETTING_OF[@]}" | sort); do
  if [[ -n ${!variable:-} ]]; then
    settings+=(--data-urlencode "setting=${SETTING_OF[$variable]}=${!variable}")
  fi
done
for setting in "$@"; do
  [[ $setting == [A-Z]*=* ]] || { echo "not a NAME=value setting: $setting" >&2; exit 2; }
  settings+=(--data-urlencode "setting=$setting")
done
window=(-d since="${SINCE:-1d}")
[[ -z ${UNTIL:-} ]] || window+=(-d until="$UNTIL")
for spider in news social finance releases; do
  curl --fail --silent --show-error "$SCRAPYD_URL/schedule.json" \
    -d project=digestcrawl -d spider="$spider" -d model="${MODEL:-all}" "${window[@]}" "${settings[@]}"
  echo
done

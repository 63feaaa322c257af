#!/usr/bin/env bash
# Install what digestcrawl needs on a Debian machine: system packages (as root), then a venv.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# jekyll-feed, jekyll-seo-tag and jekyll-archives (tag pages): the site skeleton's plugins; the fonts: CJK text and emoji headings.
APT_PACKAGES=(chromium postgresql redis-server jekyll ruby-jekyll-feed ruby-jekyll-seo-tag ruby-jekyll-archives fonts-noto-cjk
              fonts-noto-color-emoji)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    exit 1
  fi
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
# axe-core, for the site's accessibility test (tests/test_site.py), in a git-ignored folder.
if [ -f .cache/node/node_modules/axe-core/axe.min.js ]; then
  :
elif command -v npm >/dev/null; then
  npm install --silent --no-audit --no-fund --no-save --prefix .cache/node axe-core@4.14.1
else
  echo "npm not found: the accessibility test will be skipped (fails under CI)" >&2
fi
echo "Setup done: .venv is ready."

"""Scrapy settings for digestcrawl. Every digestcrawl-specific setting is listed here with its
default; components document the ones they read."""

from __future__ import annotations

import os

BOT_NAME = "digestcrawl"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "digestcrawl.commands"

# Politeness: an honest User-Agent with a contact URL, robots.txt, small per-domain concurrency,
# AutoThrottle, Retry-After honoured.
USER_AGENT = "digestcrawl/0.1 (+https://github.com/digestcrawl/digestcrawl)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# An article page yields one item and a feed a few hundred requests: Scrapy starts this many
# tasks per callback to process its output, and the default 100 costs more than it gains.
CONCURRENT_ITEMS = 8
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
RETRY_TIMES = 2
# Retry-After on these statuses holds the host's download slot for the wait asked, up to this
# many seconds; a longer wait gives that request up (digestcrawl.crawl.retryafter).
RETRYAFTER_MAX = 120.0
RETRYAFTER_CODES = [429, 503]
DOWNLOADER_MIDDLEWARES = {
    "digestcrawl.crawl.netguard.PrivateAddressGuard": 50,
    "digestcrawl.crawl.incremental.SkipUnchangedArticles": 60,
    # Next to the downloader, before RedirectMiddleware (600) and RetryMiddleware (550) see the
    # outcome: no redirect to another scheme, no retry of a refused DNS answer.
    "digestcrawl.crawl.netguard.DownloadGuard": 650,
    "digestcrawl.crawl.retryafter.RetryAfterMiddleware": 560,
}
# Only http(s) is ever downloaded: no handler for file:, data:, ftp: or s3: URLs, whatever
# slips past the scheme checks (digestcrawl.crawl.netguard).
DOWNLOAD_HANDLERS: dict[str, str | None] = {"file": None, "data": None, "ftp": None, "s3": None}
# DNS answers are checked against NETGUARD_ALLOW before Twisted connects (digestcrawl.crawl.netguard).
TWISTED_DNS_RESOLVER = "digestcrawl.crawl.netguard.GuardedResolver"
# Incremental crawls: feeds are revalidated with conditional GETs (ETag / If-Modified-Since);
# stored, unchanged articles are not fetched again.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_DIR = os.environ.get("DIGESTCRAWL_HTTPCACHE_DIR", "httpcache")
HTTPCACHE_IGNORE_HTTP_CODES = [408, 429, 500, 502, 503, 504]
INCREMENTAL_ENABLED = True
# SSRF guard (digestcrawl.crawl.netguard): only public addresses unless allowed here (IPs or CIDRs);
# host verdicts kept for rendered pages and Chromium's own requests.
NETGUARD_ENABLED = True
NETGUARD_ALLOW: list[str] = []
NETGUARD_HOST_CACHE_SIZE = 10000

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.relevance.RelevancePipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.store.StorePipeline": 400,
}
# Lifecycle hooks that touch no item: the run lock (taken when the spider opens) and the digest
# (written when it closes).
EXTENSIONS = {
    "digestcrawl.ops.runlock.RunLock": 100,
    "digestcrawl.ops.report.SourceReport": 500,
    "digestcrawl.ops.digest_on_close.DigestOnClose": 900,
}

# Configuration files (None: the defaults shipped in digestcrawl/conf/).
DIGESTCRAWL_MODELS_FILE: str | None = os.environ.get("DIGESTCRAWL_MODELS_FILE")
DIGESTCRAWL_SOURCES_FILE: str | None = os.environ.get("DIGESTCRAWL_SOURCES_FILE")

# The calendar of digests and of naive dates given on the command line.
DIGEST_TIMEZONE = "Asia/Taipei"

# Extraction worker processes (digestcrawl.crawl.extraction_pool): extraction is most of the CPU, so
# workers let a crawl use more than one core; one core stays with the crawl process (downloads,
# pipelines, store), which starves if workers take them all. 0 extracts in the crawl process.
EXTRACTION_PROCESSES = max(1, (os.cpu_count() or 1) - 1)
# A page not extracted within this many seconds is stored with its title and lead only (its worker
# is killed and replaced); 0: no limit. Normal pages take well under a second.
EXTRACTION_TIMEOUT = 30.0
# Pages over any of these caps are not parsed in full (title and lead only): bytes, tags (count of
# "<") and links (count of "<a"); each costs tens of microseconds of extraction per element. 0: no cap.
EXTRACTION_MAX_BYTES = 5 * 1024 * 1024
EXTRACTION_MAX_TAGS = 100_000
EXTRACTION_MAX_LINKS = 10_000

# Relevance: minimum alias score (a title hit counts 3, each body hit 1, capped at 5).
RELEVANCE_MIN_SCORE = 1

# Dedup: near-duplicate Jaccard threshold, and how far back stored articles are compared.
DEDUP_NEAR_THRESHOLD = 0.6
DEDUP_LOOKBACK_DAYS = 7

# Storage: any SQLAlchemy URL; SQLite under data/ by default.
STORE_URL = os.environ.get("STORE_URL", "sqlite:///data/digestcrawl.sqlite3")
STORE_BUSY_TIMEOUT = 5.0
STORE_RETRY_TIMES = 3
STORE_RETRY_BACKOFF = 1.0
STORE_BATCH_SIZE = 50  # articles written in one transaction at most
STORE_BATCH_WAIT = 0.2  # seconds an article waits for others to share its transaction
STORE_SPOOL_DIR = os.environ.get("DIGESTCRAWL_SPOOL_DIR", "data/spool")

# Digest: written when a crawl closes (DIGEST_ON_CLOSE) and by `scrapy digest`.
DIGEST_ON_CLOSE = True
DIGEST_SITE_DIR = os.environ.get("DIGEST_SITE_DIR", "data/site")
# Copy the shipped Jekyll skeleton into DIGEST_SITE_DIR when it has no _config.yml (no file is overwritten).
DIGEST_SITE_SKELETON = True
DIGEST_LANGUAGE = "zh-TW"
DIGEST_LAYOUT = "post"
DIGEST_MAX_STORIES = 5
DIGEST_SUMMARIZER = "auto"

# LLM summarizer (any OpenAI-compatible endpoint); with no API key the digest is extractive.
LLM_API_KEY = os.environ.get("OPENAI_API_KEY")
LLM_BASE_URL = os.environ.get("OPENAI_BASE_URL")
LLM_MODEL = os.environ.get("DIGESTCRAWL_LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT = 60.0  # read timeout of one request, seconds
LLM_CONNECT_TIMEOUT = 10.0  # connect timeout of one request, seconds
LLM_DEADLINE = 60.0  # all of one digest's LLM calls, retries and waits; then the extractive digest
LLM_MAX_RETRIES = 3
LLM_TOKEN_BUDGET = 12000
LLM_TEMPERATURE = 0.2
# One batched call, from titles, confirms or splits the shown stories' loosely held members (with the LLM only).
LLM_MERGE_CHECK = True
# A member is loosely held when its mean same-story probability with the rest is under the merge bar plus this.
LLM_MERGE_BAND = 0.2

# One run per spider, model and day at a time (a lock row in the database).
RUN_LOCK_ENABLED = True
# Seconds a lock outlives its run's last heartbeat (one every third of it): how long a run that
# died, or lost its database, keeps the next one out.
RUN_LOCK_TTL = 120.0

# Run monitors (digestcrawl.ops.monitors), reported in the log and the run report.
MONITOR_BLOCKED_SHARE = 0.5
MONITOR_EXTRACTION_SHARE = 0.5
MONITOR_HISTORY_RUNS = 7

# Run report: per-source counts as JSON, written when a spider closes (None: not written).
REPORT_DIR: str | None = os.environ.get("DIGESTCRAWL_REPORT_DIR", "data/reports")

# Pages marked `render: playwright` go through Debian's Chromium; other sources start no browser.
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
}

LOG_FORMATTER = "digestcrawl.ops.logformatter.OneLineLogFormatter"
# Distributed profile: DIGESTCRAWL_DISTRIBUTED=1 puts the scheduler and dupefilter in Redis
# (REDIS_URL) so any number of workers share one crawl, identified by DIGESTCRAWL_CRAWL_ID (a
# new id starts a fresh queue); the store must then be PostgreSQL (STORE_URL).
DIGESTCRAWL_DISTRIBUTED = os.environ.get("DIGESTCRAWL_DISTRIBUTED") == "1"
DIGESTCRAWL_CRAWL_ID = os.environ.get("DIGESTCRAWL_CRAWL_ID", "default")
# Distributed: a worker's entry in the crawl's worker registry expires this long after its last
# heartbeat (digestcrawl.crawl.workers), so a crashed worker never blocks the digest.
DIGESTCRAWL_WORKER_TTL = 30.0
# Distributed: how long an idle worker waits for an unreachable Redis before it closes with
# reason redis_lost (digestcrawl.crawl.scheduler).
SCHEDULER_REDIS_DOWN_TIMEOUT = 300.0
if DIGESTCRAWL_DISTRIBUTED:
    SCHEDULER = "digestcrawl.crawl.scheduler.RedisScheduler"
    DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    # The queue outlives any one worker (a closing worker must not flush it for the others);
    # workers wait this long on an empty queue for work another worker may still add.
    SCHEDULER_PERSIST = True
    SCHEDULER_IDLE_BEFORE_CLOSE = 3
    SCHEDULER_QUEUE_KEY = f"digestcrawl:{DIGESTCRAWL_CRAWL_ID}:%(spider)s:requests"
    SCHEDULER_DUPEFILTER_KEY = f"digestcrawl:{DIGESTCRAWL_CRAWL_ID}:%(spider)s:dupefilter"
    # Set once per queue: found missing or changed, Redis lost the queue and it is re-seeded.
    SCHEDULER_EPOCH_KEY = f"digestcrawl:{DIGESTCRAWL_CRAWL_ID}:%(spider)s:epoch"

FEED_EXPORT_ENCODING = "utf-8"
# The MinHash signature is for the database, not for feed exports. An item exports the fields it
# has: an article's, or a repository reading's (repo, model, day, downloads, likes).
FEED_EXPORT_FIELDS = ["url", "source", "category", "title", "text", "snippet", "locale", "language",
                      "author", "site_name", "publisher", "feed_url", "published", "published_from",
                      "modified", "modified_from", "fetched", "headline_only", "models", "score",
                      "first_party", "text_hash", "duplicate_of", "similarity",
                      "repo", "model", "day", "downloads", "likes"]
LOG_LEVEL = "INFO"

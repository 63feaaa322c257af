"""Scrapy settings for digestcrawl.

Every setting of digestcrawl's own (one our code reads that Scrapy, scrapy-redis or
scrapy-playwright does not define) is declared here once, with its default and a comment;
components read them without repeating a default (README.md, "Settings", has the table, checked
by tests/unit/test_settings.py). This is the only module that reads the environment, and it does
so without branching: profiles that depend on a setting are add-ons (ADDONS), applied once every
source (-s, Scrapyd job settings, spider settings, the environment) is known."""

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
# Downloads pause while the responses in the spider's callbacks hold this many bytes (Scrapy's
# default is 5 MB). Pages there wait for an extraction worker, then for their item's write
# (STORE_BATCH_WAIT): 1 MB (~30 article pages) keeps the workers fed, and the crawl process
# peaked 22 MB lower in B5's crawl (issue 25).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.5
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
RETRY_TIMES = 2
# Retry-After on these statuses holds the host's download slot for the wait asked, up to this
# many seconds; a longer wait gives that request up (digestcrawl.crawl.guard.retryafter).
RETRYAFTER_MAX = 120.0
RETRYAFTER_CODES = [429, 503]  # the statuses whose Retry-After is honoured
DOWNLOADER_MIDDLEWARES = {
    "digestcrawl.crawl.guard.netguard.PrivateAddressGuard": 50,
    "digestcrawl.crawl.incremental.SkipUnchangedArticles": 60,
    # Next to the downloader, before RedirectMiddleware (600) and RetryMiddleware (550) see the
    # outcome: no redirect to another scheme, no retry of a refused DNS answer.
    "digestcrawl.crawl.guard.netguard.DownloadGuard": 650,
    "digestcrawl.crawl.guard.retryafter.RetryAfterMiddleware": 560,
    # Scrapy's, extended in place: a 5xx robots.txt disallows its host (digestcrawl.crawl.guard.robots);
    # cookie jars bounded like a browser's, no public suffix list fetched (digestcrawl.crawl.guard.cookies).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "digestcrawl.crawl.guard.robots.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "digestcrawl.crawl.guard.cookies.BoundedCookiesMiddleware": 700,
    # Before the cache and the download: a redirect back to a URL already visited is refused.
    "digestcrawl.crawl.guard.redirects.StopRedirectLoops": 590,
}
# Cookie jars (digestcrawl.crawl.guard.cookies): bytes of one cookie's name and value, more dropped.
COOKIES_MAX_SIZE = 4096
# Cookies kept per domain; later new ones dropped.
COOKIES_MAX_PER_DOMAIN = 50
# Bytes of a request's Cookie header; cookies that do not fit are not sent.
COOKIES_MAX_HEADER = 8192
# Only http(s) is ever downloaded: no handler for file:, data:, ftp: or s3: URLs, whatever
# slips past the scheme checks (digestcrawl.crawl.guard.netguard).
DOWNLOAD_HANDLERS: dict[str, str | None] = {"file": None, "data": None, "ftp": None, "s3": None}
# DNS answers are checked against NETGUARD_ALLOW before Twisted connects (digestcrawl.crawl.guard.netguard).
TWISTED_DNS_RESOLVER = "digestcrawl.crawl.guard.netguard.GuardedResolver"
# Requests one source may make in a crawl (article pages and sitemap children, newest entries
# first); the rest is counted deferred and fetched by the next run. At the polite delay (about
# 0.6 s a page) two such sources on one host take about 4 minutes. A source's `max_requests`
# overrides it; 0: no cap (digestcrawl.crawl.budget).
SOURCE_MAX_REQUESTS = 200
# Sitemap index levels followed below a source's URL (sitemaps.org allows 1); each child sitemap
# is fetched once per crawl (digestcrawl.crawl.discovery).
SITEMAP_MAX_DEPTH = 2
# Incremental crawls: feeds are revalidated with conditional GETs (ETag / If-Modified-Since);
# stored, unchanged articles are not fetched again.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_DIR = os.environ.get("DIGESTCRAWL_HTTPCACHE_DIR", "httpcache")
HTTPCACHE_IGNORE_HTTP_CODES = [408, 429, 500, 502, 503, 504]
# Stored, unchanged article pages are not downloaded again (digestcrawl.crawl.incremental).
INCREMENTAL_ENABLED = True
# SSRF guard (digestcrawl.crawl.guard.netguard): only public addresses are fetched.
NETGUARD_ENABLED = True
# Private addresses allowed all the same (IPs or CIDRs); env DIGESTCRAWL_NETGUARD_ALLOW, comma-separated.
NETGUARD_ALLOW: list[str] = list(filter(None, os.environ.get("DIGESTCRAWL_NETGUARD_ALLOW", "").split(",")))
# Host verdicts kept for rendered pages and Chromium's own requests.
NETGUARD_HOST_CACHE_SIZE = 10000

# Scrapy's scheduler, whose JOBDIR queue is set aside when a kill or damage made it unreadable
# (digestcrawl.crawl.jobqueue); the distributed profile replaces it with the Redis one.
SCHEDULER = "digestcrawl.crawl.jobqueue.ResumableScheduler"

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.relevance.RelevancePipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.store.StorePipeline": 400,
}
# Lifecycle hooks that touch no item: the run lock (taken when the spider opens) and the digest
# (written when it closes).
EXTENSIONS = {
    # The crawl's one database, found by every component (digestcrawl.store.database).
    "digestcrawl.store.database.Database": 0,
    "digestcrawl.extensions.runlock.RunLock": 100,
    "digestcrawl.extensions.report.SourceReport": 500,
    "digestcrawl.extensions.digest_on_close.DigestOnClose": 900,
    "digestcrawl.extensions.close_before_stop.CloseBeforeStop": 950,  # a signal while closing lets the close finish
}
# Scrapy's remote control (2.19) serves a local HTTP port that runs the Python it is sent, and
# writes the port's token to a file in the user's home: no crawl of ours opens one.
REMOTE_CONTROL_ENABLED = False

# The models file (None: digestcrawl/conf/models.yaml); env DIGESTCRAWL_MODELS_FILE.
DIGESTCRAWL_MODELS_FILE: str | None = os.environ.get("DIGESTCRAWL_MODELS_FILE")
# The sources file (None: digestcrawl/conf/sources.yaml); env DIGESTCRAWL_SOURCES_FILE.
DIGESTCRAWL_SOURCES_FILE: str | None = os.environ.get("DIGESTCRAWL_SOURCES_FILE")

# The calendar of digests and of naive dates given on the command line.
DIGEST_TIMEZONE = "Asia/Taipei"

# Extraction worker processes (digestcrawl.crawl.extraction.pool): extraction is most of the CPU, so
# workers let a crawl use more than one core; one core stays with the crawl process (downloads,
# pipelines, store), which starves if workers take them all. 0 extracts in the crawl process.
EXTRACTION_PROCESSES = max(1, (os.cpu_count() or 1) - 1)
# A worker's peak memory in MB (its libraries, caches and a large page's trees: about 100 after the
# 181 pages of the article benchmark): the pool starts no more workers than half the memory
# available holds at this size; 0: sized by EXTRACTION_PROCESSES alone.
EXTRACTION_WORKER_MEMORY_MB = 150
# A page not extracted within this many seconds is stored with its title and lead only (its worker
# is killed and replaced); 0: no limit. Normal pages take well under a second.
EXTRACTION_TIMEOUT = 30.0
# Pages over any of these caps are not parsed in full (title and lead only): bytes, tags (count of
# "<") and links (count of "<a"); each costs tens of microseconds of extraction per element. 0: no cap.
EXTRACTION_MAX_BYTES = 5 * 1024 * 1024
EXTRACTION_MAX_TAGS = 100_000  # see EXTRACTION_MAX_BYTES
EXTRACTION_MAX_LINKS = 10_000  # see EXTRACTION_MAX_BYTES

# Relevance: minimum alias score (a title hit counts 3, each body hit 1, capped at 5).
RELEVANCE_MIN_SCORE = 1

# Dedup: Jaccard similarity from which two texts are near-duplicates.
DEDUP_NEAR_THRESHOLD = 0.6
# Dedup: how many days back stored articles are compared.
DEDUP_LOOKBACK_DAYS = 7

# Storage: any SQLAlchemy URL; env DIGESTCRAWL_STORE_URL, else DATABASE_URL (the conventional name,
# which earlier releases read).
STORE_URL = (os.environ.get("DIGESTCRAWL_STORE_URL") or os.environ.get("DATABASE_URL")
             or "sqlite:///data/digestcrawl.sqlite3")
# Seconds a SQLite connection waits for another writer's lock.
STORE_BUSY_TIMEOUT = 5.0
# Retries of an item the database failed to store, before it is spooled.
STORE_RETRY_TIMES = 3
# Seconds before the first retry, doubled at each.
STORE_RETRY_BACKOFF = 1.0
# Articles written in one transaction.
STORE_BATCH_SIZE = 50
# Seconds a batch waits to fill before it is written. Each item's response is held meanwhile
# (SCRAPER_SLOT_MAX_ACTIVE_SIZE): at 0.2 s the responses waiting for their batch filled it and
# paused the downloads, and the extraction worker waited for pages a third of a 1,000-page
# crawl (issue 25: the crawl took 25% longer).
STORE_BATCH_WAIT = 0.05
# Items the database could not take, replayed by the next run; env DIGESTCRAWL_SPOOL_DIR.
STORE_SPOOL_DIR = os.environ.get("DIGESTCRAWL_SPOOL_DIR", "data/spool")

# Digest: written when a crawl closes (else only by `scrapy digest`).
DIGEST_ON_CLOSE = True
# Write the digest after a partial crawl too (stopped by a signal or a CloseSpider limit).
DIGEST_ON_PARTIAL = False
# The Jekyll site the posts are written into; env DIGEST_SITE_DIR.
DIGEST_SITE_DIR = os.environ.get("DIGEST_SITE_DIR", "data/site")
# Copy the shipped Jekyll skeleton into DIGEST_SITE_DIR when it has no _config.yml (no file is overwritten).
DIGEST_SITE_SKELETON = True
# Build the site (jekyll build into DIGEST_SITE_DIR/_site) after the digests: those of a crawl's
# close, of `scrapy daily` and of `scrapy digest` (their --build); env DIGESTCRAWL_SITE_BUILD=1.
DIGEST_SITE_BUILD = os.environ.get("DIGESTCRAWL_SITE_BUILD") == "1"
# The posts' language: zh-TW, zh-CN, en or ja.
DIGEST_LANGUAGE = "zh-TW"
# The posts' Jekyll layout.
DIGEST_LAYOUT = "post"
# Stories a post shows.
DIGEST_MAX_STORIES = 5
# auto (the LLM when LLM_API_KEY is set), llm or extractive.
DIGEST_SUMMARIZER = "auto"

# LLM summarizer (any OpenAI-compatible endpoint): the API key, env OPENAI_API_KEY; none: extractive.
LLM_API_KEY = os.environ.get("OPENAI_API_KEY")
# The endpoint (None: OpenAI's); env OPENAI_BASE_URL.
LLM_BASE_URL = os.environ.get("OPENAI_BASE_URL")
# The model asked; env DIGESTCRAWL_LLM_MODEL.
LLM_MODEL = os.environ.get("DIGESTCRAWL_LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT = 60.0  # read timeout of one request, seconds
LLM_CONNECT_TIMEOUT = 10.0  # connect timeout of one request, seconds
LLM_DEADLINE = 60.0  # all of one digest's LLM calls, retries and waits; then the extractive digest
LLM_MAX_RETRIES = 3  # retries of one failed call, within LLM_DEADLINE
LLM_TOKEN_BUDGET = 12000  # prompt tokens of one call
LLM_TEMPERATURE = 0.2  # sampling temperature
# Version of the prompts, part of the answer cache's key (None: the shipped prompts' version).
LLM_PROMPT_VERSION: str | None = None
# One batched call, from titles, confirms or splits the shown stories' loosely held members (with the LLM only).
LLM_MERGE_CHECK = True
# A member is loosely held when its mean same-story probability with the rest is under the merge bar plus this.
LLM_MERGE_BAND = 0.2

# One run per spider, model and day at a time (a lock row in the database).
RUN_LOCK_ENABLED = True
# Seconds a lock outlives its run's last heartbeat (one every third of it): how long a run that
# died, or lost its database, keeps the next one out.
RUN_LOCK_TTL = 120.0

# Run monitors (digestcrawl.ops.monitors): share of a source's requests answered 403/429 that fails `blocked`.
MONITOR_BLOCKED_SHARE = 0.5
# Share of a source's pages without article text that fails `layout_changed`.
MONITOR_EXTRACTION_SHARE = 0.5
# Past runs read for `source_silent`.
MONITOR_HISTORY_RUNS = 7

# Run report: per-source counts, outcome and exit code as JSON, written when a spider closes
# (None: not written; `scrapy jobs` lists them); env DIGESTCRAWL_REPORT_DIR.
REPORT_DIR: str | None = os.environ.get("DIGESTCRAWL_REPORT_DIR", "data/reports")

# Pages marked `render: playwright` go through Debian's Chromium; other sources start no browser.
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
}

LOG_FORMATTER = "digestcrawl.ops.logformatter.OneLineLogFormatter"
# Distributed profile (digestcrawl.crawl.distributed.profile): on, the scheduler and dupefilter are
# scrapy-redis's, in Redis (REDIS_URL), so any number of workers share one crawl; the store must
# then be PostgreSQL (STORE_URL). Env DIGESTCRAWL_DISTRIBUTED=1.
DIGESTCRAWL_DISTRIBUTED = os.environ.get("DIGESTCRAWL_DISTRIBUTED") == "1"
# Distributed: the crawl's name; its Redis keys carry it, so a new id starts a fresh queue. Env
# DIGESTCRAWL_CRAWL_ID.
DIGESTCRAWL_CRAWL_ID = os.environ.get("DIGESTCRAWL_CRAWL_ID", "default")
# The Scrapyd job this process runs, part of the run lock's holder name and of the run report's:
# Scrapyd's `_job` spider argument (digestcrawl.crawl.context), else env SCRAPY_JOB or SCRAPYD_JOB.
DIGESTCRAWL_JOB: str | None = os.environ.get("SCRAPY_JOB") or os.environ.get("SCRAPYD_JOB")
# Distributed: a worker's entry in the crawl's worker registry expires this long after its last
# heartbeat (digestcrawl.crawl.distributed.workers), so a crashed worker never blocks the digest.
DIGESTCRAWL_WORKER_TTL = 30.0
# Distributed: how long an idle worker waits for an unreachable Redis before it closes with
# reason redis_lost (digestcrawl.crawl.distributed.scheduler).
SCHEDULER_REDIS_DOWN_TIMEOUT = 300.0
# Distributed: the Redis key whose loss tells that Redis lost the queue (%(spider)s: the spider's
# name; None: digestcrawl:<DIGESTCRAWL_CRAWL_ID>:%(spider)s:epoch, set by the profile).
SCHEDULER_EPOCH_KEY: str | None = None
# scrapy-redis's server when distributed; env REDIS_URL.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ADDONS = {
    "digestcrawl.crawl.distributed.profile.DistributedProfile": 0,
    # The crawl context from the spider's arguments, and the settings it implies (digestcrawl.crawl.context).
    "digestcrawl.crawl.context.ContextAddon": 10,
}

FEED_EXPORT_ENCODING = "utf-8"
# The MinHash signature is for the database, not for feed exports. An item exports the fields it
# has: an article's, or a repository reading's (repo, model, day, downloads, likes).
FEED_EXPORT_FIELDS = ["url", "source", "category", "title", "text", "snippet", "locale", "language",
                      "author", "site_name", "publisher", "feed_url", "published", "published_from",
                      "modified", "modified_from", "fetched", "headline_only", "models", "score",
                      "first_party", "text_hash", "duplicate_of", "similarity",
                      "repo", "model", "day", "downloads", "likes"]
LOG_LEVEL = "INFO"

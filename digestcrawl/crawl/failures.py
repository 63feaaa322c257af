"""Why a download failed, as one reason per kind of fault, so a run report tells a slow site
from a dead one, an oversized page or a redirect loop (``errors/<reason>`` per source)."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)

from digestcrawl.crawl.guard.redirects import RedirectLoop

REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadTimeoutError, "timeout"),
    (DownloadCancelledError, "too_large"),  # DOWNLOAD_MAXSIZE, while downloading
    (ResponseDataLossError, "data_loss"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (CannotResolveHostError, "dns"),
    (RedirectLoop, "redirect_loop"),  # back to a URL it went through (digestcrawl.crawl.guard.redirects)
)


def download_error_reason(error: BaseException | None) -> str:
    """The counted reason for a failed download (``download`` when no kind fits)."""
    for kind, reason in REASONS:
        if isinstance(error, kind):
            return reason
    if isinstance(error, IgnoreRequest):
        # Scrapy's middlewares say why only in the message.
        message = str(error)
        if "DOWNLOAD_MAXSIZE" in message:  # HttpCompressionMiddleware: a decompression bomb
            return "too_large"
        if "max redirections" in message:  # RedirectMiddleware: an endless chain
            return "redirect_loop"
    return "download"

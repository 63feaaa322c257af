"""Each kind of download fault has its own counted reason."""

from __future__ import annotations

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)

from digestcrawl.crawl.failures import download_error_reason


@pytest.mark.parametrize(("error", "reason"), [
    (DownloadTimeoutError("Getting x took longer than 5 seconds."), "timeout"),
    (DownloadCancelledError("Cancelling download of x: expected response size (52428800) larger than "
                            "download max size (10485760)."), "too_large"),
    (IgnoreRequest("Ignored response <200 x> because its body (204 B compressed, 10485761 B decompressed "
                   "so far) exceeded DOWNLOAD_MAXSIZE (10485760 B) during decompression."), "too_large"),
    (IgnoreRequest("max redirections reached"), "redirect_loop"),
    (ResponseDataLossError("Getting x failed: data loss"), "data_loss"),
    (DownloadConnectionRefusedError("Connection was refused by other side"), "connection_refused"),
    (CannotResolveHostError("DNS lookup failed: no results for hostname lookup: x."), "dns"),
    (DownloadFailedError("Connection lost"), "download"),
    (IgnoreRequest("something else"), "download"),
    (ValueError("anything"), "download"),
])
def test_download_error_reason(error: BaseException, reason: str) -> None:
    assert download_error_reason(error) == reason

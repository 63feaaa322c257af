"""What a crawl refuses and how it paces itself, as Scrapy downloader middlewares: the address
guard (netguard), robots.txt, bounded cookie jars, redirect loops, Retry-After."""

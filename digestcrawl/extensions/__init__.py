"""Scrapy extensions (EXTENSIONS), the top layer: they watch a whole crawl and may use every
package below them (store, crawl, digest, ops). Nothing else in the project imports them; they
find each other with ``crawler.get_extension``."""

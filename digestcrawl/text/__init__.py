"""Bytes to a clean article: decoding, extraction, dates, relevance, duplicates, walls.
"""

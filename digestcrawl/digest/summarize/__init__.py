"""Summarize stories: the LLM (prompt, grounding, cache) or offline (extractive, LexRank)."""

from digestcrawl.digest.summarize.cache import LLMCache
from digestcrawl.digest.summarize.extractive import ExtractiveSummarizer
from digestcrawl.digest.summarize.llm import LLMConfig, LLMSummarizer
from digestcrawl.digest.summarize.prompt import estimate_tokens

__all__ = ["ExtractiveSummarizer", "LLMCache", "LLMConfig", "LLMSummarizer", "estimate_tokens"]

"""Summarize stories: the LLM (prompt, grounding, cache) or offline (extractive, LexRank)."""

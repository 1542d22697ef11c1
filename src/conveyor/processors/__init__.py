"""Processors: one job per element (parse, extract, llm, python)."""

"""Helpers shared by the test tiers: the corpus, a live server, an in-process app."""

"""Use cases shared by every API face and the CLI."""

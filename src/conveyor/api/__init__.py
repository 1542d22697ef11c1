"""HTTP API: one router package per face, mapped onto the shared services."""

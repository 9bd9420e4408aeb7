"""Long-term memory: markdown files as the truth, a SQLite index, and recall."""

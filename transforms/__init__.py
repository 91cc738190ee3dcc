"""Pure stages of the pipeline: extraction, dates, URLs, tagging, dedup and clustering."""

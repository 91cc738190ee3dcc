SELECT started_at AS run_started_at, source, requests, items, errors, blocked, flagged,
       flag_reason, run_id, feed_entries, skipped_known, parse_failures, duration_s
FROM crawl_runs

-- Example queries on the marts (SQLite and PostgreSQL). What one row of each mart is, and its
-- columns: warehouse/marts/<mart>.yml. tests/warehouse runs every query here against the marts.

-- Top entities in AI-in-HK news, latest week first
SELECT week_start, entity_name, entity_type, articles
FROM mart_weekly_entity_mentions ORDER BY week_start DESC, articles DESC LIMIT 20;

-- Sector share by week
SELECT week_start, sector, articles, share FROM mart_weekly_sector_share ORDER BY week_start, share DESC;

-- Entities that spiked against their 4-week baseline
SELECT week_start, entity_name, articles, baseline, score FROM mart_entity_spikes ORDER BY score DESC LIMIT 10;

-- New names this week
SELECT week_start, entity_name, entity_type, first_seen_at, articles
FROM mart_new_entities ORDER BY week_start DESC, articles DESC;

-- Who appears together
SELECT week_start, entity_a, entity_b, articles FROM mart_entity_cooccurrence ORDER BY articles DESC LIMIT 20;

-- Source health: flagged crawls
SELECT run_started_at, source, requests, items, errors, blocked, flag_reason
FROM mart_source_health WHERE flagged ORDER BY run_started_at DESC;

-- Why was an article tagged with an entity? (evidence = field + character offsets)
SELECT a.title, e.name, ae.mentions, ae.evidence
FROM article_entities ae JOIN articles a ON a.id = ae.article_id JOIN entities e ON e.id = ae.entity_id
WHERE e.id = 'hkma' LIMIT 5;

WITH mentions AS (
    SELECT ae.entity_id, a.id AS article_id, a.published_at, a.published_week
    FROM article_entities ae JOIN articles a ON a.id = ae.article_id
    WHERE a.relevant = TRUE AND a.published_week IS NOT NULL),
firsts AS (
    SELECT entity_id, MIN(published_week) AS first_week, MIN(published_at) AS first_seen_at
    FROM mentions GROUP BY entity_id)
SELECT f.first_week AS week_start, e.id AS entity_id, e.name AS entity_name, e.type AS entity_type,
       f.first_seen_at, COUNT(DISTINCT m.article_id) AS articles,
       e.zh_hant AS entity_name_zh_hant, e.zh_hans AS entity_name_zh_hans
FROM firsts f
JOIN entities e ON e.id = f.entity_id
JOIN mentions m ON m.entity_id = f.entity_id AND m.published_week = f.first_week
GROUP BY f.first_week, e.id, e.name, e.type, f.first_seen_at, e.zh_hant, e.zh_hans

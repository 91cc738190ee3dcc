SELECT a.published_week AS week_start, e.id AS entity_id, e.name AS entity_name, e.type AS entity_type,
       COUNT(DISTINCT a.id) AS articles,
       COUNT(DISTINCT COALESCE(a.cluster_id, 'a' || CAST(a.id AS VARCHAR(20)))) AS clusters,
       e.zh_hant AS entity_name_zh_hant, e.zh_hans AS entity_name_zh_hans
FROM article_entities ae
JOIN articles a ON a.id = ae.article_id
JOIN entities e ON e.id = ae.entity_id
WHERE a.relevant = TRUE AND a.published_week IN :weeks AND e.status = 'kb'
GROUP BY a.published_week, e.id, e.name, e.type, e.zh_hant, e.zh_hans

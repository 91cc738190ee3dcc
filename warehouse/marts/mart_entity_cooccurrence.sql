SELECT a.published_week AS week_start, x.entity_id AS entity_a, y.entity_id AS entity_b,
       COUNT(DISTINCT a.id) AS articles
FROM article_entities x
JOIN article_entities y
  ON y.article_id = x.article_id AND x.entity_id < y.entity_id{% if dialect == "postgresql" %} COLLATE "C"{% endif %}
JOIN articles a ON a.id = x.article_id
WHERE a.relevant = TRUE AND a.published_week IN :weeks
  AND x.entity_id NOT LIKE 'cand:%' AND y.entity_id NOT LIKE 'cand:%'
GROUP BY a.published_week, x.entity_id, y.entity_id

SELECT published_week AS week_start, source,
       SUM(CASE WHEN relevant = TRUE THEN 1 ELSE 0 END) AS articles, COUNT(*) AS all_articles
FROM articles WHERE published_week IN :weeks
GROUP BY published_week, source

SELECT a.published_week AS week_start, s.sector AS sector, COUNT(DISTINCT a.id) AS articles,
       ROUND(1.0 * COUNT(DISTINCT a.id) / t.n, 4) AS share
FROM article_sectors s
JOIN articles a ON a.id = s.article_id
JOIN (SELECT published_week, COUNT(*) AS n FROM articles
      WHERE relevant = TRUE AND published_week IN :weeks GROUP BY published_week) t
  ON t.published_week = a.published_week
WHERE a.relevant = TRUE AND a.published_week IN :weeks
GROUP BY a.published_week, s.sector, t.n

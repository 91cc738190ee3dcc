"""Plain-text trend tables for the terminal (`hkai trends`, the end of `make demo`)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import text

from warehouse.db import get_engine


def print_trends(weeks: int = 5, top: int = 8) -> None:
    engine = get_engine()
    with engine.connect() as conn:
        week_rows = [
            str(r[0])[:10]
            for r in conn.execute(
                text(
                    "SELECT DISTINCT week_start FROM mart_weekly_source_volume ORDER BY week_start DESC LIMIT :n"
                ),
                {"n": weeks},
            )
        ][::-1]
        volume = conn.execute(
            text(
                "SELECT week_start, SUM(articles), SUM(all_articles) FROM mart_weekly_source_volume "
                "GROUP BY week_start ORDER BY week_start"
            )
        ).all()
        mentions = conn.execute(
            text("SELECT week_start, entity_name, articles FROM mart_weekly_entity_mentions")
        ).all()
        sectors = conn.execute(text("SELECT week_start, sector, share FROM mart_weekly_sector_share")).all()
        sources = conn.execute(
            text(
                "SELECT source, SUM(articles), SUM(all_articles) FROM mart_weekly_source_volume GROUP BY source "
                "ORDER BY source"
            )
        ).all()

    print("\nWeekly volume (week starting Monday, HKT): AI-in-HK articles / all articles")
    for week, relevant, total in volume:
        print(f"  {str(week)[:10]}  {int(relevant):>4} / {int(total):>5}")

    table: dict[str, dict[str, int]] = defaultdict(dict)
    for week, name, articles in mentions:
        table[name][str(week)[:10]] = int(articles)
    ranked = sorted(table, key=lambda n: -sum(table[n].get(w, 0) for w in week_rows))[:top]
    print(f"\nTop entities by week (articles mentioning them; last {len(week_rows)} weeks)")
    print("  " + f"{'entity':<44}" + "".join(f"{w[5:]:>7}" for w in week_rows))
    for name in ranked:
        print("  " + f"{name[:43]:<44}" + "".join(f"{table[name].get(w, 0):>7}" for w in week_rows))

    shares: dict[str, dict[str, float]] = defaultdict(dict)
    for week, sector, share in sectors:
        shares[sector][str(week)[:10]] = float(share)
    print("\nSector share of AI-in-HK articles by week (%)")
    print("  " + f"{'sector':<16}" + "".join(f"{w[5:]:>7}" for w in week_rows))
    for sector in sorted(shares, key=lambda s: -sum(shares[s].values())):
        print("  " + f"{sector:<16}" + "".join(f"{shares[sector].get(w, 0) * 100:>7.0f}" for w in week_rows))

    print("\nArticles per source (AI-in-HK / all)")
    for source, relevant, total in sources:
        print(f"  {source:<16} {int(relevant):>4} / {int(total):>5}")

"""One module per source. Each declares a `Source` (URLs, politeness, and `SiteRules`: selectors, furniture
to drop, payload readers) on a base spider. Everything particular to one site lives in its module."""

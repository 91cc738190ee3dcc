"""One module per source. Each declares a `Source` (URLs, selectors, politeness) on a base spider."""

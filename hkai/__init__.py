"""Hong Kong AI news tracker: command-line entry point, settings and the replay server."""

__version__ = "0.1.0"

"""The bottom layer: settings every other package reads, and nothing else."""

"""Venue Suite host: knows nothing of tickets or cards."""

__version__ = "0.1.0"

"""Feature plugins of Venue Suite (each a package: plugins.<id>)."""

"""Database: one declarative Base, engine factory, unit of work, migrations."""

"""The agency's case store: SQLAlchemy models, the case repository and the staff API."""

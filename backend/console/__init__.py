"""The staff console at /console: server-rendered pages (Jinja2 + htmx) over the accounts and content services."""

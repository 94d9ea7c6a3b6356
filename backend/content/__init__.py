"""Content curation: procedures stored in the case database with drafts, review, history and publishing.

The console pages call ``backend.content.service`` only; the other modules each do one job.
"""

"""The knowledge base: staff-curated procedure content and the search library over it."""

"""Every concrete layout: the legacy fixed-width files as TOML layout files (``*.toml``) wherever
the declarative form can say them, and as Python modules for what it cannot (the 全銀 family's
shared records in ``zengin/``, the inter-system layouts with their control totals)."""

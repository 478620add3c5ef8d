"""What people and machines read about a file: the per-file report (``reports``: one model,
rendered as JSON, CSV, HTML and text) and the audit log (``audit``: structlog JSON lines,
personal data masked)."""

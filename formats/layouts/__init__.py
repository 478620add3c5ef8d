"""Every concrete layout: TOML layout files (``<id>.toml``) wherever the declarative form can say
them — the built-in collection-intake, refund-orders, levy-assessment and address
(formats.registry.BUILT_IN_FILES) and the channels' defaults (cvs, mpn, ocr, eltax) — and Python
modules for what it cannot: the 全銀 family's shared records and rules in ``zengin/``, the MICJET
files' 個人番号 rule in ``micjet.py``, and ``payment_info.py``, whose two layouts (収納情報 and
収納消込結果) share their data, trailer and end records."""

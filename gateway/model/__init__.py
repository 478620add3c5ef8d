"""The canonical model: the records every format is normalised into (``records``) and how a
format's decoded values become them (``normalise``). Imports only ``formats``: adapters and
renderers use it without importing the data path."""

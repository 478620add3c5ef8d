"""How one city is wired: the TOML configuration validated by pydantic (``settings``), with the
tables of its parts (the console's in ``console``, retention's in ``retention``)."""

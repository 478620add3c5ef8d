"""The ways in: `gateway run` (``service``), the ``gateway`` command line (``cli`` and its
``commands``), and the operators' web console (``console``)."""

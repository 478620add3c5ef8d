"""What happens to a file: claim, validate, normalise, route (``routing``), post once
(``posting``), guard individual numbers (``protection``), render and deliver (``pipeline``), and
erase after the retention period (``retention``)."""

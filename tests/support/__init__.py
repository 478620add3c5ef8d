"""Support code for the tests that is independent of the code under test.

Nothing in this package imports the project (formats/, gateway/, adapters/, spool/):
the hand-written samples in tests/data are assembled with it, and they must stay the
ground truth the project is tested against, not a copy of what it does.
"""

"""The one owner of the ledger database: files and deliveries (``ledger``), postings, the SFTP
transfer journal and alerts (``transfers``), the console's users and sessions (``users``), and
the erasures of retention (``erasures``), each opening the file and writing in transactions
through ``db``. No module outside this package writes SQL (tests/integration/test_storage.py checks it)."""

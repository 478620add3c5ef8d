"""The one owner of the ledger database: files and deliveries (``ledger``), postings, the SFTP
transfer journal and alerts (``transfers``), the console's users and sessions (``users``), and
the erasures of retention. No module outside this package writes SQL."""

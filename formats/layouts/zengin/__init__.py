"""全銀協 fixed-length bank files: 91 口座振替 and 21 総合振込."""

from formats.layouts.zengin.debit import DEBIT_91
from formats.layouts.zengin.transfer import TRANSFER_21

__all__ = ["DEBIT_91", "TRANSFER_21"]

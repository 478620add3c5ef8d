"""Canonical models: what flows through the gateway, whatever channel it came from.

One :class:`Payment` is one payment or debit outcome against a notice. Field names
follow the national standard's 収納 items where they exist
(../shared/reference/standard-data.md): 消込特定キー (reconciliation_key), 通知書番号,
科目, 賦課年度, 期別, 本税 / 延滞金 / 督促手数料 kept apart, 領収日 (receipt_date, the
day the money was paid or debited) and 収入日 (revenue_date, the day it is booked),
納付チャネル (channel kind). Direct-debit results, convenience-store 速報/確報,
Pay-easy, OCR 済通 and eLTAX all become this one model.

Account numbers are personal: ``BankAccount`` shows itself masked; only renderers
that a route allows to carry them read ``number``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from formats.checkdigits import is_valid_my_number
from formats.masking import mask

__all__ = ["BankAccount", "IndividualNumber", "NumberLinkage", "Payment", "RefundOrder", "PaymentKind", "PaymentStatus",
           "RECORD_KINDS", "SourceRef", "individual_numbers_in"]


def _valid_individual_number(value: str) -> str:
    if not is_valid_my_number(value):
        # the value itself never goes into the message
        raise ValueError("an individual number (個人番号) of 12 digits with a valid check digit expected")
    return value


#: 個人番号: 12 digits whose last is the check digit (番号法施行令). Fields of this type are
#: what gateway/protection.py guards: they flow only where a route declares a legal basis.
IndividualNumber = Annotated[str, AfterValidator(_valid_individual_number)]

#: 納付チャネル: how the money came.
PaymentKind = Literal["direct-debit", "convenience-store", "pay-easy", "ocr", "eltax"]
#: paid = money received (振替済, 確報 …); failed = a debit that did not happen (振替不能);
#: preliminary = 速報 (not money yet); cancelled = 速報取消.
PaymentStatus = Literal["paid", "failed", "preliminary", "cancelled"]


class SourceRef(BaseModel):
    """Where a record came from: the ledger's file id, the channel, the physical record."""

    model_config = ConfigDict(frozen=True)

    file_id: str
    channel: str
    record: int = Field(ge=1, description="physical record number, 1-based")
    offset: int = Field(ge=0, description="byte offset of the record in the file")


class BankAccount(BaseModel):
    """A bank account (振替口座). Shown masked: only the last 3 digits of the number."""

    model_config = ConfigDict(frozen=True)

    bank_code: str = Field(pattern=r"^\d{4}$", description="金融機関コード")
    branch_code: str = Field(pattern=r"^\d{3}$", description="店番")
    account_type: str = Field(description="預金種目 (口座種別)")
    number: str = Field(pattern=r"^\d{1,8}$", description="口座番号 (personal)")

    @property
    def masked_number(self) -> str:
        return mask(self.number, "account")

    def __repr__(self) -> str:
        return f"BankAccount({self.bank_code}-{self.branch_code} {self.account_type} {self.masked_number})"

    __str__ = __repr__


class Payment(BaseModel):
    """One payment or debit outcome against a notice, in integer yen."""

    model_config = ConfigDict(frozen=True)
    record: ClassVar[str] = "payment"
    individual_number_fields: ClassVar[tuple[str, ...]] = ()

    kind: PaymentKind
    status: PaymentStatus
    reconciliation_key: str = Field(
        min_length=1, description="消込特定キー: 顧客番号 (口座振替), 納付番号 (Pay-easy), 納付書番号 …")
    payment_key: str | None = Field(
        default=None,
        description="収納特定キー: identifies this payment event across 速報/確報/取消 and re-sent files "
                    "(e.g. barcode + 収納日時 + 店舗; 仕向センタ + 処理年月日 + 通番)")
    resident_code: str | None = Field(default=None, description="住民コード / 宛名番号")
    notice_number: str | None = Field(default=None, description="通知書番号")
    tax_item: str | None = Field(default=None, description="科目 (業務詳細コード)")
    fiscal_year: int | None = Field(default=None, description="賦課年度")
    instalment: str | None = Field(default=None, description="期別")
    principal: int = Field(ge=0, description="本税 (yen)")
    late_fee: int = Field(default=0, ge=0, description="延滞金 (yen)")
    dunning_fee: int = Field(default=0, ge=0, description="督促手数料 (yen)")
    receipt_date: dt.date | None = Field(default=None, description="領収日: paid or debited on")
    revenue_date: dt.date | None = Field(default=None, description="収入日: booked on")
    result_code: str | None = Field(default=None, description="結果コード (振替結果コード …)")
    result_meaning: str | None = None
    account: BankAccount | None = None
    source: SourceRef

    @property
    def total(self) -> int:
        return self.principal + self.late_fee + self.dunning_fee

    @property
    def notice_key(self) -> str:
        """Which notice was paid: the key double payments are found by, across channels.

        The 通知書番号 when the channel carries it, else the 消込特定キー: a city's keys name one
        notice and instalment (its 顧客番号 for direct debit and the 納付番号 in its barcodes are
        the same key), while the tax item and year are spelt differently by each channel.
        """
        return self.notice_number or self.reconciliation_key


class NumberLinkage(BaseModel):
    """団体内統合宛名番号 ↔ 住民コード ↔ 個人番号, from the MICJET number-linkage server.

    The only canonical record that carries an individual number; its ``repr`` never shows it,
    and a validation error never quotes the value (``hide_input_in_errors``).
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)
    record: ClassVar[str] = "number-linkage"
    individual_number_fields: ClassVar[tuple[str, ...]] = ("individual_number",)

    process_kind: str = Field(description="処理区分 (1 新規, 2 変更, 3 削除)")
    integrated_address_number: str = Field(description="団体内統合宛名番号")
    resident_code: str = Field(description="住民コード")
    individual_number: IndividualNumber | None = Field(default=None, description="個人番号 (guarded)", repr=False)
    change_date: dt.date | None = Field(default=None, description="異動日")
    legal_basis: str = Field(description="利用事務: the 番号法 別表第一 item the linkage was made for")
    source: SourceRef


class RefundOrder(BaseModel):
    """A refund (還付) the collection system ordered: money to a payee's registered account."""

    model_config = ConfigDict(frozen=True)
    record: ClassVar[str] = "refund-order"
    individual_number_fields: ClassVar[tuple[str, ...]] = ()

    refund_id: str = Field(description="還付番号")
    resident_code: str = Field(description="住民コード")
    account: BankAccount
    payee_kana: str = Field(description="受取人名カナ (as the collection system wrote it)")
    amount: int = Field(gt=0, description="還付金額 (yen)")
    transfer_date: dt.date = Field(description="振込指定日")
    source: SourceRef


#: Every kind of canonical record, by the name routes use (``when.record``).
RECORD_KINDS: dict[str, type[BaseModel]] = {"payment": Payment, "number-linkage": NumberLinkage,
                                            "refund-order": RefundOrder}


def individual_numbers_in(record: BaseModel) -> list[str]:
    """The names of the record's individual-number fields that hold a value."""
    return [name for name in getattr(record, "individual_number_fields", ()) if getattr(record, name, None)]

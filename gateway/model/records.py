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
from typing import Annotated, ClassVar, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from formats.checkdigits import is_valid_my_number
from formats.masking import mask

__all__ = [
    "AddressChange",
    "Assessment",
    "BankAccount",
    "Canonical",
    "PublicFundAccount",
    "RevenuePosting",
    "IndividualNumber",
    "NumberLinkage",
    "Payment",
    "RefundOrder",
    "PaymentKind",
    "PaymentStatus",
    "RECORD_KINDS",
    "SourceRef",
    "individual_numbers_in",
]


def _valid_individual_number(value: str) -> str:
    if not is_valid_my_number(value):
        # the value itself never goes into the message
        raise ValueError("an individual number (個人番号) of 12 digits with a valid check digit expected")
    return value


#: 個人番号: 12 digits whose last is the check digit (番号法施行令). Fields of this type are
#: what gateway/config/protection.py guards: they flow only where a route declares a legal basis.
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


class Canonical(Protocol):
    """What routing reads of every canonical record (each model below has a ``source``)."""

    @property
    def source(self) -> SourceRef: ...


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
        min_length=1, description="消込特定キー: 顧客番号 (口座振替), 納付番号 (Pay-easy), 納付書番号 …"
    )
    payment_key: str | None = Field(
        default=None,
        description="収納特定キー: identifies this payment event across 速報/確報/取消 and re-sent files "
        "(e.g. barcode + 収納日時 + 店舗; 仕向センタ + 処理年月日 + 通番)",
    )
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

    #: the amounts the payment's total is the sum of
    total_fields: ClassVar[tuple[str, ...]] = ("principal", "late_fee", "dunning_fee")

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in self.total_fields)

    @property
    def notice_key(self) -> str:
        """Which notice was paid: the key double payments are found by, across channels.

        The 通知書番号 when the channel carries it, else the 消込特定キー: a city's keys name one
        notice and instalment (its 顧客番号 for direct debit and the 納付番号 in its barcodes are
        the same key), while the tax item and year are spelt differently by each channel.
        """
        return payment_notice_key(self.notice_number, self.reconciliation_key)


def payment_notice_key(notice_number: str | None, reconciliation_key: str) -> str:
    """:attr:`Payment.notice_key` from its two fields (the batch path computes it from columns)."""
    return notice_number or reconciliation_key


def instalment_notice_key(record: str, notice_number: str) -> str:
    """:attr:`_NoticeInstalment.notice_key` from its fields (the batch path computes it from columns)."""
    return f"{record}:{notice_number}"


def instalment_posting_key(record: str, instalment: str, seq: int) -> str:
    """:attr:`_NoticeInstalment.posting_key`: one version (its SEQ) of an instalment's record."""
    return f"{record}:{instalment}:{seq}"


def instalment_key(municipality_code: str, notice_number: str, tax_item: str, fiscal_year: int, instalment: str) -> str:
    """:attr:`_NoticeInstalment.instalment_key` from its fields (the batch path computes it from columns)."""
    return f"{municipality_code}:{notice_number}:{tax_item}:{fiscal_year}:{instalment}"


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


class _NoticeInstalment(BaseModel):
    """What the levy and collection files say of one notice and instalment (期別の特定キー)."""

    model_config = ConfigDict(frozen=True)
    individual_number_fields: ClassVar[tuple[str, ...]] = ()
    record: ClassVar[str]  # set by each kind: "assessment", "revenue-posting"

    municipality_code: str = Field(description="利用団体コード")
    resident_code: str = Field(description="住民コード")
    notice_number: str = Field(description="納付書番号 (通知書番号)")
    accounting_year: int = Field(description="会計年度")
    fiscal_year: int = Field(description="賦課年度")
    tax_item: str = Field(description="科目")
    instalment: str = Field(description="期別")

    #: the field numbering the versions of one instalment's record (each version is posted once)
    posting_seq: ClassVar[str]

    @property
    def instalment_key(self) -> str:
        return instalment_key(
            self.municipality_code, self.notice_number, self.tax_item, self.fiscal_year, self.instalment
        )

    @property
    def posting_key(self) -> str:
        """This version of the instalment's record: ``<record>:<instalment key>:<its SEQ>``."""
        return instalment_posting_key(self.record, self.instalment_key, getattr(self, self.posting_seq))

    #: the amounts the record's total is the sum of
    total_fields: ClassVar[tuple[str, ...]]

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in self.total_fields)

    @property
    def notice_key(self) -> str:
        return instalment_notice_key(self.record, self.notice_number)


class Assessment(_NoticeInstalment):
    """One 調定 (assessment) of a notice and instalment, from a levy system (formats/layouts/levy-assessment.toml).

    ``assessed_amount`` is the amount *after* the change (a 更正 carries the new amount)."""

    record: ClassVar[str] = "assessment"
    #: this version of the instalment's assessment (調定履歴SEQ): sent to the collection system once
    posting_seq: ClassVar[str] = "assessment_seq"

    source_system: str = Field(description="送信元の賦課システム")
    assessment_kind: str = Field(description="調定区分")

    total_fields: ClassVar[tuple[str, ...]] = ("assessed_amount",)

    assessed_amount: int = Field(ge=0, description="調定額 (yen, after the change)")
    due_date: dt.date = Field(description="納期限")
    statutory_due_date: dt.date | None = Field(default=None, description="法定納期限")
    payment_method: str = Field(description="納付方法")
    change_reason: str | None = Field(default=None, description="異動事由")
    change_date: dt.date = Field(description="異動日")
    assessment_seq: int = Field(description="調定履歴SEQ")
    source: SourceRef


class RevenuePosting(_NoticeInstalment):
    """One posting (収納情報) of the collection system's reconciliation run, for the levy
    department of its 科目 (formats/layouts/payment_info.py)."""

    record: ClassVar[str] = "revenue-posting"
    #: this entry of the instalment's revenue history (収入履歴SEQ): sent to the department once
    posting_seq: ClassVar[str] = "revenue_seq"

    revenue_kind: str = Field(description="収入区分 (1 収入, 2 収入取消, 3 充当)")
    channel_kind: str = Field(description="納付区分")
    principal: int = Field(ge=0, description="収入額")
    late_fee: int = Field(ge=0, description="収入延滞金")
    dunning_fee: int = Field(ge=0, description="収入督促手数料")
    receipt_date: dt.date = Field(description="納付日 (領収日)")
    revenue_date: dt.date = Field(description="日計日 (収入日)")
    paid_in_full: str = Field(description="完納フラグ")
    revenue_seq: int = Field(description="収入履歴SEQ")
    reconciliation_key: str = Field(description="消込特定キー")
    source: SourceRef

    total_fields: ClassVar[tuple[str, ...]] = ("principal", "late_fee", "dunning_fee")


class AddressChange(BaseModel):
    """One 宛名 change from the address system (formats/layouts/address.toml). Personal throughout:
    its ``repr`` shows the record's place, never names or addresses."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)
    record: ClassVar[str] = "address-change"
    individual_number_fields: ClassVar[tuple[str, ...]] = ()

    municipality_code: str
    serial: int = Field(description="連番")
    resident_code: str = Field(description="住民コード")
    change_kind: str = Field(description="異動区分")
    change_reason: str = Field(description="異動事由コード")
    change_date: dt.date = Field(description="異動日")
    resident_kind: str = Field(description="住民区分")
    kana_name: str = Field(description="カナ氏名")
    name: str = Field(description="氏名")
    birth_date: dt.date | None = Field(default=None, description="生年月日")
    sex: str | None = Field(default=None, description="性別")
    postal_code: str | None = Field(default=None, description="郵便番号")
    address: str = Field(description="住所")
    address_line2: str | None = Field(default=None, description="方書")
    delivery_postal_code: str | None = Field(default=None, description="送付先郵便番号")
    delivery_address: str | None = Field(default=None, description="送付先住所")
    delivery_address_line2: str | None = Field(default=None, description="送付先方書")
    delivery_name: str | None = Field(default=None, description="送付先氏名")
    source: SourceRef

    def __repr__(self) -> str:
        return f"AddressChange(record {self.source.record} of {self.source.file_id}, 住民コード {mask(self.resident_code, 'account')})"

    __str__ = __repr__


class PublicFundAccount(BaseModel):
    """A registered 公金受取口座 found by the MICJET inquiry, for refunds (formats/layouts/micjet.py)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)
    record: ClassVar[str] = "public-fund-account"
    individual_number_fields: ClassVar[tuple[str, ...]] = ()

    inquiry_date: dt.date = Field(description="照会日")
    municipality_code: str
    serial: int = Field(description="連番")
    integrated_address_number: str = Field(description="団体内統合宛名番号")
    resident_code: str = Field(description="住民コード")
    account: BankAccount
    account_holder: str = Field(description="名義人カナ")
    source: SourceRef

    def __repr__(self) -> str:
        return (
            f"PublicFundAccount(record {self.source.record} of {self.source.file_id}, "
            f"住民コード {mask(self.resident_code, 'account')}, {self.account!r})"
        )

    __str__ = __repr__


#: Every kind of canonical record, by the name routes use (``when.record``).
RECORD_KINDS: dict[str, type[BaseModel]] = {
    "payment": Payment,
    "number-linkage": NumberLinkage,
    "refund-order": RefundOrder,
    "assessment": Assessment,
    "revenue-posting": RevenuePosting,
    "address-change": AddressChange,
    "public-fund-account": PublicFundAccount,
}


def individual_numbers_in(record: BaseModel) -> list[str]:
    """The names of the record's individual-number fields that hold a value."""
    return [name for name in getattr(record, "individual_number_fields", ()) if getattr(record, name, None)]

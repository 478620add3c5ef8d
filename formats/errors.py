"""Rejections as data: every problem the gateway can find in a file.

A :class:`Rejection` is what an operator reads: a stable reason code, the level
it applies to (field, record, file), where it is (physical record number and byte
offset), which field (English and Japanese name), what was expected and what was
found (personal values already masked), and a plain-language message.

:class:`FieldError` is the exception a field kind raises while parsing. It is a
``construct.ValidationError`` so that Construct keeps the path to the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import construct

__all__ = ["FieldError", "Level", "Reason", "Rejection", "Severity", "MESSAGES_JA"]


class Level(StrEnum):
    FIELD = "field"
    RECORD = "record"
    FILE = "file"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Reason(StrEnum):
    """Stable reason codes. Never rename one: reports and operators rely on them."""

    EMPTY_FILE = "EMPTY_FILE"
    UNKNOWN_FORMAT = "UNKNOWN_FORMAT"
    SEPARATOR_INCONSISTENT = "SEPARATOR_INCONSISTENT"
    RECORD_LENGTH = "RECORD_LENGTH"
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"
    GRAMMAR = "GRAMMAR"
    FIELD_NOT_NUMERIC = "FIELD_NOT_NUMERIC"
    FIELD_CHARSET = "FIELD_CHARSET"
    FIELD_DOUBLE_BYTE = "FIELD_DOUBLE_BYTE"
    FIELD_NOT_SPACES = "FIELD_NOT_SPACES"
    FIELD_CODE = "FIELD_CODE"
    FIELD_CONSTANT = "FIELD_CONSTANT"
    FIELD_DATE = "FIELD_DATE"
    FIELD_REQUIRED = "FIELD_REQUIRED"
    FIELD_ALIGNMENT = "FIELD_ALIGNMENT"
    FIELD_CHECK_DIGIT = "FIELD_CHECK_DIGIT"
    TRAILER_COUNT_MISMATCH = "TRAILER_COUNT_MISMATCH"
    TRAILER_AMOUNT_MISMATCH = "TRAILER_AMOUNT_MISMATCH"
    TRAILER_AMOUNT_UNVERIFIABLE = "TRAILER_AMOUNT_UNVERIFIABLE"
    TRAILER_TRANSFERRED_MISMATCH = "TRAILER_TRANSFERRED_MISMATCH"
    TRAILER_FAILED_MISMATCH = "TRAILER_FAILED_MISMATCH"
    UNKNOWN_RESULT_CODE = "UNKNOWN_RESULT_CODE"
    UNKNOWN_BANK = "UNKNOWN_BANK"
    UNKNOWN_BRANCH = "UNKNOWN_BRANCH"
    TOO_MANY_ERRORS = "TOO_MANY_ERRORS"
    # posting (gateway/datapath/posting.py): found when a record is compared with what was posted before
    DUPLICATE_POSTING = "DUPLICATE_POSTING"
    DOUBLE_PAYMENT = "DOUBLE_PAYMENT"
    CANCEL_WITHOUT_PRELIMINARY = "CANCEL_WITHOUT_PRELIMINARY"
    CANCEL_AFTER_CONFIRMED = "CANCEL_AFTER_CONFIRMED"
    PRELIMINARY_AFTER_CONFIRMED = "PRELIMINARY_AFTER_CONFIRMED"
    ALREADY_SENT = "ALREADY_SENT"
    # routing (gateway/datapath/pipeline.py): a good record that no route takes
    NOT_ROUTED = "NOT_ROUTED"


#: Plain-language Japanese explanation per reason, for operators' reports.
MESSAGES_JA: dict[Reason, str] = {
    Reason.EMPTY_FILE: "ファイルが空です。送信元に再送を依頼してください。",
    Reason.UNKNOWN_FORMAT: "どの形式のファイルか判別できません。チャネル（受付フォルダ）が正しいか確認してください。",
    Reason.SEPARATOR_INCONSISTENT: "レコードの区切り（改行コード）が途中で変わっています。ファイルが編集・結合された可能性があります。",
    Reason.RECORD_LENGTH: "レコードの長さが規定と異なります（欠落または余分なバイト）。",
    Reason.UNKNOWN_RECORD_TYPE: "データ区分が不明なレコードです。",
    Reason.GRAMMAR: "ヘッダー・データ・トレーラー・エンドの並びが正しくありません。",
    Reason.FIELD_NOT_NUMERIC: "数字項目に数字以外の文字があります。",
    Reason.FIELD_CHARSET: "この項目で使用できない文字があります。",
    Reason.FIELD_DOUBLE_BYTE: "全角項目に全角文字として読めないバイトがあります。",
    Reason.FIELD_NOT_SPACES: "空白であるべき項目（ダミー）に空白以外の文字があります。",
    Reason.FIELD_CODE: "定められたコード以外の値です。",
    Reason.FIELD_CONSTANT: "固定値であるべき項目の値が違います。",
    Reason.FIELD_DATE: "日付として正しくない値です。",
    Reason.FIELD_REQUIRED: "必須項目が空白です。",
    Reason.FIELD_ALIGNMENT: "項目の寄せ（左寄せ・右寄せ）が正しくありません。",
    Reason.FIELD_CHECK_DIGIT: "チェックデジットが一致しません。",
    Reason.TRAILER_COUNT_MISMATCH: "トレーラーの合計件数がデータレコードの件数と一致しません。",
    Reason.TRAILER_AMOUNT_MISMATCH: "トレーラーの合計金額がデータレコードの金額合計と一致しません。",
    Reason.TRAILER_AMOUNT_UNVERIFIABLE: "読めない金額があるため、合計金額を照合できません。",
    Reason.TRAILER_TRANSFERRED_MISMATCH: "トレーラーの振替済件数・金額が結果コード0のレコードと一致しません。",
    Reason.TRAILER_FAILED_MISMATCH: "トレーラーの振替不能件数・金額が結果コード0以外のレコードと一致しません。",
    Reason.UNKNOWN_RESULT_CODE: "未定義の振替結果コードです（振替不能として扱います）。内容を金融機関に確認してください。",
    Reason.UNKNOWN_BANK: "金融機関コードが金融機関マスタにありません（警告）。",
    Reason.UNKNOWN_BRANCH: "支店コードが金融機関マスタにありません（警告）。",
    Reason.TOO_MANY_ERRORS: "エラーが多すぎるため、以降の明細は件数のみ数えています。",
    Reason.DUPLICATE_POSTING: "この収納は既に消込データとして送付済みです。二重計上を防ぐため、今回は送付していません。",
    Reason.DOUBLE_PAYMENT: "同じ納付書（期別）に対する収納が既にあります（二重納付）。還付候補として確認してください。",
    Reason.ALREADY_SENT: "同じ調定・収納情報（同じ履歴SEQ）は既に送付済みです。二重計上を防ぐため、今回は送付していません。",
    Reason.NOT_ROUTED: "このレコードに該当する送付経路がないため、どこにも送付していません。経路の設定（routes）を確認してください。",
    Reason.CANCEL_WITHOUT_PRELIMINARY: "取消対象の速報が見つかりません。取消は送付していません。収納代行業者に確認してください。",
    Reason.CANCEL_AFTER_CONFIRMED: "確報済みの収納に対する速報取消です。自動では取り消していません。手作業で確認してください。",
    Reason.PRELIMINARY_AFTER_CONFIRMED: "確報済みの収納に対する速報です。送付していません。",
}


@dataclass(frozen=True, slots=True)
class Rejection:
    """One problem found in a file, ready for a report."""

    code: Reason
    level: Level
    message: str
    record: int | None = None
    offset: int | None = None
    field: str | None = None
    field_ja: str | None = None
    expected: str | None = None
    found: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def message_ja(self) -> str:
        return MESSAGES_JA[self.code]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "level": str(self.level),
            "severity": str(self.severity),
            "record": self.record,
            "offset": self.offset,
            "field": self.field,
            "field_ja": self.field_ja,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
            "message_ja": self.message_ja,
        }


class FieldError(construct.ValidationError):
    """Raised by a field kind when bytes do not fit the field.

    ``position`` is the 0-based byte index inside the field of the first offending
    byte; ``found`` is the raw field bytes (masked later, never logged raw).
    """

    def __init__(
        self,
        code: Reason,
        expected: str,
        found: bytes,
        position: int = 0,
        path: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.code = code
        self.expected = expected
        self.found = found
        self.position = position
        self.severity = severity
        super().__init__(f"{code}: expected {expected} (byte {position + 1} of the field)", path=path)


@dataclass(slots=True)
class IssueList:
    """Collects rejections and warnings with a cap on how many are kept in full."""

    limit: int = 1000
    errors: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    dropped_errors: int = 0
    dropped_warnings: int = 0

    @property
    def warnings_full(self) -> bool:
        """Further warnings are only counted."""
        return len(self.warnings) >= self.limit

    def count_unlisted_warnings(self, count: int) -> None:
        """``count`` further warnings, once the list is full (the fast path counts them in bulk)."""
        assert count == 0 or self.warnings_full
        self.dropped_warnings += count

    def add(self, rejection: Rejection) -> None:
        if rejection.severity is Severity.WARNING:
            if len(self.warnings) < self.limit:
                self.warnings.append(rejection)
            else:
                self.dropped_warnings += 1
        elif len(self.errors) < self.limit or rejection.level is Level.FILE:
            self.errors.append(rejection)
        else:
            self.dropped_errors += 1

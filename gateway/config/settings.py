"""Settings: how one city wires the gateway, from a TOML file validated by pydantic.

A configuration that is wrong fails at start with the key, the value and what was
expected (:class:`ConfigError`). The embedded default (gateway/defaults/gateway.toml,
the same as config/gateway.toml) runs out of the box on a local spool.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from adapters.sftp import EndpointConfig, validate_endpoints
from adapters.specs import RENDERERS, make_renderer, purpose_limited_formats, renderer_class
from formats.layout import FileLayout, LayoutError
from formats.registry import load_formats
from gateway.config.console import ConsoleConfig
from gateway.config.retention import RetentionConfig
from spool.layout import NAME_PATTERN

__all__ = [
    "ChannelConfig",
    "ConfigError",
    "DestinationConfig",
    "RouteCondition",
    "RouteConfig",
    "Settings",
    "SpoolConfig",
    "load_settings",
]


#: Files between the city's own systems (their record specs say purpose_limited): a channel of
#: these refuses a whole file that carries record kinds or fields it does not expect (no
#: collecting beyond the purpose, seed Ⅲ).
INTER_SYSTEM_FORMATS = purpose_limited_formats()


class ConfigError(ValueError):
    """Raised when the configuration cannot be loaded: names the key, the value and what was expected."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpoolConfig(_Strict):
    root: Path = Field(
        default=Path("var/spool"), description="spool root; relative paths are relative to the working directory"
    )
    quiet_seconds: float = Field(
        default=2.0, ge=0, description="a file must stay unchanged this long before it is taken"
    )
    rescan_seconds: float = Field(default=5.0, gt=0, description="periodic rescan of the inboxes, besides file events")
    ledger: Path | None = Field(default=None, description="SQLite ledger; default <root>/ledger.sqlite3")
    audit_log: Path | None = Field(default=None, description="JSON-lines audit log; default <root>/audit.log")


class FormatsConfig(_Strict):
    layouts: Path | None = Field(default=None, description="a folder of the city's own layout files (*.toml)")


class ChannelConfig(_Strict):
    format: str = Field(description="format identifier, see `gateway formats`")
    strict: bool = Field(default=True, description="strict 全銀 charset and filler rules (false = permissive)")
    done_marker: str | None = Field(
        default=None, description="take a file only once <name><marker> exists, e.g. '.done'"
    )
    purpose_limited: bool = Field(
        default=False,
        description="refuse a whole file that carries record kinds or fields the channel does not expect "
        "(default: true for inter-system formats, false for bank and agent files)",
    )

    @model_validator(mode="before")
    @classmethod
    def _purpose_limited_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "purpose_limited" not in data and data.get("format") in INTER_SYSTEM_FORMATS:
            return {**data, "purpose_limited": True}
        return data


class DestinationConfig(_Strict):
    transport: Literal["local"] = Field(default="local", description="how outputs are delivered")
    path: Path | None = Field(default=None, description="folder for a local destination; default <root>/outbox/<name>")
    render: str = Field(description="output format: " + ", ".join(RENDERERS))
    individual_numbers: bool = Field(default=False, description="may this destination receive 個人番号 at all")
    options: dict[str, str] = Field(
        default_factory=dict, description="settings of the renderer (e.g. the requester of a 21 file)"
    )

    @field_validator("render")
    @classmethod
    def _known_renderer(cls, value: str) -> str:
        if value not in RENDERERS:
            raise ValueError(f"expected one of {', '.join(RENDERERS)}")
        return value


class RouteCondition(_Strict):
    """All given conditions must hold; each lists the values that match."""

    kind: list[str] | None = Field(default=None, description="payment kind, e.g. direct-debit")
    status: list[str] | None = Field(default=None, description="paid, failed, preliminary, cancelled")
    channel: list[str] | None = None
    result_code: list[str] | None = None
    record: list[str] | None = Field(default=None, description="record kinds: payment, number-linkage, assessment …")
    tax_item: list[str] | None = Field(
        default=None, description="科目 codes (records that carry a 科目: payments, revenue postings, assessments)"
    )

    @field_validator("record")
    @classmethod
    def _known_records(cls, value: list[str] | None) -> list[str] | None:
        from gateway.model.records import RECORD_KINDS

        for kind in value or []:
            if kind not in RECORD_KINDS:
                raise ValueError(f"expected record kinds among {', '.join(RECORD_KINDS)}")
        return value


class RouteConfig(_Strict):
    name: str
    description: str = ""
    purpose: str = Field(default="", description="what the route is for (利用目的): required for every route")
    legal_basis: str | None = Field(default=None, description="required for 個人番号: see gateway/config/protection.py")
    when: RouteCondition = Field(default_factory=RouteCondition)
    to: list[str] = Field(min_length=1)
    every_file: bool = Field(
        default=False,
        description="deliver an output to each destination for every file of the route's when.channel, also when "
        "no record matched (header and zero totals): the receiver sees every run",
    )


class Settings(_Strict):
    spool: SpoolConfig = Field(default_factory=SpoolConfig)
    formats: FormatsConfig = Field(default_factory=FormatsConfig)
    channels: dict[str, ChannelConfig]
    destinations: dict[str, DestinationConfig]
    routes: list[RouteConfig] = Field(default_factory=list)
    endpoints: dict[str, EndpointConfig] = Field(default_factory=dict, description="SFTP endpoints (adapters/sftp.py)")
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig,
        description="how long inputs, reports, outputs and audit lines are kept (gateway/datapath/retention.py)",
    )
    console: ConsoleConfig = ConsoleConfig()

    _formats: dict[str, FileLayout] = PrivateAttr(default_factory=dict)
    _cleared: set[tuple[str, str]] = PrivateAttr(default_factory=set)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        try:
            self._formats = load_formats(self.formats.layouts)
        except (LayoutError, OSError) as error:
            raise ValueError(f"formats.layouts = {str(self.formats.layouts)!r}: {error}") from None
        for name, channel in self.channels.items():
            if channel.format not in self._formats:
                raise ValueError(
                    f"channels.{name}.format = {channel.format!r}: expected one of {', '.join(sorted(self._formats))}"
                )
            layout = self._formats[channel.format]
            if layout.canonical is not None:
                from gateway.model.normalise import check_canonical

                check_canonical(layout)  # a wrong [canonical] table fails at start
                if "record" in layout.canonical and "purpose_limited" not in channel.model_fields_set:
                    # a city's variant of an inter-system layout is purpose-limited like the default
                    self.channels[name] = channel.model_copy(update={"purpose_limited": True})
        for kind, names in (("channels", self.channels), ("destinations", self.destinations)):
            for name in names:
                if not NAME_PATTERN.fullmatch(name):
                    raise ValueError(f"{kind}.{name}: a name of lower-case letters, digits, '.', '_' or '-' expected")
        seen: set[str] = set()
        for index, route in enumerate(self.routes):
            if route.name in seen:
                raise ValueError(f"routes[{index}].name = {route.name!r}: a unique route name expected")
            seen.add(route.name)
            if not route.purpose.strip():
                raise ValueError(
                    f"routes[{index}].purpose = {route.purpose!r}: every route declares its purpose "
                    '(利用目的), e.g. "口座振替の結果を収納管理システムへ (消込)"'
                )
            for target in route.to:
                if target not in self.destinations:
                    raise ValueError(
                        f"routes[{index}].to = {target!r}: a destination defined under [destinations] expected "
                        f"({', '.join(sorted(self.destinations)) or 'none defined'})"
                    )
            for channel_name in route.when.channel or []:
                if channel_name not in self.channels:
                    raise ValueError(
                        f"routes[{index}].when.channel = {channel_name!r}: a channel defined under [channels] expected"
                    )
            if route.every_file and not route.when.channel:
                raise ValueError(
                    f"routes[{index}].every_file = true: the route needs when.channel (the channels whose "
                    "every file gets an output)"
                )
        validate_endpoints(self.endpoints, self.channels, self.destinations)
        for name, destination in self.destinations.items():
            try:
                make_renderer(destination.render, destination.options)
            except ValueError as error:
                raise ValueError(f"destinations.{name}.options = {destination.options!r}: {error}") from None
        from gateway.config.protection import check_flows, route_record_kinds
        from gateway.model.records import RECORD_KINDS

        for index, route in enumerate(self.routes):
            kinds = route_record_kinds(route)
            if len(kinds) == len(RECORD_KINDS):
                continue  # no record condition: what arrives is the channels' to say
            for target in route.to:
                render = self.destinations[target].render
                accepts = renderer_class(render).accepts
                refused = [kind for kind in kinds if kind not in accepts]
                if refused:
                    raise ValueError(
                        f"routes[{index}] ({route.name!r}) → destination {target!r}: render = {render!r} writes "
                        f"{', '.join(sorted(accepts))} records; expected when.record among those, found "
                        f"{', '.join(refused)}"
                    )
        self._cleared = check_flows(self)
        return self

    def cleared_flows(self) -> set[tuple[str, str]]:
        """(route, destination) pairs cleared at start to carry 個人番号 (gateway/config/protection.py)."""
        return self._cleared

    def formats_by_id(self) -> dict[str, FileLayout]:
        """Every format this configuration knows: built-in, default layout files, the city's own."""
        return self._formats

    # -- derived paths ------------------------------------------------------
    def ledger_path(self) -> Path:
        return self.spool.ledger or self.spool.root / "ledger.sqlite3"

    def audit_path(self) -> Path:
        return self.spool.audit_log or self.spool.root / "audit.log"

    def destination_path(self, name: str) -> Path:
        destination = self.destinations[name]
        return destination.path or self.spool.root / "outbox" / name

    def with_spool_root(self, root: Path) -> Settings:
        copy = self.model_copy(update={"spool": self.spool.model_copy(update={"root": root})})
        copy._formats = self._formats
        copy._cleared = self._cleared
        return copy


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: the configuration is not valid:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        value = item.get("input")
        shown = "missing" if item["type"] == "missing" else repr(value) if not isinstance(value, dict) else "a table"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {key} = {shown}: {message}")
    return "\n".join(lines)


def default_text() -> str:
    return (resources.files("gateway") / "defaults" / "gateway.toml").read_text(encoding="utf-8")


def load_settings(path: Path | None = None, *, spool_root: Path | None = None) -> Settings:
    """Load and validate the configuration (the embedded default when ``path`` is None)."""
    source = str(path) if path else "embedded default configuration"
    try:
        text = path.read_text(encoding="utf-8") if path else default_text()
    except OSError as error:
        raise ConfigError(f"{source}: cannot be read: {error.strerror}") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML: {error}") from None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, source)) from None
    return settings.with_spool_root(spool_root) if spool_root else settings

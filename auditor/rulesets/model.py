"""The rule-set file format, as pydantic models: what a TOML rule-set file may contain.

Everything a rule set says is data: which conversations it does not count (`criteria`), the
parameters those criteria read (`params`) and executable examples (`examples`). The loader
(`auditor.rulesets.loader`) turns pydantic errors into `RuleSetError`s naming file and key; the
checks here only cover what one value can know about itself (shape, naming, one-line text).
Cross-field checks (duplicate codes, unknown columns in expressions) live in the loader.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from auditor.schema import ACTOR_ROLES, EVENT_TYPES, VENDOR_STATES

ParamValue = bool | int | float | str | list[str]

KEBAB_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
SNAKE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EXAMPLE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Shorthand times in examples: "10:05", "10:05:30", "day 3 10:05" (day 1 = EXAMPLE_DAY_ONE).
SHORT_TIME = re.compile(r"^(?:day (\d+) )?(\d{1,2}):(\d{2})(?::(\d{2}))?$")
EXAMPLE_DAY_ONE = datetime(2026, 10, 1)
DEFAULT_ACTORS = {"customer": "customer-1", "ai_agent": "fin", "human_agent": "agent-1",
                  "bot": "bot", "system": "system"}


class Strict(BaseModel):
    # strict: TOML already has real types, so "72" must not quietly become 72.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def one_line(value: str) -> str:
    if "\n" in value.strip():
        raise ValueError("expected one line of text (no line breaks)")
    return value.strip()


def one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError("expected one of " + ", ".join(allowed))
    return value


def param_value(value: Any) -> ParamValue:
    """A param value: a number, a string, true/false, or a list of strings."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number (not inf or nan)")
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError("expected a number, a string, true/false or a list of strings")


class SourceLink(Strict):
    title: str
    url: str

    @field_validator("url")
    @classmethod
    def check_is_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("expected a web address starting with https://")
        return value


class Param(Strict):
    default: Any
    description: str

    @field_validator("default")
    @classmethod
    def check_default(cls, value: Any) -> ParamValue:
        return param_value(value)

    @field_validator("description")
    @classmethod
    def check_description(cls, value: str) -> str:
        return one_line(value)


class Criterion(Strict):
    code: str
    summary: str
    when: str
    evidence: str
    # True for a criterion that says "the data cannot decide yet" (the vendor's waiting time
    # has not passed by the end of the export): it keeps the conversation from being counted,
    # but a billed line is never disputed on it alone; it is unverifiable instead.
    undecided: bool = False

    @field_validator("code")
    @classmethod
    def check_code(cls, value: str) -> str:
        if not SNAKE_NAME.match(value):
            raise ValueError("expected a snake_case code such as 'human_takeover'")
        return value

    @field_validator("summary")
    @classmethod
    def check_summary(cls, value: str) -> str:
        return one_line(value)


class Observation(Strict):
    """[observation]: how long after a counted conversation the export must go on for its
    `confirmed_evidence` to hold; a conversation observed for less gets `evidence` instead."""

    window_hours: str  # a number from params and literals only: one window for the rule set
    observed_hours: str  # a numeric expression over facts, e.g. hours_observed_after_last_ai
    evidence: str


def parse_example_time(value: str | datetime) -> datetime:
    """ISO 8601, "HH:MM" (on day 1 = 2026-10-01) or "day N HH:MM"; naive UTC."""
    if isinstance(value, datetime):
        moment = value
    elif match := SHORT_TIME.match(value.strip()):
        day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        offset = timedelta(days=max(day, 1) - 1, hours=hour, minutes=minute, seconds=second)
        return EXAMPLE_DAY_ONE + offset
    else:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"cannot read '{value}' as a time: expected ISO 8601 "
                             "(2026-10-01T10:05:00Z), 'HH:MM' or 'day N HH:MM'") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class ExampleEvent(Strict):
    conversation: str = "c1"
    at: datetime
    role: str
    type: str = "message"
    body: str | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    actor: str | None = None
    channel: str | None = None

    @field_validator("at", mode="before")
    @classmethod
    def check_at(cls, value: Any) -> datetime:
        if not isinstance(value, str | datetime):
            raise ValueError("expected a time such as \"10:05\", \"day 2 09:00\" or ISO 8601")
        return parse_example_time(value)

    @field_validator("role")
    @classmethod
    def check_role(cls, value: str) -> str:
        return one_of(value, ACTOR_ROLES)

    @field_validator("type")
    @classmethod
    def check_type(cls, value: str) -> str:
        return one_of(value, EVENT_TYPES)

    @model_validator(mode="before")
    @classmethod
    def rating_means_rating_event(cls, data: Any) -> Any:
        # {at, role, rating = 2} is a rating event without also having to say type = "rating".
        if isinstance(data, dict) and "rating" in data and "type" not in data:
            return {**data, "type": "rating"}
        return data

    def actor_id(self) -> str:
        return self.actor or DEFAULT_ACTORS[self.role]


class ExampleConversation(Strict):
    id: str
    vendor_state: str | None = None
    is_preview: bool = False
    customer_id: str | None = None
    channel: str | None = None
    ai_answered: bool | None = None

    @field_validator("vendor_state")
    @classmethod
    def check_state(cls, value: str | None) -> str | None:
        return value if value is None else one_of(value, VENDOR_STATES)


class Expectation(Strict):
    counted: bool
    reasons: list[str] | None = None
    units: int | None = Field(default=None, ge=0)
    evidence_contains: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def check_consistent(self) -> Expectation:
        if self.counted and self.reasons:
            raise ValueError("a counted conversation has no reasons: use reasons = []")
        if not self.counted and self.reasons == []:
            raise ValueError("a conversation that is not counted has at least one reason")
        if self.units is not None and (self.units > 0) != self.counted:
            raise ValueError("units: a counted conversation has 1 or more, one not counted 0")
        return self


class Example(Strict):
    name: str
    description: str = ""
    events: list[ExampleEvent] = Field(min_length=1)
    conversations: list[ExampleConversation] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)
    target: str = "c1"
    # The example's export is taken at this time (the month's end unless said otherwise), so
    # windows that wait for the customer (exit_after_hours) see the time a real export would.
    export_end: datetime = datetime(2026, 10, 31, 23, 59)
    expect: Expectation

    @field_validator("export_end", mode="before")
    @classmethod
    def check_export_end(cls, value: Any) -> datetime:
        if not isinstance(value, str | datetime):
            raise ValueError("expected a time such as \"day 3 09:00\" or ISO 8601")
        return parse_example_time(value)

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        if not EXAMPLE_NAME.match(value):
            raise ValueError("expected a snake_case name such as 'human_takeover_then_ai_closing'")
        return value


class RuleSet(Strict):
    id: str
    version: str
    title: str
    kind: Literal["vendor", "contract"]
    vendor: str
    billing_unit: str = "resolution"
    # How many billing units a counted conversation is (an expression over facts and params);
    # absent means one per conversation.
    units: str | None = None
    unit_price: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)
    currency: str = "USD"
    billed_labels: list[str] = Field(default_factory=list)
    sources: list[SourceLink] = Field(default_factory=list)
    description: str
    params: dict[str, Param] = Field(default_factory=dict)
    confirmed_evidence: str = "none of the criteria apply"
    observation: Observation | None = None
    criteria: list[Criterion] = Field(min_length=1)
    examples: list[Example] = Field(default_factory=list)

    # Provenance, set by the loader; not part of the file format.
    _path: str = PrivateAttr(default="<memory>")
    _sha256: str = PrivateAttr(default="")
    # Params set for a what-if (overrides.ParamOverride), by with_overrides; the file's sha256
    # stays the file's.
    _overrides: list[Any] = PrivateAttr(default_factory=list)

    @field_validator("id")
    @classmethod
    def check_id(cls, value: str) -> str:
        if not KEBAB_ID.match(value):
            raise ValueError("expected a kebab-case id such as 'intercom-fin'")
        return value

    @field_validator("version")
    @classmethod
    def check_version(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError("expected a semantic version such as \"1.0.0\"")
        return value

    @field_validator("billed_labels")
    @classmethod
    def check_labels(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in VENDOR_STATES]
        if unknown:
            raise ValueError(f"unknown label '{unknown[0]}': expected vendor states from "
                             + ", ".join(VENDOR_STATES))
        return value

    @field_validator("title")
    @classmethod
    def check_title(cls, value: str) -> str:
        return one_line(value)

    @property
    def path(self) -> str:
        """The file this rule set was read from (as given), or "<memory>"."""
        return self._path

    @property
    def sha256(self) -> str:
        """sha256 of the file's bytes, for provenance in reports."""
        return self._sha256

    def with_provenance(self, path: str, sha256: str) -> RuleSet:
        copy = self.model_copy()
        copy._path, copy._sha256 = path, sha256
        return copy

    @property
    def overrides(self) -> list[Any]:
        """The params set for a what-if (overrides.ParamOverride), in declaration order."""
        return list(self._overrides)

    @property
    def label(self) -> str:
        """The id, with a what-if's overrides: 'strict[repeat_contact_hours=24]'."""
        from auditor.rulesets.overrides import label

        return label(self)

    def with_overrides(self, overrides: Mapping[str, Any], option: str = "--param") -> RuleSet:
        """A checked copy with params set from `overrides` (values, or text as typed after
        --param NAME=VALUE); errors name `option`. See auditor.rulesets.overrides."""
        from auditor.rulesets.overrides import with_overrides

        return with_overrides(self, overrides, option)

    def param_values(self) -> dict[str, ParamValue]:
        return {name: param.default for name, param in self.params.items()}

    def codes(self) -> list[str]:
        return [c.code for c in self.criteria]


class CaseFile(Strict):
    """tests/cases/<ruleset-id>.toml: more examples for one rule set, in the same format."""

    ruleset: str
    examples: list[Example] = Field(min_length=1)

    _path: str = PrivateAttr(default="<memory>")

    @property
    def path(self) -> str:
        return self._path

    def with_path(self, path: str) -> CaseFile:
        copy = self.model_copy()
        copy._path = path
        return copy

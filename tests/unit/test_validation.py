"""One line per pydantic ValidationError, for configuration, arguments and LLM answers alike."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, model_validator

from digestcrawl.validation import SHOWN_ERRORS, describe


class Pair(BaseModel):
    low: int
    high: int

    @model_validator(mode="after")
    def ordered(self) -> Pair:
        if self.low > self.high:
            raise ValueError("low above high")
        return self


def error_of(data: object) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        Pair.model_validate(data)
    return raised.value


def test_each_error_names_its_field() -> None:
    assert describe(error_of({"low": "x"}), "(entry)", prefix="field ") == (
        "field low: Input should be a valid integer, unable to parse string as an integer; "
        "field high: Field required")


def test_an_error_about_the_whole_value_is_named_whole() -> None:
    assert describe(error_of({"low": 2, "high": 1}), "answer") == "answer: Value error, low above high"


def test_only_the_first_errors_are_listed() -> None:
    class Many(BaseModel):
        values: list[int]

    with pytest.raises(ValidationError) as raised:
        Many.model_validate({"values": ["x"] * (SHOWN_ERRORS + 2)})
    line = describe(raised.value, "answer")
    assert line.count("values.") == SHOWN_ERRORS and line.endswith("; 2 more")

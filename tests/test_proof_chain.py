"""Proof rows are built by column name, so a column added or moved cannot shift the others."""

from __future__ import annotations

import pytest

from notifier.delivery import proof_chain

RELEASE = {"version": "2027-01-15", "sha256": "ab" * 32, "release": "privacy/zh-CN/2027-01-15"}


def test_a_row_puts_each_value_under_its_column_and_leaves_the_rest_empty() -> None:
    """When a decision row names its values, then each lands under its own header and the
    delivery's columns (status, sent_at …) stay empty; row_hash is left to the chain."""
    fields = proof_chain.fields(
        RELEASE, customer_id="7", email="w***@e***.cn", decision="agree", decision_seq="1"
    )
    header = proof_chain.COLUMNS[:-1]
    assert len(fields) == len(header)
    assert {column: value for column, value in zip(header, fields, strict=True) if value} == {
        **RELEASE,
        "customer_id": "7",
        "email": "w***@e***.cn",
        "decision": "agree",
        "decision_seq": "1",
    }


def test_a_name_that_is_no_column_is_refused() -> None:
    """When a row names a column the proof does not have (or row_hash), then it is refused
    rather than dropped."""
    with pytest.raises(ValueError, match="not a proof column: row_hash, sent"):
        proof_chain.fields(RELEASE, sent="2027-01-01", row_hash="00")

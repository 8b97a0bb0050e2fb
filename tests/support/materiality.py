"""Materiality test helpers: an English statement shaped like the seed, and verdicts of edits."""

from __future__ import annotations

from notifier.statement.diff import compare
from notifier.statement.materiality import RuleSet, Verdict, assess, load_rules
from notifier.statement.notice import parse_text

EN_STATEMENT = """\
---
title: Privacy Statement for Online Services Operated by 21Vianet
version: 2018-11-01
last_updated: 2018-11-01
effective: 2018-11-01
services: [azure, office365, powerbi]
material: auto
summary: The English statement.
---

# Privacy Statement for Online Services Operated by 21Vianet {#privacy-statement}

Last updated: November 1, 2018

## Scope {#scope}

Shanghai Blue Cloud Technology Co., Ltd. (a wholly owned subsidiary of Beijing 21Vianet
Broadband Data Center Co., Ltd., "21Vianet" or "we") operates the online services, which include
Microsoft Azure, Office 365 and Power BI. This statement applies to the services listed above.

## How we collect and use your data {#collection-and-use}

### Customer data {#customer-data}

We use customer data only to provide the services. Customer data will only be stored in data
centers located in China.

### Administrator data {#administrator-data}

Administrator data is the name, address, phone number and email address of the administrators
you designate. We use administrator data to complete transactions and to manage your account.
With your permission, we also use administrator data for marketing.

### Payment data {#payment-data}

We use payment data to complete transactions and to detect fraud. We will not store the security
code of your payment instrument.

## Cookies {#cookies}

Some of our websites use cookies to remember your preferences and to authenticate you. You can
refuse or manage cookies in your browser settings.

## How long we keep your personal information {#retention}

Your personal information is stored in China. After you close your account, we keep your
information for 30 days and then delete or anonymize it.

## How we share your information {#sharing}

We do not share your information with third parties except as described in this statement.

- We share administrator data with payment processors to process payments.
- We disclose information when required by law.

When a merger or an acquisition involves personal information, we will tell you in advance.

## How we protect your personal information {#security}

We use encryption and access controls to protect your personal information. If a security
incident happens, we will notify you promptly.

## Your rights {#your-rights}

You can access, correct and delete your administrator data in the portal. You can withdraw
your consent at any time. We will respond to your request within 30 days.

## Trials {#trials}

At the end of a trial, we may keep the information collected during the trial for a while so
that your experience is better if you buy the service later.

## Previews {#previews}

Previews are versions of the services offered before general availability to get feedback.

## Children {#minors}

If you are under 18 years old, please ask your guardian to read this statement and use the
services only with your guardian's consent.

## Changes to this statement {#changes}

If we make material changes to this statement, we will notify you by email before the changes
take effect.

## Contact us {#contact}

If you have a privacy question, contact our privacy officer at privacy@21vianet.example or by
phone at 400-089-0365. Our postal address is 6 Jiuxianqiao Road, Chaoyang District, Beijing,
postcode 100015. We will reply within 30 days.
"""

_RULES: dict[str, RuleSet] = {}


def default_rules() -> RuleSet:
    """The packaged rules, loaded once per test session."""
    if "default" not in _RULES:
        _RULES["default"] = load_rules({})
    return _RULES["default"]


def verdict_of(old: str, new: str, rules: RuleSet | None = None) -> Verdict:
    """The verdict on changing `old` into `new` (two whole notice texts), with no override."""
    assert old != new, "the edit changed nothing"
    comparison = compare(parse_text(old, "old.md"), parse_text(new, "new.md"))
    return assess(comparison, rules or default_rules())


def edited(text: str, old: str, new: str) -> str:
    """`text` with `old` (which must occur) replaced by `new` everywhere."""
    assert old in text, f"{old!r} is not in the text"
    return text.replace(old, new)

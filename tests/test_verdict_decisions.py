"""Three honest answers (material, not material, undecided), and overrides that belong to the
release they were decided for: on real git repositories, through the commands an editor runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.repos import NoticeRepo, for_you, release_text, run_notices, seed_text
from support.site import install_site

NOTICE = "notices/privacy/zh-CN.md"
ANCHOR = "这包括配置、技术设置或服务记录信息，或下述管理员数据、实名认证数据和付款数据。"
# A sentence about customer data no rule explains: substantive, so undecided.
UNEXPLAINED = "客户数据的范围由您与世纪互联签订的合同确定。"
# The example: precise location collected and given to a company for its own purposes.
LOCATION_AND_RECIPIENT = (
    "我们还会收集您设备的精确位置信息，并提供给北京某某广告有限公司用于其自身的营销。"
)
QUIET_REASON = "客户数据的范围一句仅为澄清，经法务确认"
LOCATION_FOR_YOU = "我们将收集您设备的精确位置，并提供给一家广告公司用于其自身的营销。"


def _with(sentence: str, base: str | None = None) -> str:
    text = base or seed_text()
    assert ANCHOR in text
    return text.replace(ANCHOR, ANCHOR + sentence)


def _release(repo: NoticeRepo, text: str, version: str) -> str:
    return repo.commit(f"Release {version}", f"{version}T10:00:00+08:00", {NOTICE: text})


def _environ(repo: NoticeRepo) -> dict[str, str]:
    return {"NOTICES_DATABASE_URL": f"sqlite:///{repo.path / 'var' / 'notices.db'}"}


def _log(repo: NoticeRepo) -> dict[str, dict[str, object]]:
    run = run_notices("log", "--json", cwd=repo.path)
    assert run.code == 0, run.err
    return {entry["version"]: entry for entry in json.loads(run.out)["releases"]}


def _check(repo: NoticeRepo) -> list[dict[str, object]]:
    run = run_notices("check", "--json", cwd=repo.path)
    return [p for p in json.loads(run.out)["problems"] if p["severity"] == "error"]


def _line(text: str, key: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(f"{key}:"))


# --- undecided ---------------------------------------------------------------------------------


def test_unexplained_change_is_undecided_everywhere(seeded_repo: NoticeRepo) -> None:
    """When a release adds a sentence about customer data that no rule explains, then diff and
    log call it undecided (material null), check refuses it naming the version line, and notify
    plan refuses to call it either material or not."""
    text = release_text(_with(UNEXPLAINED), "2030-01-02", effective="2030-03-01")
    _release(seeded_repo, text, "2030-01-02")

    diff = run_notices("diff", "2018-11-01", "2030-01-02", "--format", "json", cwd=seeded_repo.path)
    judged = json.loads(diff.out)
    assert (judged["material"], judged["verdict"], judged["tier"]) == (None, "undecided", "T2")
    (change,) = [c for c in judged["changes"] if c["verdict"] != "not-material"]
    assert (change["section_id"], change["material"], change["verdict"]) == (
        "customer-data",
        False,
        "undecided",
    )
    assert [r["rule"] for r in change["reasons"]] == ["M24"]

    entry = _log(seeded_repo)["2030-01-02"]
    assert (entry["material"], entry["verdict"]) == (None, "undecided")

    (problem,) = _check(seeded_repo)
    assert (problem["rule"], problem["line"]) == ("undecided", _line(text, "version"))
    assert "“我们如何收集和使用您的数据 > 客户数据” changed in substance" in str(problem["message"])

    environ = _environ(seeded_repo)
    plan = run_notices("notify", "plan", "2030-01-02", cwd=seeded_repo.path, env=environ)
    assert plan.code == 1
    assert "release 2030-01-02 is undecided" in plan.err
    assert "no notice is needed" not in plan.out + plan.err


def test_text_diff_and_summary_say_undecided(seeded_repo: NoticeRepo) -> None:
    """When the editor looks at an undecided release in the terminal or a pull request summary,
    then both say undecided and how to decide, and neither calls it material or not."""
    _release(seeded_repo, release_text(_with(UNEXPLAINED), "2030-01-02"), "2030-01-02")
    text = run_notices("diff", "2018-11-01", "2030-01-02", cwd=seeded_repo.path).out
    assert "verdict: undecided (T2); " in text
    assert "· UNDECIDED" in text
    assert "material: yes" not in text and "verdict: not material" not in text
    summary = run_notices("diff", "2018-11-01", "2030-01-02", "--format", "md",
                          cwd=seeded_repo.path).out
    assert "**Undecided**" in summary
    assert "| **undecided** |" in summary


def test_deciding_undecided_for_that_version(seeded_repo: NoticeRepo) -> None:
    """When the editor decides the undecided release is not material, with a reason, then it is
    not material everywhere, the decision and its commit are shown, and check passes."""
    text = release_text(
        _with(UNEXPLAINED), "2030-01-02", material="false", material_reason=QUIET_REASON
    )
    sha = _release(seeded_repo, text, "2030-01-02")
    assert _check(seeded_repo) == []
    entry = _log(seeded_repo)["2030-01-02"]
    assert (entry["material"], entry["verdict"], entry["rules_verdict"]) == (
        False,
        "not-material",
        "undecided",
    )
    assert entry["override"] == {
        "material": False,
        "reason": QUIET_REASON,
        "version": "2030-01-02",
        "commit": sha,
    }
    text_log = run_notices("log", cwd=seeded_repo.path).out
    assert f"not material (editor's decision in {sha[:10]}: {QUIET_REASON})" in text_log
    diff = run_notices("diff", "2018-11-01", "2030-01-02", cwd=seeded_repo.path).out
    assert (
        f"override: not material for version 2030-01-02 (commit {sha[:12]}): {QUIET_REASON}; "
        "the rules said undecided (T2)"
    ) in diff
    assert "· rules: UNDECIDED, overridden" in diff and "· UNDECIDED" not in diff
    summary = run_notices("diff", "2018-11-01", "2030-01-02", "--format", "md",
                          cwd=seeded_repo.path).out
    assert f"Override: not material for version 2030-01-02 (commit {sha[:12]})" in summary


# --- an override belongs to its release ---------------------------------------------------------


@pytest.fixture
def stale_repo(seeded_repo: NoticeRepo) -> NoticeRepo:
    """A release decided not material, then a T3 release that carries that decision forward."""
    first = release_text(
        _with(UNEXPLAINED), "2030-01-02", material="false", material_reason=QUIET_REASON
    )
    _release(seeded_repo, first, "2030-01-02")
    second = release_text(
        _with(LOCATION_AND_RECIPIENT, first),
        "2030-02-01",
        effective="2030-03-05",
        what_changes_for_you=for_you({"customer-data": LOCATION_FOR_YOU}),
    )
    _release(seeded_repo, second, "2030-02-01")
    return seeded_repo


def test_carried_override_is_refused_and_ignored(stale_repo: NoticeRepo) -> None:
    """When the next release keeps the previous release's `material: false`, then check refuses
    it on the `material:` line, and log and diff rate it by the rules (material T3), showing
    the ignored override."""
    text = (stale_repo.path / NOTICE).read_text(encoding="utf-8")
    # the rules' verdict asks consent too, and the release does not show all a request must
    # (test_consent_request holds those findings)
    (problem,) = [p for p in _check(stale_repo) if p["rule"] != "consent-request"]
    assert (problem["rule"], problem["line"]) == ("stale-override", _line(text, "material"))
    assert str(problem["message"]).startswith(
        "release 2030-02-01 carries version 2030-01-02's override (material: false, "
        f"“{QUIET_REASON}”) forward"
    )
    assert "material (T3" in str(problem["message"])

    entry = _log(stale_repo)["2030-02-01"]
    assert (entry["material"], entry["verdict"], entry["tier"]) == (True, "material", "T3")
    assert entry["override"] is None
    decided_in = str(_log(stale_repo)["2030-01-02"]["commit"])
    assert entry["stale_override"] == {  # the earlier release's own decision, where it was made
        "material": False,
        "reason": QUIET_REASON,
        "version": "2030-01-02",
        "commit": decided_in,
    }

    diff = run_notices("diff", "2030-01-02", "2030-02-01", cwd=stale_repo.path).out
    assert "verdict: material (T3)" in diff
    assert f"ignored: not material for version 2030-01-02 (commit {decided_in[:12]})" in diff


def test_carried_override_never_skips_notice(stale_repo: NoticeRepo) -> None:
    """When the carried-forward override says not material, then notify plan still plans the
    notice and schedule sync still schedules it."""
    environ = _environ(stale_repo)
    plan = run_notices("notify", "plan", "2030-02-01", "--json", cwd=stale_repo.path, env=environ)
    assert plan.code == 0, plan.err
    assert (json.loads(plan.out)["material"], json.loads(plan.out)["tier"]) == (True, "T3")
    synced = run_notices("schedule", "sync", cwd=stale_repo.path, env=environ)
    assert synced.code == 0, synced.err
    assert "privacy/zh-CN/2030-02-01:notify" in synced.out


def test_a_new_decision_for_the_new_version_counts(stale_repo: NoticeRepo) -> None:
    """When the editor writes a decision of the new version's own (a new reason), then it is
    that version's override: it counts, and check no longer reports a carried override."""
    text = (stale_repo.path / NOTICE).read_text(encoding="utf-8")
    decided = text.replace(
        f"material_reason: {QUIET_REASON}", "material_reason: 位置信息仅用于本地缓存，不对外提供"
    )
    stale_repo.commit("Decide 2030-02-01", "2030-02-02T10:00:00+08:00", {NOTICE: decided})
    assert [p["rule"] for p in _check(stale_repo)] == []
    entry = _log(stale_repo)["2030-02-01"]
    assert (entry["verdict"], entry["rules_verdict"], entry["stale_override"]) == (
        "not-material",
        "material",
        None,
    )


def test_site_never_contradicts_the_decision(seeded_repo: NoticeRepo, tmp_path: Path) -> None:
    """When a material change is decided not material by the editor, then the public change
    page says not material in plain words, and no change on it is marked material (the
    editor's reason and commit stay in `notices diff` and `log`)."""
    text = release_text(
        _with(LOCATION_AND_RECIPIENT), "2030-01-02", material="false",
        material_reason="经法务确认不构成重大变更",
    )
    sha = _release(seeded_repo, text, "2030-01-02")
    install_site(seeded_repo)
    out = tmp_path / "site"
    built = run_notices("site", "build", "--out", str(out), cwd=seeded_repo.path)
    assert built.code == 0, built.err
    page = (out / "archive" / "2030-01-02" / "changes" / "index.html").read_text(encoding="utf-8")
    assert "本次更改不属于重大变更，因此没有另行通知客户。" in page
    assert "notices-change--material" not in page and "notices-why" not in page
    assert "经法务确认不构成重大变更" not in page and sha[:12] not in page


# --- one verdict per version ------------------------------------------------------------------


EN = "notices/privacy/en.md"
EN_TEXT = """---
title: Privacy Statement for Online Services Operated by 21Vianet
version: {version}
last_updated: {version}
effective: {effective}
services: [azure, office365, powerbi]
---
# Privacy Statement for Online Services Operated by 21Vianet {{#privacy-statement}}

Last updated: {version}

## Customer data {{#customer-data}}

Customer data is all data you provide to us through your use of the services.
"""


def test_translation_carries_the_source_verdict(seeded_repo: NoticeRepo) -> None:
    """When the Chinese release is T3 and its English translation of the same version only
    changes its date, then log and notify plan rate the English release material T3 too,
    decided on the Chinese source."""
    seeded_repo.commit(
        "English translation", "2024-01-03T09:00:00+08:00",
        {EN: EN_TEXT.format(version="2018-11-01", effective="2018-11-01")},
    )
    zh = release_text(_with(LOCATION_AND_RECIPIENT), "2030-01-02", effective="2030-03-05")
    en = EN_TEXT.format(version="2030-01-02", effective="2030-03-05")
    seeded_repo.commit("Release 2030-01-02", "2030-01-02T10:00:00+08:00", {NOTICE: zh, EN: en})

    entries = json.loads(run_notices("log", "--json", cwd=seeded_repo.path).out)["releases"]
    verdicts = {(e["locale"], e["version"]): (e["verdict"], e["tier"]) for e in entries}
    assert verdicts[("zh-CN", "2030-01-02")] == ("material", "T3")
    assert verdicts[("en", "2030-01-02")] == ("material", "T3")
    plan = run_notices("notify", "plan", "2030-01-02", "--locale", "en", "--json",
                       cwd=seeded_repo.path, env=_environ(seeded_repo))
    assert plan.code == 0, plan.err
    assert (json.loads(plan.out)["material"], json.loads(plan.out)["tier"]) == (True, "T3")

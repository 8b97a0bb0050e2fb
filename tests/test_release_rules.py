"""Release rules of `notices check` on real git repositories: editorial revisions must not be
material, material releases need their notice period, mass removals need a reason."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from support.repos import NoticeRepo, for_you, release_text, seed_text, with_front

from notifier.errors import Problem
from notifier.releases.history import read_history
from notifier.releases.rules import release_problems
from notifier.settings import load_settings
from notifier.statement.materiality import load_rules

NOTICE = "notices/privacy/zh-CN.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=SHANGHAI)
CROSS_BORDER = (
    "客户数据将仅存储在位于中国的数据中心。",
    "客户数据将存储在位于中国和新加坡的数据中心。",
)
# The privacy officer's mail address moves (T1, M13); a postcode alone corrected is quiet (N14).
ADDRESS = (
    "酒仙桥路 6 号院电子城 · 国际电子总部 6 号楼 12-14 层 邮编：100015",
    "望京街 9 号 邮编：100102",
)
# what the editor tells customers about each edit above, by section id
STORED_ABROAD = for_you({"customer-data": "您的客户数据今后也可能存储在新加坡的数据中心。"})
NEW_ADDRESS = for_you({"contact": "我们的邮寄地址改为望京街 9 号（邮编 100102）。"})
TYPO = ("故障排查", "故障排察")


def _problems(repo: NoticeRepo, now: datetime = NOW) -> list[Problem]:
    """The release problems, but for what a consent request shows: the cross-border release
    here stores data abroad without naming who runs the data centre, and test_consent_request
    holds the findings on that."""
    settings = load_settings(repo.path, {})
    history = read_history(repo.path, settings)
    found = release_problems(history, settings, load_rules({}), now=now)
    return [problem for problem in found if problem.rule != "consent-request"]


def _edit(text: str, edit: tuple[str, str]) -> str:
    assert edit[0] in text
    return text.replace(edit[0], edit[1])


def _line_of(text: str, key: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(f"{key}:"))


def test_seed_alone_has_no_problems(seeded_repo: NoticeRepo) -> None:
    """When only the seed is released, then there is nothing to refuse."""
    assert _problems(seeded_repo) == []


def test_quiet_editorial_revision_passes(seeded_repo: NoticeRepo) -> None:
    """When a later commit keeps the version and only fixes a typo, then it is accepted."""
    seeded_repo.commit(
        "Fix a typo", "2024-01-05T09:00:00+08:00", {NOTICE: _edit(seed_text(), TYPO)}
    )
    assert _problems(seeded_repo) == []


def test_material_editorial_revision_is_refused(seeded_repo: NoticeRepo) -> None:
    """When a commit keeps the version but flips 不会 to 会, then check refuses it, naming the
    commit, the rule and the version line."""
    text = _edit(seed_text(), ("我们不会以此方式保存", "我们会以此方式保存"))
    sha = seeded_repo.commit("Quiet edit", "2024-01-05T09:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == [
        Problem(
            "error",
            "material-revision",
            f"commit {sha[:12]} changes version 2018-11-01 materially (T2: M21); "
            "an editorial revision must not",
            NOTICE,
            _line_of(text, "version"),
            "give the change a new version (with its own notice period), or undo it",
        )
    ]


def test_material_release_without_notice_period_is_refused(seeded_repo: NoticeRepo) -> None:
    """When a cross-border change is published on 1 March to take effect on 15 March, then check
    asks for 30 days' notice and says which effective date would do."""
    text = release_text(
        _edit(seed_text(), CROSS_BORDER),
        "2024-03-01",
        effective="2024-03-15",
        what_changes_for_you=STORED_ABROAD,
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == [
        Problem(
            "error",
            "notice-period",
            "release 2024-03-01 is material (T3: M10, M21) and published 2024-03-01 but takes "
            "effect 2024-03-15: 14 days' notice, 30 days' notice required",
            NOTICE,
            _line_of(text, "effective"),
            "set effective: 2024-04-01 or later",
        )
    ]


def test_material_release_with_notice_period_passes(seeded_repo: NoticeRepo) -> None:
    """When the same change takes effect 31 days after publication, then it is accepted."""
    text = release_text(
        _edit(seed_text(), CROSS_BORDER),
        "2024-03-01",
        effective="2024-04-01",
        what_changes_for_you=STORED_ABROAD,
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == []


def test_t1_change_may_take_effect_on_publication(seeded_repo: NoticeRepo) -> None:
    """When only the contact address changes (T1), then it may take effect the day it is
    published but not before."""
    text = release_text(
        _edit(seed_text(), ADDRESS),
        "2024-03-01",
        effective="2024-03-01",
        what_changes_for_you=NEW_ADDRESS,
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == []
    late = release_text(
        _edit(text, ("望京街 9 号", "望京街 10 号")),
        "2024-03-10",
        effective="2024-03-05",
        what_changes_for_you=for_you({"contact": "我们的邮寄地址改为望京街 10 号。"}),
    )
    seeded_repo.commit("Release 2024-03-10", "2024-03-10T10:00:00+08:00", {NOTICE: late})
    (problem,) = _problems(seeded_repo)
    assert (problem.severity, problem.rule) == ("error", "notice-period")
    assert problem.message.endswith(
        "takes effect 2024-03-05: 5 days before it is published, customers must be told by the "
        "effective date"
    )
    assert problem.hint == "set effective: 2024-03-10 or later"


def test_quiet_release_needs_no_notice(seeded_repo: NoticeRepo) -> None:
    """When a new version only fixes a typo and the date line, then it may take effect at once."""
    text = release_text(_edit(seed_text(), TYPO), "2024-03-01", effective="2024-03-01")
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == []


def test_override_false_with_reason_needs_no_notice(seeded_repo: NoticeRepo) -> None:
    """When the editor overrides the verdict with material: false and a reason, then the notice
    period is not required."""
    text = release_text(
        _edit(seed_text(), CROSS_BORDER),
        "2024-03-01",
        effective="2024-03-01",
        material="false",
        material_reason="新加坡机房仅用于灾备，经法务确认",
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == []


def _truncated(text: str) -> str:
    """A broken export: everything after the scope section is gone."""
    return text.split("\n## 我们如何收集和使用您的数据")[0] + "\n"


def test_mass_removal_is_refused(seeded_repo: NoticeRepo) -> None:
    """When a release drops most of the statement, then check refuses it as a broken export."""
    text = release_text(_truncated(seed_text()), "2024-03-01", effective="2024-06-01")
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    problems = _problems(seeded_repo)
    assert [(p.severity, p.rule, p.line) for p in problems] == [
        ("error", "mass-removal", _line_of(text, "version"))
    ]
    assert problems[0].message == "release 2024-03-01 removes 19 of 21 sections of the statement"


def test_mass_removal_with_reason_passes(seeded_repo: NoticeRepo) -> None:
    """When the release explains the removal in material_reason, then it is accepted."""
    text = release_text(
        _truncated(seed_text()),
        "2024-03-01",
        effective="2024-06-01",
        material_reason="服务终止，声明只保留范围一节",
        what_changes_for_you=for_you({"privacy-statement": "服务已终止，我们不再处理您的数据。"}),
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    assert _problems(seeded_repo) == []


def test_mass_removal_in_an_editorial_revision(seeded_repo: NoticeRepo) -> None:
    """When a same-version commit truncates the statement, then check refuses it."""
    seeded_repo.commit("Re-export", "2024-01-05T09:00:00+08:00", {NOTICE: _truncated(seed_text())})
    (problem,) = _problems(seeded_repo)
    assert (problem.severity, problem.rule) == ("error", "mass-removal")
    assert "removes 19 of 21 sections of version 2018-11-01" in problem.message


def test_superseded_release_problem_is_a_warning(seeded_repo: NoticeRepo) -> None:
    """When an old release lacked notice but a newer release followed and it is in effect, then
    its problem is reported as a warning that cannot be fixed; the newest stays an error."""
    first = release_text(
        _edit(seed_text(), CROSS_BORDER),
        "2024-03-01",
        effective="2024-03-05",
        what_changes_for_you=STORED_ABROAD,
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: first})
    second = release_text(
        _edit(first, ("我们不会以此方式保存", "我们会以此方式保存")),
        "2024-05-01",
        effective="2024-05-02",
        what_changes_for_you=for_you({"payment-data": "我们今后会保存您支付工具的安全码。"}),
    )
    seeded_repo.commit("Release 2024-05-01", "2024-05-01T10:00:00+08:00", {NOTICE: second})
    problems = _problems(seeded_repo, now=datetime(2024, 5, 1, 12, tzinfo=SHANGHAI))
    assert [(p.severity, p.rule, p.message.split(" is material")[0]) for p in problems] == [
        ("warning", "notice-period", "release 2024-03-01"),
        ("error", "notice-period", "release 2024-05-01"),
    ]
    assert problems[0].hint == (
        "already superseded and in effect, so it cannot be fixed; recorded as history"
    )


def test_pending_release_in_the_working_tree(seeded_repo: NoticeRepo) -> None:
    """When the working tree holds a new material version that is not committed, then check
    measures its notice period from now."""
    text = release_text(
        _edit(seed_text(), CROSS_BORDER),
        "2024-03-01",
        effective="2024-03-20",
        what_changes_for_you=STORED_ABROAD,
    )
    seeded_repo.write(NOTICE, text)
    (problem,) = _problems(seeded_repo)
    assert (problem.severity, problem.rule, problem.path) == ("error", "notice-period", NOTICE)
    assert problem.message.startswith("pending release 2024-03-01 is material (T3: M10, M21)")
    assert problem.hint == "set effective: 2024-04-01 or later"
    seeded_repo.write(NOTICE, with_front(text, effective="2024-04-01"))
    assert _problems(seeded_repo) == []


def test_pending_editorial_revision_in_the_working_tree(seeded_repo: NoticeRepo) -> None:
    """When the working tree changes the released version materially without a new version,
    then check refuses it before it is committed."""
    seeded_repo.write(NOTICE, _edit(seed_text(), ADDRESS))
    (problem,) = _problems(seeded_repo)
    assert (problem.rule, problem.message) == (
        "material-revision",
        "the working tree changes version 2018-11-01 materially (T1: M13); "
        "an editorial revision must not",
    )


# --- what changes for you ---------------------------------------------------------------------


def test_material_release_says_what_changes_for_customers(seeded_repo: NoticeRepo) -> None:
    """When a material release gives no plain words for its material section, then check refuses
    it naming the section, its id and the locale; an entry copied unchanged from the version
    before does not count; an entry for a parent section covers its subsections."""
    bare = release_text(_edit(seed_text(), CROSS_BORDER), "2024-03-01", effective="2024-04-01")
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: bare})
    (problem,) = _problems(seeded_repo)
    assert (problem.severity, problem.rule, problem.line) == (
        "error",
        "what-changes-for-you",
        _line_of(bare, "version"),
    )
    assert problem.message == (
        "release 2024-03-01 does not say what changes for customers in zh-CN for "
        "“我们如何收集和使用您的数据 > 客户数据” (customer-data)"
    )
    chapter = with_front(bare, what_changes_for_you=for_you({"collection-and-use": "存储地点"}))
    seeded_repo.commit("Say it", "2024-03-01T11:00:00+08:00", {NOTICE: chapter})
    assert _problems(seeded_repo) == []


def test_copied_what_changes_for_you_does_not_count(seeded_repo: NoticeRepo) -> None:
    """When the next material release keeps the previous release's sentence unchanged, then it
    is refused: last month's words do not describe this month's change."""
    first = release_text(
        _edit(seed_text(), CROSS_BORDER),
        "2024-03-01",
        effective="2024-04-01",
        what_changes_for_you=STORED_ABROAD,
    )
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: first})
    second = release_text(
        _edit(first, ("中国和新加坡", "中国、新加坡和日本")), "2024-05-01", effective="2024-06-01"
    )
    seeded_repo.commit("Release 2024-05-01", "2024-05-01T10:00:00+08:00", {NOTICE: second})
    (problem,) = _problems(seeded_repo, now=datetime(2024, 5, 1, 12, tzinfo=SHANGHAI))
    assert (problem.rule, problem.line) == (
        "what-changes-for-you",
        _line_of(second, "what_changes_for_you"),
    )
    assert "(customer-data)" in problem.message



def test_a_summary_copied_from_the_version_before_is_refused(seeded_repo: NoticeRepo) -> None:
    """When a new version keeps the previous version's summary word for word, then check refuses
    it on the summary line: customers would read last release's words about this change."""
    seed_summary = seed_text().split("summary: ", 1)[1].split("\n", 1)[0]
    text = release_text(_edit(seed_text(), TYPO), "2024-03-01", summary=seed_summary)
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: text})
    (problem,) = _problems(seeded_repo)
    assert (problem.rule, problem.line, problem.message) == (
        "copied-summary",
        _line_of(text, "summary"),
        "release 2024-03-01 has the summary of version 2018-11-01 unchanged",
    )

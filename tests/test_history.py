"""Releases read from real git repositories whose commits carry fixed dates."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.repos import CORPUS, NoticeRepo, release_text, seed_text, with_front

from notifier.cli import contracts
from notifier.errors import HistoryError, VersionNotFound
from notifier.releases.history import (
    APPEND_ONLY_HINT,
    History,
    RewrittenRelease,
    ensure_not_rewritten,
    main_tip,
    read_history,
    record_path,
    record_releases,
    rewritten,
    tip,
)
from notifier.settings import load_settings

PATH = "notices/privacy/zh-CN.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))
MOZILLA = CORPUS / "mozilla-legal-docs" / "firefox_privacy_notice" / "zh-CN"
EDIT_OLD = "关于特定功能的更多信息"
EDIT_NEW = "关于特定功能的详细信息"


def history_of(repo: NoticeRepo) -> History:
    return read_history(repo.path, load_settings(repo.path, {}))


def sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def second_release() -> str:
    return release_text(seed_text(), "2024-03-01", effective="2024-04-15", summary="保留期更新")


def test_seed_only(seeded_repo: NoticeRepo) -> None:
    """when only the seed is committed, then it is one release published on its `published:`."""
    commit = seeded_repo.git("rev-parse", "HEAD")
    history = history_of(seeded_repo)
    (release,) = history.releases
    assert (history.ref, history.head, history.rewrites, history.unreadable) == (
        "main",
        commit,
        (),
        (),
    )
    assert release.id == "privacy/zh-CN/2018-11-01"
    assert (release.notice, release.locale, release.path) == ("privacy", "zh-CN", PATH)
    assert release.published == datetime(2018, 11, 1, tzinfo=SHANGHAI)
    assert release.committed == datetime(2024, 1, 2, 9, 0, tzinfo=CST)
    assert (release.effective, release.last_updated) == (date(2018, 11, 1), date(2018, 11, 1))
    assert (release.commit, release.message) == (commit, "Add the 2018-11-01 privacy statement")
    assert release.sha256 == release.first_sha256 == sha(seed_text())
    assert release.text == release.first_text == seed_text()
    assert release.title == "世纪互联运营的在线服务隐私声明"
    assert release.services == ("azure", "office365", "powerbi")
    assert (release.override, release.revisions) == (None, ())
    assert release.notice_doc.section("retention") is not None
    assert release.effective_at(SHANGHAI).isoformat() == "2018-11-01T00:00:00+08:00"
    assert history.notices() == (("privacy", "zh-CN"),)
    assert history.previous(release) is None
    assert history.latest("privacy", "zh-CN") == release


def test_two_releases(seeded_repo: NoticeRepo) -> None:
    """when a second version is committed, then it is published at its commit's committer date."""
    commit = seeded_repo.commit(
        "Release 2024-03-01", "2024-03-01T15:30:00+08:00", {PATH: second_release()}
    )
    history = history_of(seeded_repo)
    first, second = history.releases
    assert [r.version for r in history.releases] == ["2018-11-01", "2024-03-01"]
    assert second.published == datetime(2024, 3, 1, 15, 30, tzinfo=CST)
    assert (second.commit, second.effective, second.summary) == (
        commit,
        date(2024, 4, 15),
        "保留期更新",
    )
    assert second.sha256 == sha(second_release())
    assert history.previous(second) == first
    assert history.latest("privacy", "zh-CN") == second
    assert history.find("2024-03-01") == second
    assert history.find("privacy/zh-CN/2018-11-01") == first
    assert history.find("2018-11-01", notice="privacy", locale="zh-CN") == first


def test_editorial_revision(seeded_repo: NoticeRepo) -> None:
    """when a later commit keeps the version, then it is a revision and its text is in force."""
    first_commit = seeded_repo.git("rev-parse", "HEAD")
    revised = seed_text().replace(EDIT_OLD, EDIT_NEW)
    assert revised != seed_text()
    commit = seeded_repo.commit("Fix wording", "2024-02-10T11:00:00+08:00", {PATH: revised})
    (release,) = history_of(seeded_repo).releases
    assert (release.commit, release.in_force_commit) == (first_commit, commit)
    assert release.published == datetime(2018, 11, 1, tzinfo=SHANGHAI)
    assert (release.sha256, release.first_sha256) == (sha(revised), sha(seed_text()))
    assert (release.text, release.first_text) == (revised, seed_text())
    assert EDIT_NEW in release.notice_doc.text
    (revision,) = release.revisions
    assert revision.commit == commit
    assert revision.committed == datetime(2024, 2, 10, 11, 0, tzinfo=CST)
    assert (revision.sha256, revision.message, revision.text) == (
        sha(revised),
        "Fix wording",
        revised,
    )


def test_merge_counts_at_merge_date(seeded_repo: NoticeRepo) -> None:
    """when a pull request is merged, then its release is published at the merge commit's date."""
    seeded_repo.git("checkout", "-q", "-b", "pr")
    draft = release_text(seed_text(), "2024-02-01")
    seeded_repo.commit("Draft", "2024-02-01T10:00:00+08:00", {PATH: draft})
    seeded_repo.commit("Final", "2024-02-20T10:00:00+08:00", {PATH: second_release()})
    seeded_repo.git("checkout", "-q", "main")
    seeded_repo.commit("Unrelated", "2024-02-25T10:00:00+08:00", {"README.md": "说明\n"})
    when = "2024-03-05T18:00:00+08:00"
    seeded_repo.git("merge", "-q", "--no-ff", "pr", "-m", "Merge pull request #1", when=when)
    merge = seeded_repo.git("rev-parse", "HEAD")
    history = history_of(seeded_repo)
    assert [r.version for r in history.releases] == ["2018-11-01", "2024-03-01"]
    second = history.releases[1]
    assert (second.commit, second.message) == (merge, "Merge pull request #1")
    assert second.published == datetime(2024, 3, 5, 18, 0, tzinfo=CST)
    assert second.revisions == ()


def test_notice_added_later(seeded_repo: NoticeRepo) -> None:
    """when a locale is added in a later commit, then its releases start at that commit."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    english = "---\nversion: 2024-04-01\neffective: 2024-04-01\ntitle: Privacy\n---\n# Privacy\n"
    commit = seeded_repo.commit(
        "Add English", "2024-04-01T10:00:00+08:00", {"notices/privacy/en.md": english}
    )
    history = history_of(seeded_repo)
    assert [r.id for r in history.releases] == [
        "privacy/zh-CN/2018-11-01",
        "privacy/zh-CN/2024-03-01",
        "privacy/en/2024-04-01",
    ]
    (en,) = history.releases_of("privacy", "en")
    assert (en.commit, en.path, en.title) == (commit, "notices/privacy/en.md", "Privacy")
    assert en.last_updated == date(2024, 4, 1)
    assert history.notices() == (("privacy", "zh-CN"), ("privacy", "en"))
    assert history.find("2024-04-01") == en
    assert history.previous(en) is None


def test_releases_sorted_by_publish_time(seeded_repo: NoticeRepo) -> None:
    """when a later commit states an earlier `published:`, then releases are ordered by it."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    older = "---\nversion: 2019-06-01\npublished: 2019-06-01\n---\n# Cookies\n"
    seeded_repo.commit(
        "Archive the cookie notice",
        "2024-05-01T10:00:00+08:00",
        {"notices/cookies/zh-CN.md": older},
    )
    history = history_of(seeded_repo)
    assert [r.id for r in history.releases] == [
        "privacy/zh-CN/2018-11-01",
        "cookies/zh-CN/2019-06-01",
        "privacy/zh-CN/2024-03-01",
    ]
    cookies = history.releases[1]
    assert cookies.published == datetime(2019, 6, 1, tzinfo=SHANGHAI)
    assert cookies.effective == date(2019, 6, 1)  # no `effective:`: the publish date
    assert cookies.title == "Cookies"  # no `title:`: the top heading
    assert history.notices() == (("cookies", "zh-CN"), ("privacy", "zh-CN"))


def test_same_version_in_two_notices_is_ambiguous(seeded_repo: NoticeRepo) -> None:
    """when two notices share a version, then `find` without --notice asks for one."""
    cookies = "---\nversion: 2018-11-01\n---\n# Cookies\n"
    seeded_repo.commit(
        "Cookies", "2024-05-01T10:00:00+08:00", {"notices/cookies/zh-CN.md": cookies}
    )
    history = history_of(seeded_repo)
    with pytest.raises(VersionNotFound) as raised:
        history.find("2018-11-01")
    assert str(raised.value) == (
        "version '2018-11-01' exists in several notices: privacy/zh-CN, cookies/zh-CN "
        "(hint: name one with --notice and --locale)"
    )
    assert history.find("2018-11-01", notice="cookies").path == "notices/cookies/zh-CN.md"


def test_find_unknown_version_lists_known_ones(seeded_repo: NoticeRepo) -> None:
    """when a version does not exist, then VersionNotFound's hint lists the known versions."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    history = history_of(seeded_repo)
    with pytest.raises(VersionNotFound) as raised:
        history.find("2024-02-30")
    assert str(raised.value) == (
        "no release '2024-02-30' on main (hint: known versions: 2024-03-01, 2018-11-01)"
    )
    with pytest.raises(VersionNotFound, match="no release '2024-03-01' of privacy/en on main"):
        history.find("2024-03-01", notice="privacy", locale="en")


def mozilla_release() -> bytes:
    """A real Mozilla zh-CN file (BOM and CRLF) wrapped with our front matter, CRLF too."""
    original = (MOZILLA / "2017-09-22.md").read_bytes()
    assert original.startswith(b"\xef\xbb\xbf") and b"\r\n" in original
    front = (
        "---\r\ntitle: Firefox 隐私声明\r\nversion: 2017-09-28\r\nlast_updated: 2017-09-28\r\n"
        "effective: 2017-09-28\r\nservices: [firefox]\r\n---\r\n"
    )
    return b"\xef\xbb\xbf" + front.encode("utf-8") + original[3:]


def test_bom_and_crlf_survive(notice_repo: NoticeRepo) -> None:
    """when a file has a BOM and CRLF, then the flags survive and sha256 is over stored bytes."""
    data = mozilla_release()
    notice_repo.commit("Firefox", "2024-01-05T10:00:00+08:00", {"notices/firefox/zh-CN.md": data})
    history = history_of(notice_repo)
    (release,) = history.releases
    assert (release.id, release.title) == ("firefox/zh-CN/2017-09-28", "Firefox 隐私声明")
    assert release.sha256 == release.first_sha256 == sha(data)
    assert release.notice_doc.has_bom and release.notice_doc.has_crlf
    assert "\r" not in release.text and not release.text.startswith("\ufeff")
    assert release.published == datetime(2024, 1, 5, 10, 0, tzinfo=CST)
    assert history.text_at(release.commit, release.path) == data
    first = release.notice_doc.sections[0]  # 7 lines of front matter, then the body
    assert (first.line, first.level) == (8, 2)
    assert first.title.startswith('<span class="privacy-header-firefox">Firefox</span>')


def test_version_coming_back_is_a_rewrite(seeded_repo: NoticeRepo) -> None:
    """when version A returns after B with a different text, then history reports a rewrite."""
    seeded_repo.commit("Release B", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    back = seed_text().replace(EDIT_OLD, EDIT_NEW)
    commit = seeded_repo.commit("Oops", "2024-03-02T10:00:00+08:00", {PATH: back})
    history = history_of(seeded_repo)
    assert history.rewrites == (
        RewrittenRelease(
            "privacy/zh-CN/2018-11-01",
            sha(seed_text()),
            sha(back),
            f"version 2018-11-01 comes back at commit {commit[:12]} (2024-03-02T10:00:00+08:00) "
            "after version 2024-03-01 with a different text",
        ),
    )
    first = history.find("2018-11-01")
    assert (first.sha256, first.revisions) == (sha(seed_text()), ())
    with pytest.raises(HistoryError) as raised:
        ensure_not_rewritten(history, seeded_repo.path / "var" / "releases.lock.json")
    assert raised.value.hint == APPEND_ONLY_HINT
    assert raised.value.message.startswith(
        "published history was rewritten: privacy/zh-CN/2018-11-01: version 2018-11-01 comes back"
    )


def test_revert_to_an_older_version_is_reported(seeded_repo: NoticeRepo) -> None:
    """when main goes back to an older version's exact text, then it is reported as a revert."""
    seeded_repo.commit("Release B", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    seeded_repo.commit("Revert B", "2024-03-02T10:00:00+08:00", {PATH: seed_text()})
    (found,) = history_of(seeded_repo).rewrites
    assert found.recorded_sha256 == found.current_sha256 == sha(seed_text())
    assert found.detail.endswith("(a revert: publish the old text as a new version)")


def test_record_and_rewritten_round_trip(seeded_repo: NoticeRepo) -> None:
    """when a recorded release is amended or dropped, then `rewritten` reports it loudly."""
    settings = load_settings(seeded_repo.path, {})
    record = record_path(settings)
    assert record == seeded_repo.path / "var" / "releases.lock.json"
    second = seeded_repo.commit("Release B", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    history = read_history(seeded_repo.path, settings)
    assert record_releases(history, record) == (
        "privacy/zh-CN/2018-11-01",
        "privacy/zh-CN/2024-03-01",
    )
    recorded = json.loads(record.read_text(encoding="utf-8"))
    assert recorded["format"] == 1
    assert recorded["releases"]["privacy/zh-CN/2024-03-01"] == {
        "sha256": sha(second_release()),
        "commit": second,
        "published": "2024-03-01T10:00:00+08:00",
        "path": PATH,
    }
    assert sorted(p.name for p in record.parent.iterdir()) == ["releases.lock.json"]
    assert rewritten(history, record) == ()
    assert record_releases(history, record) == ()
    ensure_not_rewritten(history, record)

    amended = second_release().replace(EDIT_OLD, EDIT_NEW)
    seeded_repo.write(PATH, amended)
    seeded_repo.git("commit", "-q", "-a", "--amend", "--no-edit", when="2024-03-01T10:00:00+08:00")
    history = read_history(seeded_repo.path, settings)
    assert rewritten(history, record) == (
        RewrittenRelease(
            "privacy/zh-CN/2024-03-01",
            sha(second_release()),
            sha(amended),
            f"the text published at commit {second[:12]} was rewritten "
            f"(now commit {history.releases[1].commit[:12]})",
        ),
    )
    with pytest.raises(HistoryError, match="published history was rewritten"):
        record_releases(history, record)

    seeded_repo.git("reset", "-q", "--hard", "HEAD~1")
    history = read_history(seeded_repo.path, settings)
    (gone,) = rewritten(history, record)
    assert (gone.release_id, gone.current_sha256) == ("privacy/zh-CN/2024-03-01", None)
    assert gone.detail == f"published at commit {second[:12]}, no longer in the history of main"
    with pytest.raises(HistoryError) as raised:
        ensure_not_rewritten(history, record)
    assert str(raised.value) == (
        f"{record}: published history was rewritten: privacy/zh-CN/2024-03-01: published at "
        f"commit {second[:12]}, no longer in the history of main (hint: {APPEND_ONLY_HINT})"
    )


def test_moved_publish_date_is_a_rewrite(seeded_repo: NoticeRepo) -> None:
    """when a recorded release's commit is re-made at another date, then it is reported."""
    settings = load_settings(seeded_repo.path, {})
    record = record_path(settings)
    seeded_repo.commit("Release B", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    record_releases(read_history(seeded_repo.path, settings), record)
    seeded_repo.git("commit", "-q", "--amend", "--no-edit", when="2024-03-20T10:00:00+08:00")
    (found,) = rewritten(read_history(seeded_repo.path, settings), record)
    assert found.recorded_sha256 == found.current_sha256 == sha(second_release())
    assert found.detail.startswith(
        "publish date moved from 2024-03-01T10:00:00+08:00 to 2024-03-20T10:00:00+08:00"
    )


def test_broken_record_is_an_error(seeded_repo: NoticeRepo) -> None:
    """when the record is not valid JSON, then HistoryError names the file and the line."""
    record = seeded_repo.write("var/releases.lock.json", '{\n  "format": 1,\n  "releases": {,\n}')
    with pytest.raises(HistoryError) as raised:
        rewritten(history_of(seeded_repo), record)
    assert (raised.value.path, raised.value.line) == (str(record), 3)
    seeded_repo.write("var/releases.lock.json", '{"format": 1, "releases": []}')
    with pytest.raises(HistoryError, match="unknown shape"):
        rewritten(history_of(seeded_repo), record)


def test_published_override(notice_repo: NoticeRepo) -> None:
    """when the first commit says `published:`, then that date at 00:00 local time is used."""
    text = release_text(seed_text(), "2020-05-01", published="2020-05-02")
    notice_repo.commit("Import", "2024-06-01T10:00:00+08:00", {PATH: text})
    (release,) = history_of(notice_repo).releases
    assert release.published == datetime(2020, 5, 2, tzinfo=SHANGHAI)
    assert release.published.isoformat() == "2020-05-02T00:00:00+08:00"
    assert release.committed == datetime(2024, 6, 1, 10, 0, tzinfo=CST)


def test_unreadable_version_in_between_is_skipped(seeded_repo: NoticeRepo) -> None:
    """when a middle commit's file is broken, then it is skipped and listed, not fatal."""
    broken = seeded_repo.commit(
        "Broken export", "2024-02-01T10:00:00+08:00", {PATH: "---\nversion: [\n---\n# 隐私\n"}
    )
    seeded_repo.commit("Fix", "2024-02-02T10:00:00+08:00", {PATH: second_release()})
    history = history_of(seeded_repo)
    assert [r.version for r in history.releases] == ["2018-11-01", "2024-03-01"]
    assert history.releases[1].published == datetime(2024, 2, 2, 10, 0, tzinfo=CST)
    (skipped,) = history.unreadable
    assert (skipped.path, skipped.commit, skipped.line) == (PATH, broken, 2)
    assert "front matter is not valid YAML" in skipped.reason


def test_unreadable_text_in_force_is_an_error(seeded_repo: NoticeRepo) -> None:
    """when the newest version of a file cannot be read, then HistoryError names file and line."""
    commit = seeded_repo.commit(
        "No front matter", "2024-02-01T10:00:00+08:00", {PATH: "# 隐私声明\n\n正文\n"}
    )
    with pytest.raises(HistoryError) as raised:
        history_of(seeded_repo)
    assert str(raised.value) == (
        f"{PATH}:1: the text in force cannot be read at commit {commit[:12]}: no `version` in the "
        "front matter (hint: every version of a notice on main needs front matter with `version:`)"
    )
    seeded_repo.commit(
        "GBK", "2024-02-02T10:00:00+08:00", {PATH: "---\nversion: 1\n---\n隐私".encode("gb18030")}
    )
    with pytest.raises(HistoryError, match="not valid UTF-8 text .*GBK"):
        history_of(seeded_repo)


def test_deleted_notice_keeps_its_releases(seeded_repo: NoticeRepo) -> None:
    """when a notice file is deleted, then its published releases stay in history."""
    extra = "---\nversion: 2024-01-10\n---\n# Cookies\n"
    seeded_repo.commit("Cookies", "2024-01-10T10:00:00+08:00", {"notices/cookies/zh-CN.md": extra})
    seeded_repo.git("rm", "-q", "notices/cookies/zh-CN.md")
    seeded_repo.commit("Drop cookies", "2024-02-10T10:00:00+08:00")
    history = history_of(seeded_repo)
    assert [r.id for r in history.releases] == [
        "privacy/zh-CN/2018-11-01",
        "cookies/zh-CN/2024-01-10",
    ]


def test_other_files_are_ignored(seeded_repo: NoticeRepo) -> None:
    """when non-notice files sit in the notices folder, then they are not releases."""
    seeded_repo.commit(
        "Docs",
        "2024-02-01T10:00:00+08:00",
        {
            "notices/README.md": "# 说明\n",
            "notices/privacy/README.md": "# 说明\n",
            "notices/privacy/old/zh-CN.md": "# 旧\n",
            "docs/zh-CN.md": "# 文档\n",
        },
    )
    assert [r.id for r in history_of(seeded_repo).releases] == ["privacy/zh-CN/2018-11-01"]


def test_text_at(seeded_repo: NoticeRepo) -> None:
    """when asked for a file at a revision, then its exact bytes come back or a clear error."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    seeded_repo.git("tag", "v1", "HEAD~1")
    history = history_of(seeded_repo)
    assert history.text_at("v1", PATH) == seed_text().encode("utf-8")
    assert history.text_at("HEAD~1", str(seeded_repo.path / PATH)) == seed_text().encode("utf-8")
    assert history.text_at("main", PATH).endswith(b"\n")
    assert history.text_at(history.releases[1].commit, PATH) == second_release().encode("utf-8")
    with pytest.raises(VersionNotFound, match="unknown git revision 'nope'"):
        history.text_at("nope", PATH)
    with pytest.raises(VersionNotFound) as raised:
        history.text_at("v1", "notices/privacy/en.md")
    assert str(raised.value) == (
        "notices/privacy/en.md: file does not exist at v1 "
        "(hint: check the path; notice files are never renamed)"
    )
    with pytest.raises(VersionNotFound, match="not a file at v1 but a tree"):
        history.text_at("v1", "notices")
    with pytest.raises(VersionNotFound, match="not a git revision"):
        history.text_at("--output=x", PATH)


def test_to_json(seeded_repo: NoticeRepo) -> None:
    """when a release is turned into JSON, then its dates are ISO 8601 with offsets."""
    revised = seed_text().replace(EDIT_OLD, EDIT_NEW)
    commit = seeded_repo.commit("Fix wording", "2024-02-10T11:00:00+08:00", {PATH: revised})
    (release,) = history_of(seeded_repo).releases
    data = contracts.release(release)
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert {k: data[k] for k in ("id", "published", "effective", "sha256", "revisions")} == {
        "id": "privacy/zh-CN/2018-11-01",
        "published": "2018-11-01T00:00:00+08:00",
        "effective": "2018-11-01",
        "sha256": sha(revised),
        "revisions": [
            {
                "commit": commit,
                "committed": "2024-02-10T11:00:00+08:00",
                "sha256": sha(revised),
                "message": "Fix wording",
            }
        ],
    }


def test_not_a_git_repository(tmp_path: Path) -> None:
    """when the folder is not a git repository, then HistoryError says so."""
    folder = tmp_path / "plain"
    folder.mkdir()
    settings = load_settings(folder, {})
    with pytest.raises(HistoryError) as raised:
        read_history(folder, settings)
    assert str(raised.value) == (
        f"{folder}: not a git repository "
        "(hint: run this inside a clone of the notices repository, or pass --repo PATH)"
    )


def test_repository_without_commits(notice_repo: NoticeRepo) -> None:
    """when the repository has no commits, then HistoryError says so."""
    with pytest.raises(HistoryError, match="the repository has no commits yet"):
        history_of(notice_repo)


def test_no_notices_yet(notice_repo: NoticeRepo) -> None:
    """when commits exist but no notice file, then history has no releases."""
    notice_repo.commit("Settings", "2024-01-01T10:00:00+08:00")
    history = history_of(notice_repo)
    assert (history.releases, history.notices()) == ((), ())
    with pytest.raises(VersionNotFound, match="no release has been published yet"):
        history.find("2018-11-01")


def test_shallow_clone_is_refused(seeded_repo: NoticeRepo, tmp_path: Path) -> None:
    """when the clone is shallow, then HistoryError tells how to fetch the whole history."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    clone = tmp_path / "clone"
    seeded_repo.git("clone", "-q", "--depth", "1", f"file://{seeded_repo.path}", str(clone))
    with pytest.raises(HistoryError) as raised:
        read_history(clone, load_settings(clone, {}))
    assert raised.value.message.startswith("the repository is a shallow clone")
    assert raised.value.hint is not None and "git fetch --unshallow" in raised.value.hint


def test_detached_head_reads_main(seeded_repo: NoticeRepo) -> None:
    """when HEAD is detached at an old commit, then main's history is still read in full."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    seeded_repo.git("checkout", "-q", "--detach", "HEAD~1")
    history = history_of(seeded_repo)
    assert history.ref == "main"
    assert [r.version for r in history.releases] == ["2018-11-01", "2024-03-01"]


def test_without_main_reads_head_with_warning(
    seeded_repo: NoticeRepo, caplog: pytest.LogCaptureFixture
) -> None:
    """when there is no branch main and HEAD is detached, then HEAD is read with a warning."""
    seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    seeded_repo.git("checkout", "-q", "--detach", "HEAD~1")
    seeded_repo.git("branch", "-q", "-D", "main")
    with caplog.at_level(logging.WARNING, logger="notifier.releases.history"):
        history = history_of(seeded_repo)
    assert (history.ref, [r.version for r in history.releases]) == ("HEAD", ["2018-11-01"])
    assert [r.getMessage() for r in caplog.records] == [
        f"no branch 'main' in {seeded_repo.path}: reading the history of a detached HEAD"
    ]


def test_edited_front_matter_only(seeded_repo: NoticeRepo) -> None:
    """when only the summary changes under the same version, then the release shows the new one."""
    revised = with_front(seed_text(), summary="首个存档版本")
    seeded_repo.commit("Summary", "2024-02-10T11:00:00+08:00", {PATH: revised})
    (release,) = history_of(seeded_repo).releases
    assert (release.summary, len(release.revisions)) == ("首个存档版本", 1)


def test_project_in_a_subfolder(notice_repo: NoticeRepo) -> None:
    """when the project is a folder of a larger repository, then paths stay project-relative."""
    notice_repo.write("legal/notices.toml", (notice_repo.path / "notices.toml").read_bytes())
    commit = notice_repo.commit(
        "Legal", "2024-01-02T09:00:00+08:00", {"legal/" + PATH: seed_text(), PATH: "# 别的\n"}
    )
    project = notice_repo.path / "legal"
    history = read_history(project, load_settings(project, {}))
    (release,) = history.releases
    assert (release.path, release.commit) == (PATH, commit)
    assert history.text_at("HEAD", PATH) == seed_text().encode("utf-8")


def test_releases_are_hashable(seeded_repo: NoticeRepo) -> None:
    """when releases are used as keys, then equal releases hash alike and parse lazily once."""
    first, again = history_of(seeded_repo).releases[0], history_of(seeded_repo).releases[0]
    assert first == again and {first: 1}[again] == 1
    assert first.notice_doc is first.notice_doc


def test_main_tip_is_read_from_the_ref_files_as_git_reads_them(
    seeded_repo: NoticeRepo, tmp_path: Path
) -> None:
    """when main moves as a loose ref, as a packed one, in a linked worktree, or goes away,
    then main_tip says what `git rev-parse main` says, or None where only git can tell."""
    project = seeded_repo.path / "legal"  # a subfolder and a worktree find the same refs
    project.mkdir()
    worktree = tmp_path / "worktree"
    seeded_repo.git("worktree", "add", "-q", "--detach", str(worktree))

    def agreed() -> str | None:
        found = {main_tip(place) for place in (seeded_repo.path, project, worktree)}
        assert len(found) == 1, found
        return found.pop()

    assert agreed() == seeded_repo.git("rev-parse", "main") == tip(seeded_repo.path)
    moved = seeded_repo.commit("Release", "2024-03-01T10:00:00+08:00", {PATH: second_release()})
    assert agreed() == moved
    seeded_repo.git("pack-refs", "--all")
    assert not (seeded_repo.path / ".git" / "refs" / "heads" / "main").exists()
    assert agreed() == moved
    for n in range(1300):  # main's line beyond the first 64 KB of packed-refs
        (seeded_repo.path / ".git" / "refs" / "heads" / f"a{n:04}").write_text(moved + "\n")
    seeded_repo.git("pack-refs", "--all")
    packed = (seeded_repo.path / ".git" / "packed-refs").read_text()
    assert packed.index("refs/heads/main") > 65536
    assert agreed() == moved
    seeded_repo.git("checkout", "-q", "--detach")
    seeded_repo.git("update-ref", "refs/heads/main", "HEAD~1")  # a loose ref beside the packed
    assert agreed() == seeded_repo.git("rev-parse", "HEAD~1") == tip(seeded_repo.path)
    seeded_repo.git("branch", "-q", "-D", "main")
    assert agreed() is None
    seeded_repo.git("symbolic-ref", "refs/heads/main", "refs/heads/other")
    assert agreed() is None

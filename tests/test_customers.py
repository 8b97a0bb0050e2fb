"""Importing the customer directory: every row validated, nothing half-imported."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select
from support.notify import write_customers
from support.repos import NoticeRepo, run_notices
from support.schedule import postgres_database

from notifier.storage import db, schema

HEADER = "email,name,locale,services\n"


def test_import_valid_rows(notice_repo: NoticeRepo) -> None:
    """When every row is valid, then all are imported and the database is owner-only."""
    write_customers(notice_repo.path / "c.csv", 30)
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert result.code == 0, result.err
    assert result.out == "imported 30 customer(s), skipped 0 row(s)\n"
    assert (notice_repo.path / "var" / "notices.db").stat().st_mode & 0o777 == 0o600


def test_bad_rows_are_all_reported_and_nothing_imported(notice_repo: NoticeRepo) -> None:
    """When rows are bad, then each is named by row and nothing is imported."""
    rows = [
        "wang.wei@example.com,王伟,zh-CN,azure",
        "not-an-address,李娜,zh-CN,azure",
        "li.na@example.com,李娜,法语,azure",
        "zhao@example.com,赵敏,zh-CN,dynamics",
        "wang.wei@example.com,王伟,zh-CN,powerbi",
        "evil@example.com,=cmd|' /C calc'!A0,en,azure",
    ]
    (notice_repo.path / "c.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert result.code == 1
    lines = result.err.splitlines()
    assert [line.split(":")[2].strip() for line in lines[:-1]] == [
        "row 3",
        "row 4",
        "row 5",
        "row 6",
        "row 7",
    ]
    assert "not-an-address" not in result.err and "wang.wei@example.com" not in result.err
    assert lines[-1].startswith("error: c.csv: 5 invalid row(s); nothing imported")
    again = run_notices("customers", "import", "c.csv", "--skip-invalid", cwd=notice_repo.path)
    assert again.out.endswith("imported 1 customer(s), skipped 5 row(s)\n")


def test_missing_column(notice_repo: NoticeRepo) -> None:
    """When a column is missing, then the header row is named."""
    (notice_repo.path / "c.csv").write_text("email,name\na@example.com,甲\n", encoding="utf-8")
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert result.code == 1
    assert "c.csv: row 1: missing column(s): locale, services" in result.err


def test_a_column_named_twice_is_refused(notice_repo: NoticeRepo) -> None:
    """When the header names a column twice, then the import is refused at the header: which
    of the two holds the address would be a guess."""
    (notice_repo.path / "c.csv").write_text(
        "email,name,locale,services,email\na@example.com,甲,zh-CN,azure,b@example.com\n",
        encoding="utf-8",
    )
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert result.code == 1
    assert "c.csv: row 1: column(s) named twice: email" in result.err


def test_rows_are_numbered_as_a_spreadsheet_shows_them(notice_repo: NoticeRepo) -> None:
    """Given columns in another order, one more column, an empty row and a short row, then the
    empty row is skipped but counted, so each error names the row a spreadsheet shows."""
    rows = [
        "services,email,notes,name,locale",
        "azure,a@example.com,VIP,甲,zh-CN",
        "",
        "azure,not-an-address,,乙,zh-CN",
        "",
        "",
        "azure",
    ]
    (notice_repo.path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run_notices("customers", "import", "c.csv", "--skip-invalid", cwd=notice_repo.path)
    assert result.code == 0, result.err
    assert [line.split(": ")[2] for line in result.err.splitlines()] == ["row 4", "row 7"]
    assert "row 7: invalid email (empty)" in result.err
    assert result.out.endswith("imported 1 customer(s), skipped 2 row(s)\n")


def test_gbk_csv(notice_repo: NoticeRepo) -> None:
    """When the CSV is GBK, then the error says to save it as UTF-8."""
    data = (HEADER + "a@example.com,王伟,zh-CN,azure\n").encode("gbk")
    (notice_repo.path / "c.csv").write_bytes(data)
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert result.code == 1 and "not UTF-8 text" in result.err


def test_bom_is_accepted_and_upsert_by_email(notice_repo: NoticeRepo, tmp_path: Path) -> None:
    """When a CSV has a BOM and a customer is imported twice, then one row is updated."""
    path = notice_repo.path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "a@example.com,王伟,zh-CN,azure\n").encode())
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    path.write_text(HEADER + "a@example.com,王伟,en,powerbi\n", encoding="utf-8")
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    from notifier.delivery.customers import counts
    from notifier.settings import load_settings

    assert counts(load_settings(notice_repo.path, {})) == {"total": 1, "active": 1, "suppressed": 0}


def test_gbk_row_is_named(notice_repo: NoticeRepo) -> None:
    """When a CSV turns GBK at some row, then the error names that row and the option that
    reads the file."""
    data = (HEADER + "a@example.com,Wang Wei,en,azure\n").encode() + (
        "b@example.com,李娜,zh-CN,azure\n".encode("gbk")
    )
    (notice_repo.path / "c.csv").write_bytes(data)
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert (result.code, result.err) == (
        1,
        "error: c.csv: row 3: not UTF-8 text (it looks like GBK/GB18030) "
        "(hint: import it with --encoding gbk, or save it as CSV UTF-8 in Excel)\n",
    )


# As Excel on Chinese Windows saves "CSV (Comma delimited)": GBK, CRLF. Rows 2 and 3 are valid
# UTF-8 too: row 2 is ASCII, and the GBK bytes of 郑伟 happen to read as UTF-8 "֣ΰ".
EXCEL_GBK = (
    "email,name,locale,services\r\n"
    "wang.wei@example.com,Wang Wei,en,azure\r\n"
    "zheng.wei@example.com,郑伟,zh-CN,azure\r\n"
    "li.na@example.com,李娜,zh-CN,azure;office365\r\n"
    'chen.jie@example.com,"陈杰, 财务部",zh-CN,powerbi\r\n'
)
IMPORTED_FROM_GBK = [
    ("chen.jie@example.com", "陈杰, 财务部", "zh-CN", ";powerbi;"),
    ("li.na@example.com", "李娜", "zh-CN", ";azure;office365;"),
    ("wang.wei@example.com", "Wang Wei", "en", ";azure;"),
    ("zheng.wei@example.com", "郑伟", "zh-CN", ";azure;"),
]


def test_language_tags_as_crms_export_them(notice_repo: NoticeRepo) -> None:
    """When rows carry BCP 47 tags as CRMs export them, then each customer gets the locale we
    write in (en-US, en-GB → en; zh, zh-Hans, zh_Hans_CN → zh-CN), a language we have no text
    for reads the default locale and is counted, not refused, and a value that is no tag at
    all is refused naming its row."""
    tags = ["en-US", "en-GB", "EN", "zh", "zh-Hans", "zh_Hans_CN", "zh-cn", "fr-FR", "zh-TW", "fr"]
    rows = [f"c{n}@example.com,客户{n},{tag},azure" for n, tag in enumerate(tags)]
    (notice_repo.path / "c.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "imported 10 customer(s), skipped 0 row(s)",
        "3 customer(s) asked for a language we have no text for and will read zh-CN: "
        "fr-FR 1, zh-TW 1, fr 1",
    ]
    locales = {email: locale for email, _, locale, _ in _directory(notice_repo)}
    assert [locales[f"c{n}@example.com"] for n in range(len(tags))] == [
        "en", "en", "en", "zh-CN", "zh-CN", "zh-CN", "zh-CN", "zh-CN", "zh-CN", "zh-CN"
    ]
    as_json = run_notices("customers", "import", "c.csv", "--json", cwd=notice_repo.path)
    assert json.loads(as_json.out)["locale_fallbacks"] == {"fr-FR": 1, "zh-TW": 1, "fr": 1}
    (notice_repo.path / "bad.csv").write_text(
        HEADER + "x@example.com,X,<script>,azure\n", encoding="utf-8"
    )
    bad = run_notices("customers", "import", "bad.csv", cwd=notice_repo.path)
    assert bad.code == 1
    assert "bad.csv: row 2: '<script>' is not a language tag" in bad.err


def _directory(repo: NoticeRepo) -> list[tuple[str, str, str, str]]:
    """Every customer row as stored, sorted by address."""
    table = db.customers
    engine = create_engine(f"sqlite:///{repo.path / 'var' / 'notices.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.email, table.c.name, table.c.locale, table.c.services).order_by(
                table.c.email
            )
        )
        found = [(r.email, r.name, r.locale, r.services) for r in rows]
    engine.dispose()
    return found


def test_a_gbk_file_is_refused_as_a_whole(notice_repo: NoticeRepo) -> None:
    """When an Excel GBK file starts with rows that are valid UTF-8, then the whole file is
    still refused at its first GBK row, with or without --skip-invalid, and the directory
    keeps every row as it was (the customer it would rename included)."""
    path = notice_repo.path / "c.csv"
    path.write_text(HEADER + "wang.wei@example.com,王伟,zh-CN,office365\n", encoding="utf-8")
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    before = _directory(notice_repo)
    path.write_bytes(EXCEL_GBK.encode("gbk"))
    assert (
        path.read_bytes().splitlines()[2].decode("utf-8") == "zheng.wei@example.com,֣ΰ,zh-CN,azure"
    )
    for extra in ([], ["--skip-invalid"], ["--encoding", "utf-8"]):
        result = run_notices("customers", "import", "c.csv", *extra, cwd=notice_repo.path)
        assert (result.code, result.out, result.err) == (
            1,
            "",
            "error: c.csv: row 4: not UTF-8 text (it looks like GBK/GB18030) "
            "(hint: import it with --encoding gbk, or save it as CSV UTF-8 in Excel)\n",
        )
        assert _directory(notice_repo) == before


def test_encoding_gbk_reads_chinese_names(notice_repo: NoticeRepo) -> None:
    """When a GBK file is imported with --encoding gbk, then every name comes out as written."""
    (notice_repo.path / "c.csv").write_bytes(EXCEL_GBK.encode("gbk"))
    result = run_notices("customers", "import", "c.csv", "--encoding", "GBK", cwd=notice_repo.path)
    assert (result.code, result.out) == (0, "imported 4 customer(s), skipped 0 row(s)\n")
    assert _directory(notice_repo) == IMPORTED_FROM_GBK


def test_a_name_only_gb18030_holds(notice_repo: NoticeRepo) -> None:
    """When a name has a character GBK lacks (䶮), then the hint names gb18030, GBK refuses the
    row that holds it, and gb18030 reads it."""
    text = HEADER + "wang.wei@example.com,王伟,zh-CN,azure\nliu.yan@example.com,刘䶮,zh-CN,azure\n"
    (notice_repo.path / "c.csv").write_bytes(text.encode("gb18030"))
    guessed = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert guessed.err == (
        "error: c.csv: row 2: not UTF-8 text (it looks like GBK/GB18030) "
        "(hint: import it with --encoding gb18030, or save it as CSV UTF-8 in Excel)\n"
    )
    narrow = run_notices("customers", "import", "c.csv", "--encoding", "gbk", cwd=notice_repo.path)
    assert (narrow.code, narrow.err) == (
        1,
        "error: c.csv: row 3: not GBK text "
        "(hint: save the CSV as UTF-8 (in Excel: CSV UTF-8) and import it again)\n",
    )
    assert _directory(notice_repo) == []
    wide = run_notices(
        "customers", "import", "c.csv", "--encoding", "gb18030", cwd=notice_repo.path
    )
    assert wide.code == 0, wide.err
    assert [row[1] for row in _directory(notice_repo)] == ["刘䶮", "王伟"]


def test_a_utf8_file_is_not_read_as_gbk(notice_repo: NoticeRepo) -> None:
    """When a UTF-8 file with Chinese names is imported with --encoding gbk, then it is refused
    rather than garbled; an ASCII-only file reads the same in every encoding and is imported."""
    path = notice_repo.path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "li.na@example.com,李娜,zh-CN,azure\n").encode())
    result = run_notices("customers", "import", "c.csv", "--encoding", "gbk", cwd=notice_repo.path)
    assert (result.code, result.err) == (
        1,
        "error: c.csv: the file is UTF-8 text: read as GBK, its names would be garbled "
        "(hint: import it without --encoding gbk)\n",
    )
    assert _directory(notice_repo) == []
    path.write_text(HEADER + "li.na@example.com,Li Na,en,azure\n", encoding="ascii")
    ascii_only = run_notices(
        "customers", "import", "c.csv", "--encoding", "gbk", cwd=notice_repo.path
    )
    assert ascii_only.code == 0, ascii_only.err


def test_an_unknown_encoding_is_a_usage_error(notice_repo: NoticeRepo) -> None:
    """When --encoding names an encoding we do not read, then it is a usage error (exit 2)."""
    (notice_repo.path / "c.csv").write_text(HEADER, encoding="utf-8")
    result = run_notices(
        "customers", "import", "c.csv", "--encoding", "latin-1", cwd=notice_repo.path
    )
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        "Error: Invalid value for '--encoding': 'latin-1' is not one of 'utf-8', 'gbk', 'gb18030'."
    )


def test_excel_unicode_text_is_refused_with_what_to_save(notice_repo: NoticeRepo) -> None:
    """When the file is Excel's "Unicode Text" (UTF-16 with a BOM, tab-separated), then one line
    says to save it as CSV UTF-8, whatever --encoding says, and nothing is imported."""
    text = "email\tname\tlocale\tservices\r\nli.na@example.com\t李娜\tzh-CN\tazure\r\n"
    (notice_repo.path / "c.csv").write_bytes(text.encode("utf-16"))
    for extra in ([], ["--encoding", "gbk"]):
        result = run_notices("customers", "import", "c.csv", *extra, cwd=notice_repo.path)
        assert (result.code, result.err) == (
            1,
            'error: c.csv: UTF-16 text (Excel\'s "Unicode Text", tab-separated), not a CSV '
            '(hint: in Excel, save it as "CSV UTF-8 (Comma delimited)" and import that)\n',
        )
    assert _directory(notice_repo) == []


def test_formula_names_and_long_names_are_refused(notice_repo: NoticeRepo) -> None:
    """When names start like formulas or are too long, then those rows are refused, others kept."""
    rows = [
        "a@example.com,+86 王伟,zh-CN,azure",
        "b@example.com,-李娜,zh-CN,azure",
        "c@example.com,@SUM(A1),en,azure",
        "d@example.com,赵敏,zh-CN,azure",
        f"e@example.com,{'长' * 201},zh-CN,azure",
        "f@example.com,O'Brien = ok,en,azure",
    ]
    (notice_repo.path / "c.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    result = run_notices(
        "customers", "import", "c.csv", "--skip-invalid", "--json", cwd=notice_repo.path
    )
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "imported": 2,
        "skipped": [
            "c.csv: row 2: the name starts like a spreadsheet formula or holds a line break "
            "(hint: remove the leading =, +, -, @ or the line break)",
            "c.csv: row 3: the name starts like a spreadsheet formula or holds a line break "
            "(hint: remove the leading =, +, -, @ or the line break)",
            "c.csv: row 4: the name starts like a spreadsheet formula or holds a line break "
            "(hint: remove the leading =, +, -, @ or the line break)",
            "c.csv: row 6: the name is longer than 200 characters",
        ],
        "locale_fallbacks": {},
    }


def test_addresses_differing_in_case_are_one_customer(notice_repo: NoticeRepo) -> None:
    """When an address comes back in other letter case, then it updates the same customer."""
    path = notice_repo.path / "c.csv"
    path.write_text(HEADER + "Wang.Wei@Example.COM,王伟,zh-CN,azure\n", encoding="utf-8")
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    path.write_text(HEADER + "wang.wei@example.com,王伟,en,azure\n", encoding="utf-8")
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    path.write_text(
        HEADER + "li@example.com,李娜,zh-CN,azure\nLI@example.com,李娜,en,azure\n", encoding="utf-8"
    )
    duplicate = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert "c.csv: row 3: duplicate email l***@e***.com" in duplicate.err
    counted = run_notices("customers", "count", "--json", cwd=notice_repo.path)
    assert json.loads(counted.out) == {"total": 1, "active": 1, "suppressed": 0}


def test_a_mailbox_is_one_however_its_domain_is_written(notice_repo: NoticeRepo) -> None:
    """When an address comes in punycode, Unicode or other case, then import and suppress
    treat it as one mailbox."""
    path = notice_repo.path / "c.csv"
    path.write_text(HEADER + "Li.Na@例子.中国,李娜,zh-CN,azure\n", encoding="utf-8")
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    path.write_text(HEADER + "li.na@XN--FSQU00A.XN--FIQS8S,李娜,en,azure\n", encoding="utf-8")
    assert run_notices("customers", "import", "c.csv", cwd=notice_repo.path).code == 0
    path.write_text(
        HEADER + "wang@例子.中国,王伟,zh-CN,azure\nwang@xn--fsqu00a.xn--fiqs8s,王伟,en,azure\n",
        encoding="utf-8",
    )
    duplicate = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert "c.csv: row 3: duplicate email w***@" in duplicate.err
    suppressed = run_notices(
        "customers",
        "suppress",
        "LI.NA@xn--fsqu00a.xn--fiqs8s",
        "--reason",
        "closed",
        cwd=notice_repo.path,
    )
    assert suppressed.code == 0, suppressed.err
    counted = run_notices("customers", "count", "--json", cwd=notice_repo.path)
    assert json.loads(counted.out) == {"total": 1, "active": 0, "suppressed": 1}
    unknown = run_notices(
        "customers", "suppress", "not an address", "--reason", "x", cwd=notice_repo.path
    )
    assert unknown.code == 1


def test_a_bad_row_late_in_a_big_file_leaves_nothing_imported(notice_repo: NoticeRepo) -> None:
    """When the last of 12,000 rows is bad, then none of the chunks already written is kept."""
    path = write_customers(notice_repo.path / "c.csv", 12_000)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("broken,坏行,zh-CN,azure\n")
    result = run_notices("customers", "import", "c.csv", cwd=notice_repo.path)
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("error: c.csv: row 12002: invalid email b***")
    counted = run_notices("customers", "count", "--json", cwd=notice_repo.path)
    assert json.loads(counted.out) == {"total": 0, "active": 0, "suppressed": 0}


def test_missing_file(notice_repo: NoticeRepo) -> None:
    """When the CSV does not exist, then the error names it."""
    result = run_notices("customers", "import", "nope.csv", cwd=notice_repo.path)
    assert (result.code, result.err) == (
        1,
        "error: nope.csv: file not found (hint: check the path)\n",
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0004_puts_every_address_in_its_mailbox_form(
    notice_repo: NoticeRepo, backend: str
) -> None:
    """When a database from before one mailbox form holds several spellings of a mailbox, then
    `db upgrade` gives the lowest id the mailbox form and any suppression, and suppresses the
    others as its duplicates; an address that does not validate is left as it is."""
    rows = [
        ("Wang.Wei@Example.com", None),
        ("wang.wei@example.com", None),
        ("LI.NA@例子.中国", None),
        ("li.na@XN--FSQU00A.XN--FIQS8S", "bounce: 550 5.1.1"),
        ("ok@example.com", None),
        ("not an address", None),
    ]
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{(notice_repo.path.parent / 'old.db').as_posix()}"
        else:
            url = stack.enter_context(postgres_database())
        engine = create_engine(url)
        with engine.begin() as connection:
            command.upgrade(schema.config(connection), "0003")
            connection.execute(
                insert(db.customers),
                [
                    {
                        "email": email,
                        "name": "客户",
                        "locale": "zh-CN",
                        "services": ";azure;",
                        "suppressed_reason": reason,
                        "updated_at": datetime.now(UTC),
                    }
                    for email, reason in rows
                ],
            )
        env = {"NOTICES_DATABASE_URL": url}
        upgraded = run_notices("db", "upgrade", cwd=notice_repo.path, env=env)
        assert upgraded.code == 0, upgraded.err
        with engine.connect() as connection:
            table = db.customers
            found = connection.execute(
                select(table.c.id, table.c.email, table.c.suppressed_reason).order_by(table.c.id)
            ).all()
        engine.dispose()
    assert [tuple(row) for row in found] == [
        (1, "Wang.Wei@Example.com", "duplicate of customer 2"),
        (2, "wang.wei@example.com", None),
        (3, "li.na@例子.中国", "bounce: 550 5.1.1"),
        (4, "li.na@XN--FSQU00A.XN--FIQS8S", "bounce: 550 5.1.1"),
        (5, "ok@example.com", None),
        (6, "not an address", None),
    ]
    assert "2 customer row(s) were the same mailbox as another" in upgraded.err
    assert "1 customer address(es) do not validate" in upgraded.err

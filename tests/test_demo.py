"""`notices demo`: the whole flow in a sandbox, through the real command."""

from __future__ import annotations

from pathlib import Path

from support.repos import run_notices


def test_demo_runs_the_whole_flow(tmp_path: Path, database_env: dict[str, str]) -> None:
    """When the demo runs, then it reports each step and leaves a site, an outbox and a proof."""
    sandbox = tmp_path / "demo"
    result = run_notices("demo", "--dir", str(sandbox), cwd=tmp_path, env=database_env)
    assert result.code == 0, result.err
    out = result.out
    steps = [
        "sandbox:",
        "customers: imported 1000",
        "check: 0 error(s)",
        "diff:",
        "notify plan: 1000 recipients",
        "notify send (outbox, early for the demo): 1000",
        "schedule sync:",
        "site build:",
        "Where to look:",
    ]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "**Material change**" in out and "M10" in out
    assert ":notify" in out and ":publish" in out
    mails = [p.read_bytes() for p in sandbox.glob("var/outbox/*/*.eml")]
    assert len(mails) == 1000
    english = [m for m in mails if b"Content-Language: en" in m]
    assert len(english) == 190  # the English customers read the English edition
    assert b"Subject: Important: our privacy statement changes on" in english[0]
    assert (sandbox / "build" / "site" / "index.html").is_file()
    assert (sandbox / "build" / "site" / "archive" / "index.html").is_file()
    proof = next(sandbox.glob("var/proof-*.csv")).read_text(encoding="utf-8").splitlines()
    assert len(proof) == 1001 and "@example.com" not in "".join(proof)
    site_text = "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in (sandbox / "build" / "site").rglob("*")
        if p.suffix in (".html", ".json", ".xml")
    )
    assert "customer0001" not in site_text and "@example.com" not in site_text.replace(
        "privacy-notices@example.com", ""
    )


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    """When --dir names a folder with other files, then the demo refuses and touches nothing."""
    (tmp_path / "precious.txt").write_text("keep me", encoding="utf-8")
    result = run_notices("demo", "--dir", str(tmp_path), cwd=tmp_path)
    assert result.code == 1
    assert "the demo folder exists and is not an earlier demo" in result.err
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "keep me"

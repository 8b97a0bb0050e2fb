"""Releases on `main`, read from git: history, release records, the verdict of each release,
the release rules, `check` and the diff between two versions.
"""

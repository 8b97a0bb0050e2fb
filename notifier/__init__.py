"""notices: a privacy statement as versioned Markdown in git, with advance notice of changes."""

from notifier.config import Settings, load_settings
from notifier.errors import NoticeError
from notifier.notice import Notice, Section, parse_notice

__all__ = ["Notice", "NoticeError", "Section", "Settings", "load_settings", "parse_notice"]

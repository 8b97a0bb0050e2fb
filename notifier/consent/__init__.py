"""Consent where the law asks for it: one decision per article, bound to the text shown."""

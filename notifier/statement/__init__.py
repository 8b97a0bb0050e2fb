"""The statement's text, judged: parsing, diff, wording, materiality, lint, redline.

Pure: text in, judgement out. Nothing here touches git, the database, the network or files
beyond reading the package's own rules.
"""

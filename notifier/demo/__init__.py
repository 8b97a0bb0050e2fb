"""`notices demo` and the README's generated example: the whole flow on the seed statement.
"""

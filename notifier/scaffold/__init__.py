"""`notices init`: a new notices repository that passes `check` and builds a site at once."""

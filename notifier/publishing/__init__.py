"""The published site: releases in, pages out, built by MkDocs aside and swapped in."""

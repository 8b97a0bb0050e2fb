"""Test helpers shared by the suite: repositories, stand-ins, fixtures' building blocks."""

"""Placeholder: this edge arrives with its own issue."""

"""Ingest: load, clean, chunk and index the source documents."""

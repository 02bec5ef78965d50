"""Retrieval and answering for the Housing First assistant."""

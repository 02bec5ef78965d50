"""Evaluation of the assistant against the hand-checked gold set (``hfa eval``)."""

"""Question analysis and the taught answer layer.

``question`` (what a question asks and names) → ``scoring`` (each quotable unit
of the retrieved passages, ranked by the unit model over ``features``) →
``outcome`` (answer, nearest or not covered, with a calibrated confidence from
``model``). ``values`` and ``matching`` are the shared helpers: where a value of
an asked kind stands, and how question terms meet a text. Imports run one way:
question → values/matching → features → model → scoring → outcome.
"""

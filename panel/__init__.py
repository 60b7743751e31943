"""The CRM context panel's Python: a pure core (decisions) and a thin browser shell.

Everything except ``panel.browser`` and ``panel.main`` imports and runs in plain CPython.
"""

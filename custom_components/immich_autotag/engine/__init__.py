"""The rule engine: snapshot -> plan -> apply -> report (no Home Assistant imports)."""

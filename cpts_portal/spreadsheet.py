"""CSV cells that spreadsheets cannot turn into formulas (OWASP "CSV injection").

Every text cell written by an export goes through `neutralise`; importers call `restore`
so free text round-trips unchanged. Numbers are written as numbers and never touched.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _looks_like_formula(text: str) -> bool:
    # Quotes already in front of a trigger count too: "'=x" is written "''=x", so that
    # `restore` (which drops one quote) gives "'=x" back rather than "=x".
    return text.lstrip("'").startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    if text and _looks_like_formula(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and _looks_like_formula(text[1:]):
        return text[1:]
    return text

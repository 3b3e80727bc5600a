"""CSV cells that spreadsheets cannot turn into formulas (OWASP "CSV injection").

Every text cell written by an export goes through `neutralise`; importers call `restore`
so free text round-trips unchanged. Numbers are written as numbers and never touched.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(text: str) -> str:
    if text and text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def restore(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text

"""docs/powers.md, made from the catalog's table of powers (``workflows/catalog.py``,
``POWERS``): ``python -m workflows.powers_doc > docs/powers.md``. A test keeps the file equal
to what this prints (``tests/docs/test_powers_doc.py``)."""

from __future__ import annotations

from schemas.organs import STYLE, Organ
from workflows.catalog import POWER_ROWS
from workflows.powers import VARIANT_FIELD, PowerTable

HEAD = """# The power to act: which organ may take which Court action

Made from the catalog's table (`workflows/catalog.py`, `POWERS`) by
`python -m workflows.powers_doc > docs/powers.md`; a test keeps it in step. Every Court action
on a request names the organ whose act it is (`decided_by`, the closed list of
`schemas/organs.py`). The request workflow's validator checks the row before anything else and
refuses, with the organ, the action and the rule, an action by any organ the row does not
name; a variant no row names is refused too. A row of *the organ that made the request*
(consulting on it, agreeing or ending a postponement, withdrawing it) is checked against the
request's own `issuing_organ`: only that organ may take it (for a request of the Pre-Trial
Chamber, the Trial Chamber too once constituted, RS 61(11), 64(6)), so no organ acts on a
request another made. A release's variant is what holds its assets: a forfeiture order it sets
aside, else the request, by the organ that made it (`powers.release_holding`). The Prosecutor
takes no Court action on a request but on its own (RS 54(3)(c)). The Assembly of States
Parties is no organ of the Court (RS 34): the steps of its non-cooperation procedure are
recorded as its own acts (RS 112(2)(f)).

"""


def markdown() -> str:
    lines = ["| Action | Variant | Who may take it | Basis |", "|---|---|---|---|"]
    for row in POWER_ROWS:
        variant = f"{VARIANT_FIELD[row.action]} `{row.variant}`" if row.variant else ""
        who = ", ".join(STYLE[o] for o in Organ if o in row.organs)
        if row.requester:
            who = f"the organ that made the request, of: {who}"
        lines.append(f"| `{row.action}` | {variant} | {who} | {row.basis} |")
    return HEAD + "\n".join(lines) + "\n" + _case() + _party()


CASE_HEAD = """
## On a case

A case (`workflows/case_keys.py`) checks the Court's acts it takes the same way, each signed by
its organ for that case: `record_judgment` and `release_case` by the rows `judgment` and
`case_release` above, the others by these rows (`CASE_POWERS`).

| Update | Who may take it | Basis |
|---|---|---|
"""


PARTY_HEAD = """
## On a party's directory

A party's directory (`workflows/party_keys.py`) takes the Court's acts on it the same way, each
signed by its organ for that party (`party/CODE`): what it holds routes every later request to
the party (Rule 180) and says what the party's law requires (RS 96(3)). `PARTY_POWERS`:

| Action | Who may take it | Basis |
|---|---|---|
"""


def _rows(table: PowerTable) -> str:
    rows = []
    for row in table.values():
        who = ", ".join(STYLE[o] for o in Organ if o in row.organs)
        if row.requester:
            who = f"the organ that made the request, of: {who}"
        rows.append(f"| `{row.action}` | {who} | {row.basis} |")
    return "\n".join(rows) + "\n"


def _case() -> str:
    from workflows.case_keys import CASE_POWERS

    return CASE_HEAD + _rows(CASE_POWERS)


def _party() -> str:
    from workflows.party_keys import PARTY_POWERS

    return PARTY_HEAD + _rows(PARTY_POWERS)


if __name__ == "__main__":
    print(markdown(), end="")

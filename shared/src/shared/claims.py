"""The claim of a queue kept in order per case, in two levels (the certificates issuer, scheduling's webhooks).

The inner select locks the first available row and nothing else; only that one row is asked whether an
earlier row of its case still holds it back. Asked beside the claim, as one ``NOT EXISTS``, the check was
planned from statistics taken before a backlog arrived (no row pending): PostgreSQL compared every pending
row with every other at each claim, half a second with 1,000 pending, until autovacuum analysed the table
(docs/benchmarks.md, stop 30). A row found held back is passed over, and the next one is claimed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

#: The bound list of ids a claim leaves out once they have been found held back.
PASSED_OVER = "passed_over"


def first_locked(entity: Any, claim: Any, *, order_by: Any, passing_over: bool) -> Any:
    """The inner level: the first row of ``claim`` (a select of ``entity``) by ``order_by``, locked (``FOR UPDATE
    SKIP LOCKED``), as an alias of ``entity`` for the outer level to ask of; with ``passing_over``, the ids bound
    as ``passed_over`` left out."""
    if passing_over:
        claim = claim.where(col(entity.id).not_in(bindparam(PASSED_OVER, expanding=True)))
    return aliased(entity, claim.order_by(order_by).limit(1).with_for_update(skip_locked=True, of=entity)
                   .subquery("claimed"))


async def first_not_held_back(session: AsyncSession, query: Callable[[bool], Any], params: dict[str, Any], *,
                              passing_over: Collection[str] = ()) -> Any:
    """The first row (a tuple) the claim ``query`` returns whose last column (held back) is false, or None.

    ``query(passing_over)`` is the claim, built once for each value, its inner level from ``first_locked``. Its
    first column is the claimed entity (with an ``id``), its last whether an
    earlier row of its case holds it back. The rows passed over stay locked by this transaction until it ends.
    """
    passed_over = list(passing_over)
    while True:
        bound = {**params, PASSED_OVER: passed_over} if passed_over else params
        row = (await session.exec(query(bool(passed_over)), params=bound)).first()
        if row is None or not row[-1]:
            return row
        passed_over.append(row[0].id)

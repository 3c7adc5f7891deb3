"""Knowledge articles' rules: their statuses, the moves between them, tags, review dates."""

from __future__ import annotations

from datetime import timedelta

DRAFT = "draft"
PUBLISHED = "published"
RETIRED = "retired"
ARTICLE_STATUSES = (DRAFT, PUBLISHED, RETIRED)

# From → the statuses an article may move to. A retired article may be published again
# (reinstated) once it holds; a published one is retired, never sent back to draft, so
# what agents were reading stays on record until it is replaced.
ARTICLE_MOVES: dict[str, tuple[str, ...]] = {
    DRAFT: (PUBLISHED, RETIRED),
    PUBLISHED: (RETIRED,),
    RETIRED: (PUBLISHED,),
}
# Statuses whose text may still be edited: a retired article is reinstated first.
EDITABLE = (DRAFT, PUBLISHED)

# A published article is due for review this long after publication unless the author
# names a day: half a year keeps workarounds from outliving the fix they describe.
REVIEW_AFTER = timedelta(days=182)

MAX_TAGS = 12
MAX_TAG = 40


def can_move(current: str, target: str) -> bool:
    return target in ARTICLE_MOVES.get(current, ())

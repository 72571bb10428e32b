"""Anchors: the labels after which a judge writes its verdict in prose (``Score: 4``, ``Final verdict:``)."""

from __future__ import annotations

import re
from typing import Literal

#: (tier, pattern, where) — lower tiers are stronger. ``after``: the value is read right after the match
#: (``Score: 4``); ``at``: the match is the value itself (``[[B]]``, ``4/5``, ``[[C]], [[A]], [[B]]``).
Anchor = tuple[int, re.Pattern[str], Literal["after", "at"]]

# Between a label and its value: a colon, equals sign, dash or arrow with optional spaces. Text is
# NFKC-normalised and its dashes folded to "-" first (see _common.normalise), so "Score — 4", "Score：4",
# "score = 4" and "Rating - 4/5" all match. A single dash must be followed by a space so that "Score: -1"
# stays a negative number.
SEP = r"\s*(?:[:=]|->|=>|-(?=\s)|--+)\s*"


def anchor(words: str, *, copula: str = r"is|would\s+be") -> re.Pattern[str]:
    """``<words>[ (note)][ is]<sep>`` — a label followed by a separator (``Score (1-5): 4``, ``Score — 4``),
    or by a ``copula`` alone (``the score is 3``; score labels also take ``of``: ``a rating of 4``)."""
    tail = r"(?:\s*(?:\([^)\n]{0,30}\))?\s*(?:is\s*)?" + SEP + r"|[^\S\n]+(?:" + copula + r")[^\S\n]+)"
    return re.compile(r"(?<![A-Za-z_])(?:" + words + r")(?![A-Za-z])" + tail, re.I)


_SCORE_COPULA = r"is|would\s+be|of"
# Chinese labels (Qwen / DeepSeek / GLM judges often answer in Chinese): score, verdict, ranking
_ZH_SCORE = r"评分|分数|得分|打分"
_ZH_VERDICT = r"最终判断|最终结论|判断|结论|裁决|选择"
_ZH_RANKING = r"最终排名|排名|排序"
SCORE_ANCHORS: tuple[Anchor, ...] = (
    (1, re.compile(r"\[\[\s*-?\d+(?:\.\d+)?\s*(?:/\s*\d+\s*)?\]\]"), "at"),
    (1, re.compile(r"\[RESULT\]\s*", re.I), "after"),  # Prometheus: "Feedback: ... [RESULT] 4"
    (1, re.compile(r"<(?:final_)?(?:score|rating|grade)>\s*", re.I), "after"),  # "<score>4</score>"
    (1, anchor(r"final\s+(?:score|rating|grade|verdict|answer)|overall\s+(?:score|rating|grade)",
               copula=_SCORE_COPULA), "after"),
    (2, anchor(r"score|rating|grade|verdict|judge?ment|answer|result|" + _ZH_SCORE, copula=_SCORE_COPULA), "after"),
    (2, re.compile(r"(?<![A-Za-z])(?:rated?|scored?|rate\s+(?:it|this(?:\s+response)?|the\s+response))"
                   r"\s+(?:it\s+|this\s+|the\s+response\s+)?(?:a|an|as|at)?\s*", re.I), "after"),
    (3, re.compile(r"(?<![A-Za-z])i(?:\s+would|['’]d)?\s+(?:give|award|assign)\s+"
                   r"(?:it|this(?:\s+response)?|the\s+response)\s+(?:a|an)?\s*", re.I), "after"),
    (3, re.compile(r"(?<![\d./])\d+(?:\.\d+)?\s*(?:(?:points?|stars?)\s*)?(?:/|out\s+of)\s*\d+(?:\.\d+)?(?![\d/])",
                   re.I), "at"),
)
PAIR_ANCHORS: tuple[Anchor, ...] = (
    (1, re.compile(r"\[\[\s*[A-Za-z]\s*\]\]"), "at"),
    (1, anchor(r"final\s+(?:verdict|answer|choice|decision|judge?ment)|verdict|judge?ment|decision|" + _ZH_VERDICT),
     "after"),
    (1, re.compile(r"<(?:final_)?(?:verdict|choice|winner|answer)>\s*", re.I), "after"),  # "<verdict>B</verdict>"
    (2, anchor(r"answer|choice|winner|preference|result|conclusion"
               r"|(?:preferred|better|best|winning)\s+(?:response|answer|output|assistant|model|completion)"
               r"|preferred"), "after"),
)
BATCH_ANCHORS: tuple[Anchor, ...] = (
    (1, re.compile(r"(?<![A-Za-z])(?:final\s+)?rank(?:ing|ed)?(?![A-Za-z])[^:\n]{0,80}?" + SEP, re.I), "after"),
    (1, anchor(r"(?:final\s+)?(?:judge?ment|verdict|order|answer)|" + _ZH_RANKING), "after"),
    (1, re.compile(r"<(?:final_)?(?:ranking|rank|order)>\s*", re.I), "after"),
    (2, re.compile(r"(?:\[\[\s*[A-Z]\s*\]\]\s*[,;>]?\s*){2,}"), "at"),
    (2, re.compile(r"(?<![A-Za-z])[A-Z](?:\s*>\s*[A-Z](?![A-Za-z]))+"), "at"),
)
YES_NO_ANCHORS: tuple[Anchor, ...] = (
    (1, re.compile(r"\[\[\s*(?=(?:yes|no)\s*\]\])", re.I), "after"),
    (1, anchor(r"final\s+(?:verdict|answer|decision|judge?ment)|verdict|violation|decision"), "after"),
    (1, re.compile(r"<(?:final_)?(?:verdict|answer|violation)>\s*", re.I), "after"),
    (2, anchor(r"answer|judge?ment|result|conclusion|violates(?:\s+the\s+rule)?"), "after"),
)

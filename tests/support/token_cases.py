"""Answers cut into tokens, with the alternatives a server reports at the verdict tokens (shared by the
``openai`` and ``gemini`` logprob tests; importing it pulls in no SDK)."""

from __future__ import annotations

import math
from typing import Any


def logprobs(tokens: list[str], alts: dict[int, list[tuple[str, float]]]) -> dict[str, Any]:
    """OpenAI's ``choices[0].logprobs`` for ``tokens``: at the positions in ``alts``, the top alternatives with
    their probabilities (the first is the token generated); elsewhere the token alone at probability 0.99."""
    content = []
    for i, tok in enumerate(tokens):
        top = alts.get(i, [(tok, 0.99)])
        assert top[0][0] == tok
        content.append({"token": tok, "logprob": math.log(top[0][1]), "bytes": list(tok.encode()),
                        "top_logprobs": [{"token": t, "logprob": math.log(p), "bytes": list(t.encode())}
                                         for t, p in top]})
    return {"content": content, "refusal": None}


PAIR_TOKENS = ['{"', "overall", "_comment", '":', ' "', "B", " is", " right", '",', ' "', "overall", "_choice", '":',
               ' "', "2", '"}']
PAIR_ALTS = {14: [("2", 0.60), ("0", 0.30), ("Response", 0.03), ("1", 0.05), ('2"', 0.02)]}
SCORE_TOKENS = ['{"', "relevance", "_score", '":', " 4", ",", ' "', "clarity", "_score", '":', " 2", "}"]
SCORE_ALTS = {4: [(" 4", 0.5), (" 5", 0.3), (" 3", 0.1), (" 45", 0.05), ("4", 0.04)],
              10: [(" 2", 0.7), (" 1", 0.2), (" two", 0.1)]}

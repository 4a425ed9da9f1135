"""What sets one group of texts apart from the others (the words of a feedback topic), for English
and Chinese alike. Plain scikit-learn, no Django."""

import re

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# The CJK unified ideographs (with extension A and the compatibility block).
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Letters only, three or more: words, without numbers, order references or "ok".
_WORD = re.compile(r"[^\W\d_]{3,}")
# A term must come up this often in a topic's texts to be named, so one stray word is not.
TERM_MIN_COUNT = 2


def topic_terms(text: str) -> list[str]:
    """The terms of a text: English (or other spaced) words less stop words, and for Chinese,
    which has no spaces to split on, every pair of neighbouring characters (most Chinese words
    are two characters long, so 发票 and 退款 come out whole)."""
    lowered = text.lower()
    terms = []
    for run in _CJK_RUN.findall(lowered):
        terms.extend(run[index : index + 2] for index in range(len(run) - 1))
    spaced = _CJK_RUN.sub(" ", lowered)
    terms.extend(word for word in _WORD.findall(spaced) if word not in ENGLISH_STOP_WORDS)
    return terms


def distinctive_terms(texts_by_group: dict, *, top: int = 8) -> dict:
    """Per group, the `top` terms most typical of its texts against the other groups', best
    first: a term's share of the group's terms times log(groups / groups using it), so a term
    every group uses scores nothing. With a single group, its most frequent terms."""
    keys = [key for key, texts in texts_by_group.items() if texts]
    result = {key: [] for key in texts_by_group}
    if not keys:
        return result
    documents = ["\n".join(texts_by_group[key]) for key in keys]
    vectorizer = CountVectorizer(analyzer=topic_terms)
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(float)
    except ValueError:
        # No text held a single term (only numbers, say).
        return result
    vocabulary = vectorizer.get_feature_names_out()
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    groups_using = (counts > 0).sum(axis=0)
    weight = np.log(len(keys) / groups_using) if len(keys) > 1 else np.ones(len(vocabulary))
    scores = shares * weight
    for row, key in enumerate(keys):
        eligible = (counts[row] >= TERM_MIN_COUNT) & (scores[row] > 0)
        order = [index for index in np.argsort(-scores[row], kind="stable") if eligible[index]]
        result[key] = [str(vocabulary[index]) for index in order[:top]]
    return result

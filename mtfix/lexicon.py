"""The spinner's synonym source: a compiled thesaurus with corpus frequencies, and phrase swaps.

The thesaurus merges the Moby thesaurus and WordNet 3.0 (see ``training/compile_thesaurus.py``) and
is shipped as one compressed NumPy archive, ``mtfix/data/thesaurus.npz``, so that only NumPy is needed
at run time. Its arrays:

- ``vocab``: the UTF-8 bytes of every known word or phrase, joined with newlines, sorted;
- ``freq`` / ``lower_freq``: per vocabulary entry, the count in the clean corpora case-folded, and the
  count of its lower-case occurrences only (the ratio tells names from common words);
- ``pos``: per entry, a WordNet part-of-speech bitmask (see :mod:`mtfix.morph`);
- ``head_ids``, ``syn_offsets``, ``syn_ids``: headword -> synonyms in CSR layout (vocabulary ids);
- ``syn_evidence``: per synonym entry, how many of Moby (forward), Moby (reverse) and WordNet pair
  the two words (0 for swaps taken from real spun copy only);
- ``exc_form``, ``exc_lemma``, ``exc_pos``: WordNet's irregular-inflection exception lists.

Spinners prefer common words and the core synonyms every dictionary agrees on, so a spinner
rewriting headword ``h`` is modelled as choosing synonym ``s`` with probability proportional to
``EVIDENCE_WEIGHT[evidence(h, s)] * (freq(s) + 1) ** alpha``; the same channel, read backwards, tells
the repairer which originals could have produced a spun word. On the seed article's 46 swaps that
the sources hold, alpha = 0.5 fits best (log-likelihood -205 for alpha 0.5 against -222 for 0 and
-223 for 1), and the evidence weights below raise it to -194: pairs all three sources agree on are
about five times over-represented in real spun copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "thesaurus.npz"
DEFAULT_ALPHA = 0.5
# Channel weight by evidence level 0..3 (see the module docstring).
EVIDENCE_WEIGHT = np.array([1.0, 1.0, 1.3, 7.0])
_INVERSE_CACHE_SIZE = 20_000

# Words the thesaurus family never touches and never produces: closed-class words and auxiliaries.
# Spinners handle these through their phrase table (PHRASE_SWAPS) instead.
FUNCTION_WORDS: frozenset[str] = frozenset(
    """a an the this that these those some any each every all both either neither no not nor
    i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
    who whom whose which what where when why how whether if then than so as because since while
    although though unless until till and or but yet for of in on at by to from with without into
    onto upon about above below over under between among through during before after against
    around across along toward towards within via per up down out off
    be am is are was were been being have has had having do does did doing done
    will would shall should can could may might must ought
    there here also very just only even still too not never more most much many such own same
    other another""".split()
)

# Function-word and phrase swaps of real article spinners: original -> spun variants (lower case).
# The seed article is our only test text from a real spinner, so this table holds the swaps the
# spinner issue specifies plus generic ones, never swaps read off the seed alone.
# The thesaurus lists for such words are huge and mostly wrong-sense, whereas spinners use a small,
# stable table for them, so they are kept apart from the thesaurus and applied as their own family.
PHRASE_SWAPS: dict[str, tuple[str, ...]] = {
    "said": ("stated",),
    "told": ("instructed", "advised"),
    "not": ("no longer",),
    "since": ("considering the fact that", "due to the fact that"),
    "because": ("due to the fact that", "because of the fact that"),
    "according to": ("consistent with", "in keeping with", "in step with"),
    "rather than": ("as opposed to", "in place of"),
    "must": ("have to", "ought to"),
    "should": ("ought to", "must"),
    "call on": ("name on",),
    "called on": ("referred to as on",),
    "against": ("towards", "in opposition to"),
    "by": ("via", "through", "with the aid of"),
    "despite": ("notwithstanding", "regardless of", "in spite of"),
    "will": ("are able to", "can"),
    "would": ("might", "could"),
    "we are": ("we're",),
    "they are": ("they're",),
    "it is": ("it's",),
    "is not": ("isn't",),
    "do not": ("don't",),
    "what is": ("what's",),
    "that is": ("that's",),
    "but": ("however",),
    "however": ("but", "nevertheless"),
    "was never": ("changed into in no way",),
    "never": ("in no way", "by no means"),
    "in order to": ("so as to", "so one can", "with a purpose to"),
    "as well as": ("in addition to", "along with"),
    "although": ("even though", "even as"),
    "while": ("even as", "whilst"),
    "about": ("approximately",),
    "around": ("round", "approximately"),
    "during": ("at some point of", "throughout", "for the duration of"),
    "including": ("which include", "together with", "consisting of"),
    "such as": ("which include", "along with"),
    "before": ("earlier than", "in advance of"),
    "until": ("till", "until eventually"),
    "whether": ("whether or not",),
    "many": ("a lot of", "numerous"),
    "some": ("a few", "a little"),
    "very": ("extraordinarily", "extremely"),
    "almost": ("nearly",),
    "as a result": ("as a end result", "as a consequence"),
    "for example": ("as an instance", "for instance"),
    "at least": ("at the least", "as a minimum"),
    "in addition": ("further", "moreover"),
    "on the other hand": ("however",),
    "the first time": ("the primary time",),
    "could": ("may want to", "ought to"),
    "can": ("may",),
    "need to": ("want to", "must"),
}


# Formal and wordy words and phrases -> the plain ones news copy uses, from plain-language writing guidance
# (the US federal plain language guidelines' list of simple words and phrases, and the usual lists of
# wordy phrases). Spinners and paraphrasing tools make plain copy formal; the candidate generator offers
# these plain originals whatever spinner wrote the text (issue 16, "function-word and fixed-phrase
# originals"). Our own Spinner never uses this table, so it is no copy of its statistics; and it holds no
# swap of the seed article (a test checks it).
PLAIN_WORDS: dict[str, tuple[str, ...]] = {
    "a number of": ("some", "several"), "a large number of": ("many",), "the majority of": ("most",),
    "accompany": ("go with",), "accomplish": ("do", "achieve"), "accordingly": ("so",),
    "adjacent to": ("next to", "near"), "advantageous": ("helpful",), "anticipate": ("expect",),
    "anticipated": ("expected",), "approximately": ("about",), "as a means of": ("to",),
    "as a result of": ("because of",), "ascertain": ("find out", "learn"), "assist": ("help",),
    "assisted": ("helped",), "assistance": ("help",), "at the present time": ("now",),
    "at this point in time": ("now",), "attempt": ("try",), "attempted": ("tried",), "by means of": ("by", "with"),
    "close proximity": ("near",), "in close proximity to": ("near",), "commence": ("begin", "start"),
    "commenced": ("began", "started"), "comply with": ("follow",), "concerning": ("about", "on"),
    "consequently": ("so",), "convene": ("meet",), "convened": ("met",), "currently": ("now",),
    "deem": ("consider",), "deemed": ("considered",), "demonstrate": ("show",), "demonstrated": ("showed",),
    "depart": ("leave",), "departed": ("left",), "desire": ("want",), "discontinue": ("stop",),
    "discontinued": ("stopped",), "due to the fact that": ("because",), "during the period": ("during",),
    "eliminate": ("end", "remove"), "eliminated": ("ended", "removed"), "employ": ("use",), "endeavor": ("try",),
    "endeavour": ("try",), "ensure": ("make sure",), "expedite": ("speed up",), "expend": ("spend",),
    "facilitate": ("help",), "facilitated": ("helped",), "failed to": ("did not",), "females": ("women",),
    "finalize": ("complete", "finish"), "for the purpose of": ("for", "to"), "frequently": ("often",),
    "has the ability to": ("can",), "have the ability to": ("can",), "is able to": ("can",), "are able to": ("can",),
    "identical": ("same",), "immediately": ("at once",), "implement": ("carry out",),
    "implemented": ("carried out",), "in a timely manner": ("on time", "promptly"), "in accordance with": ("under",),
    "in an effort to": ("to",), "in excess of": ("more than",), "in lieu of": ("instead of",),
    "in order that": ("so",), "in regard to": ("about",), "with regard to": ("about",), "with reference to": ("about",),
    "in relation to": ("about",), "in the event that": ("if",), "in the event of": ("if",),
    "in the near future": ("soon",), "in the vicinity of": ("near",), "in spite of the fact that": ("although",),
    "inception": ("start",), "initial": ("first",), "initially": ("first",), "initiate": ("start", "begin"),
    "initiated": ("started", "began"), "locate": ("find",), "located": ("found",), "magnitude": ("size",),
    "methodology": ("method",), "modify": ("change",), "modified": ("changed",), "necessitate": ("need",),
    "notify": ("tell",), "notified": ("told",), "objective": ("goal", "aim"), "obtain": ("get",),
    "obtained": ("got",), "on a daily basis": ("daily",), "on a regular basis": ("regularly",),
    "participate": ("take part",), "participated": ("took part",), "perform": ("do",), "performed": ("did",),
    "permit": ("let", "allow"), "pertaining to": ("about", "on"), "portion": ("part",), "possess": ("have", "own"),
    "possesses": ("has", "owns"), "possessed": ("had", "owned"), "previously": ("before", "earlier"),
    "prior to": ("before",), "procure": ("buy", "get"), "purchase": ("buy",), "purchased": ("bought",),
    "pursuant to": ("under",), "regarding": ("about", "on"), "relocate": ("move",), "relocated": ("moved",),
    "remainder": ("rest",), "remuneration": ("pay",), "request": ("ask",), "requested": ("asked",),
    "reside": ("live",), "resided": ("lived",), "retain": ("keep",), "retained": ("kept",), "solicit": ("ask for",),
    "subsequent to": ("after",), "subsequently": ("later", "then"), "sufficient": ("enough",),
    "terminate": ("end",), "terminated": ("ended",), "therefore": ("so",), "transmit": ("send",),
    "until such time as": ("until",), "utilize": ("use",), "utilized": ("used",), "utilizes": ("uses",),
    "utilise": ("use",), "utilised": ("used",), "utilization": ("use",), "with the exception of": ("except",),
    "witnessed": ("saw",),
}


def plain_inverse() -> dict[str, list[tuple[str, float]]]:
    """Formal or wordy phrase -> [(plain original, its share of the phrase's plain options)], from
    :data:`PLAIN_WORDS`."""
    return {formal: [(plain, 1.0 / len(plains)) for plain in plains] for formal, plains in PLAIN_WORDS.items()}


@dataclass(frozen=True)
class LexiconTables:
    """The raw contents of a compiled data file, with the vocabulary index built once."""

    vocab: list[str]
    index: dict[str, int]
    arrays: dict[str, np.ndarray]


@lru_cache(maxsize=4)
def load_tables(path: str | Path | None = None) -> LexiconTables:
    """Read a compiled data file (default: the shipped one). Cached: the file is read once."""
    with np.load(Path(path) if path is not None else DEFAULT_PATH) as archive:
        arrays = {name: archive[name] for name in archive.files}
    vocab = arrays.pop("vocab").tobytes().decode("utf-8").split("\n")
    return LexiconTables(vocab, {word: i for i, word in enumerate(vocab)}, arrays)


class Thesaurus:
    """Headword -> synonyms (lemma level, lower case), corpus frequencies and the spinner channel."""

    _cache: dict[tuple[str, float], Thesaurus] = {}

    def __init__(self, tables: LexiconTables, alpha: float = DEFAULT_ALPHA) -> None:
        a = tables.arrays
        self.alpha = alpha
        self._vocab = tables.vocab
        self._index = tables.index
        self._freq = a["freq"].astype(np.int64)
        self._lower_freq = a["lower_freq"].astype(np.int64)
        head_ids = a["head_ids"].astype(np.int64)
        offsets = a["syn_offsets"].astype(np.int64)
        syn_ids = a["syn_ids"].astype(np.int64)

        # Row of each headword in the CSR arrays, by vocabulary id (-1: not a headword).
        self._head_row = np.full(len(self._vocab), -1, dtype=np.int64)
        self._head_row[head_ids] = np.arange(len(head_ids))
        self._offsets = offsets
        self._syn_ids = syn_ids

        # Channel P(s | h) proportional to EVIDENCE_WEIGHT * (freq(s) + 1) ** alpha within each list.
        weights = EVIDENCE_WEIGHT[a["syn_evidence"]] * (self._freq[syn_ids] + 1.0) ** alpha
        rows = np.repeat(np.arange(len(head_ids)), np.diff(offsets))
        sums = np.bincount(rows, weights=weights, minlength=len(head_ids))
        self._probs = weights / sums[rows]

        # Inverse index: entries grouped by synonym id; :meth:`inverse` orders a group by probability,
        # ties alphabetically (by each word's rank in the sorted vocabulary).
        order = np.argsort(syn_ids, kind="stable")
        self._alphabetical = np.empty(len(self._vocab), dtype=np.int64)
        self._alphabetical[sorted(range(len(self._vocab)), key=self._vocab.__getitem__)] = np.arange(len(self._vocab))
        self._inv_heads = head_ids[rows[order]]
        self._inv_probs = self._probs[order]
        counts = np.bincount(syn_ids, minlength=len(self._vocab))
        self._inv_offsets = np.concatenate(([0], np.cumsum(counts)))
        self._inverse_cache: dict[str, list[tuple[str, float]]] = {}

    @classmethod
    def load(cls, path: str | Path | None = None, alpha: float = DEFAULT_ALPHA) -> Thesaurus:
        """The thesaurus of a compiled data file (default: the shipped one). Cached per path and alpha."""
        key = (str(Path(path).resolve()) if path is not None else str(DEFAULT_PATH), alpha)
        if key not in cls._cache:
            cls._cache[key] = cls(load_tables(path), alpha)
        return cls._cache[key]

    def __contains__(self, headword: str) -> bool:
        i = self._index.get(headword.lower())
        return i is not None and self._head_row[i] >= 0

    def __len__(self) -> int:
        return int((self._head_row >= 0).sum())

    def headwords(self) -> list[str]:
        return [self._vocab[i] for i in np.flatnonzero(self._head_row >= 0)]

    def synonyms(self, headword: str) -> tuple[str, ...]:
        i = self._index.get(headword.lower())
        if i is None or self._head_row[i] < 0:
            return ()
        row = self._head_row[i]
        return tuple(self._vocab[s] for s in self._syn_ids[self._offsets[row]:self._offsets[row + 1]])

    def frequency(self, word: str) -> int:
        """Case-folded count of ``word`` (or phrase) in the clean corpora; 0 when unseen."""
        i = self._index.get(word.lower())
        return int(self._freq[i]) if i is not None else 0

    def lowercase_share(self, word: str) -> float:
        """Share of the corpus occurrences of ``word`` written in lower case: near 0 for names."""
        i = self._index.get(word.lower())
        if i is None or self._freq[i] == 0:
            return 0.0
        return float(self._lower_freq[i] / self._freq[i])

    def channel(self, headword: str) -> dict[str, float]:
        """P(spinner writes s | headword) over the headword's synonyms; empty when it has none."""
        i = self._index.get(headword.lower())
        if i is None or self._head_row[i] < 0:
            return {}
        row = self._head_row[i]
        lo, hi = self._offsets[row], self._offsets[row + 1]
        return {self._vocab[s]: float(p) for s, p in zip(self._syn_ids[lo:hi], self._probs[lo:hi])}

    @cached_property
    def multiword_tails(self) -> frozenset[str]:
        """What follows the first word of each multi-word synonym ("beings" of "human beings"): a phrase
        with any other tail is no multi-word synonym, whatever the lemma of its first word."""
        synonyms = np.flatnonzero(np.diff(self._inv_offsets) > 0).tolist()
        return frozenset(word.partition(" ")[2] for word in map(self._vocab.__getitem__, synonyms) if " " in word)

    def inverse(self, synonym: str) -> list[tuple[str, float]]:
        """Headwords whose list holds ``synonym``, with P(synonym | headword), most probable first."""
        key = synonym.lower()
        cached = self._inverse_cache.get(key)
        if cached is not None:
            return cached
        i = self._index.get(key)
        result: list[tuple[str, float]] = []
        if i is not None:
            lo, hi = self._inv_offsets[i], self._inv_offsets[i + 1]
            heads, probs = self._inv_heads[lo:hi], self._inv_probs[lo:hi]
            order = np.lexsort((self._alphabetical[heads], -probs))
            vocab = self._vocab
            result = [(vocab[h], p) for h, p in zip(heads[order].tolist(), probs[order].tolist())]
        if len(self._inverse_cache) >= _INVERSE_CACHE_SIZE:  # bounded: a long job meets most of the vocabulary
            self._inverse_cache.clear()
        self._inverse_cache[key] = result
        return result


def phrase_inverse() -> dict[str, tuple[str, ...]]:
    """Spun variant -> the originals it stands for in :data:`PHRASE_SWAPS` (identity variants left out)."""
    inverse: dict[str, list[str]] = {}
    for original, variants in PHRASE_SWAPS.items():
        for variant in variants:
            if variant != original and original not in inverse.get(variant, []):
                inverse.setdefault(variant, []).append(original)
    return {variant: tuple(originals) for variant, originals in inverse.items()}

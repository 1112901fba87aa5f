"""training.align: the fast_align-style aligner and grow-diag-final-and, on small hand-made pairs."""

from __future__ import annotations

from training.align import AlignArgs, Aligner, align, grow_diag_final_and, tokens

# Garbled -> clean pairs in the style of an MT round trip: mostly identical, some words changed, one noun
# compound turned inside out ("conference of news" -> "news conference").
PAIRS = [
    ("The minister gave a conference of news on Monday.", "The minister gave a news conference on Monday."),
    ("Police learnt that the man had fled.", "Police learned that the man had fled."),
    ("The company said that it will cut jobs.", "The company said it would cut jobs."),
    ("She was elected in the Thursday.", "She was elected on Thursday."),
    ("Prices rose sharply in March.", "Prices rose sharply in March."),
    ("The team learnt of the decision late.", "The team learned of the decision late."),
    ("Officials said the talks will resume.", "Officials said the talks would resume."),
    ("A conference of news was held in Paris.", "A news conference was held in Paris."),
]


def _aligned_words(pair_index: int, alignment) -> set[tuple[str, str]]:
    source, target = (tokens(text) for text in PAIRS[pair_index])
    return {(source[j], target[i]) for j, i in alignment}


def test_identical_words_and_substitutions_link():
    sources = [tokens(s) for s, _ in PAIRS]
    targets = [tokens(t) for _, t in PAIRS]
    alignments = align(sources, targets)
    links = _aligned_words(1, alignments[1])
    assert {("Police", "Police"), ("learnt", "learned"), ("man", "man"), ("fled", "fled")} <= links
    assert ("learnt", "learned") in _aligned_words(5, alignments[5])
    assert ("will", "would") in _aligned_words(2, alignments[2])
    # An unchanged sentence aligns word for word.
    assert alignments[4] == [(k, k) for k in range(len(sources[4]))]


def test_swap_is_recovered():
    sources = [tokens(s) for s, _ in PAIRS]
    targets = [tokens(t) for _, t in PAIRS]
    alignment = align(sources, targets)[0]
    source, target = sources[0], targets[0]
    links = {(source[j], target[i]) for j, i in alignment}
    assert {("conference", "conference"), ("news", "news"), ("Monday", "Monday")} <= links
    # The links cross: "conference" comes before "news" in the garbled sentence, after it in the clean one.
    (j_conf, i_conf), = [(j, i) for j, i in alignment if source[j] == "conference"]
    (j_news, i_news), = [(j, i) for j, i in alignment if source[j] == "news"]
    assert j_conf < j_news and i_conf > i_news


def test_identity_prior_beats_the_diagonal():
    """A word moved from the end to the start links to itself with the identity prior and to a word near
    the diagonal without it (on this tiny corpus the data alone cannot tell; on real data both do)."""
    sources = [tokens(s) for s, _ in PAIRS] + [tokens("the night of Tuesday was cold")]
    targets = [tokens(t) for _, t in PAIRS] + [tokens("Tuesday night was cold")]
    forward, reverse = Aligner(AlignArgs(diagonal_tension=4.0)).directional(sources, targets)
    assert (3, 0) in forward[-1] and (3, 0) in reverse[-1]  # Tuesday = Tuesday
    forward, reverse = Aligner(AlignArgs(diagonal_tension=4.0, identity_prior=0.0)).directional(sources, targets)
    assert (3, 0) not in forward[-1] and (3, 0) not in reverse[-1]


def test_empty_sides_and_chunking():
    sources = [tokens(s) for s, _ in PAIRS] + [[], ["word"]]
    targets = [tokens(t) for _, t in PAIRS] + [["word"], []]
    whole = align(sources, targets)
    assert whole[-2:] == [[], []]
    # Cutting the corpus into many small chunks changes nothing.
    assert align(sources, targets, AlignArgs(chunk_links=50)) == whole


def test_grow_diag_final_and():
    forward = {(0, 0), (1, 1), (2, 2), (2, 1), (4, 0), (6, 5)}
    reverse = {(0, 0), (1, 1), (2, 2), (1, 2), (3, 3), (5, 4)}
    # The intersection is (0,0) (1,1) (2,2). Grow adds (3,3): next to (2,2), both words unaligned; not
    # (2,1) or (1,2), whose words are both aligned already. Final-and adds (6,5) and (5,4), whose words are
    # both unaligned, but not (4,0): clean word 0 is aligned.
    assert grow_diag_final_and(forward, reverse) == [(0, 0), (1, 1), (2, 2), (3, 3), (5, 4), (6, 5)]
    # Growing needs only one of the two words unaligned.
    assert grow_diag_final_and({(0, 0), (0, 1)}, {(0, 0)}) == [(0, 0), (0, 1)]
    assert grow_diag_final_and(set(), set()) == []

"""Aho-Corasick matching of lexicon terms over every normalized view of a text.

Three automata: Han keys (each form and its split-character spellings, folded like the homophone
view) run over the homophone view, and each hit is credited to the most literal view that has it
(strict, skeleton, split or homophone) by looking up its original span; full-pinyin keys run over
the pinyin view and initials keys over the initials view, both only in windows around letters the
poster typed. Each loose view is guarded against the false positives it invites.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from operator import attrgetter

import ahocorasick_rs

from .normalize import SKELETON, STRICT, FoldedText, fold_char, homophone_fold, is_han, is_noise, pinyin, pinyin_tables
from .normalize import term_key as key
from .terms import Term

#: Split-character (拆字) spellings of key characters: 权→木又 and 强→弓虽 are attested (TG-90, 987632);
#: the others are generated the same way for the characters the guideline's terms hinge on.
SPLITS = {
    "权": "木又", "强": "弓虽", "债": "亻责", "信": "亻言", "保": "亻呆", "催": "亻崔", "征": "彳正",
    "账": "贝长", "贷": "代贝", "铲": "钅产", "额": "客页", "律": "彳聿", "维": "纟隹", "优": "亻尤",
}
#: Categories whose terms also get pinyin and initials keys (the ad vocabulary, not cues or contexts).
PINYIN_CATEGORIES = ("level1_term", "level2_term", "impersonation", "claim", "loan_slang")
#: Pinyin keys need this many syllables: two-syllable pinyin collides with ordinary words.
MIN_SYLLABLES = 3
#: Longer slogans are not typed in pinyin; capping keys bounds the window scanned around letters.
MAX_SYLLABLES = 8
#: A homophone-view-only hit needs a key this long (私心 must not read as 私信).
MIN_HOMOPHONE_KEY = 3
#: Initials written alone (txgz) need this many letters, or other ad vocabulary in the same text.
MIN_BARE_INITIALS = 4
#: Reading combinations generated per form for heteronyms (还 hái/huán, 重 zhòng/chóng).
MAX_READINGS = 16
#: Report order: a hit found by several views is credited to the most literal.
VIEW_RANK = {name: rank for rank, name in enumerate(("strict", "skeleton", "split", "homophone", "pinyin", "initials"))}
_CONTEXT_CATEGORIES = frozenset(PINYIN_CATEGORIES) | {"signal"}
_CUES = frozenset({"warning_cue", "legit_context"})
#: Latin letters as typed (ASCII or full width): pinyin hits must contain one. Written as one letter
#: then more, not "[…]+": a pattern opening with a character class is searched by a fast scan for
#: that class, one opening with a repeat is tried at every position (four times slower).
_LETTER = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ][A-Za-zＡ-Ｚａ-ｚ]*")
_CONTACT_TOKENS = frozenset({"v", "vx", "wx", "qq", "q", "tg", "id", "http", "https", "www"})
#: Original characters scanned on each side of a letter run: a key's syllables plus separators between them.
_WINDOW = 2 * MAX_SYLLABLES
#: Memos (a hit's view credit per key and written form, whether a typed run is in a key) stop growing here,
#: so hostile input cannot exhaust memory.
_MAX_MEMO = 100_000
_UNSEEN = object()



@dataclass(frozen=True, init=False)
class Match:
    """A lexicon hit: the canonical term, its category and where it sits in the original text."""

    term: str
    category: str
    family: str
    view: str
    start: int
    end: int
    text: str

    def __init__(self, term: str, category: str, family: str, view: str, start: int, end: int, text: str):
        # Every candidate hit builds one: writing the frozen fields straight into __dict__ halves the cost
        # of the generated __init__ (one object.__setattr__ call per field).
        fields = self.__dict__
        fields["term"] = term
        fields["category"] = category
        fields["family"] = family
        fields["view"] = view
        fields["start"] = start
        fields["end"] = end
        fields["text"] = text

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Pattern:
    term: Term
    view: str  # "" (strict or skeleton) | "split" | "pinyin" | "initials"
    syllables: int = 0
    primary: bool = True  # pinyin/initials: the key spells each character's first (usual) reading


class _Automaton:
    """One Aho-Corasick automaton over deduplicated keys (first claim wins), each remembering its term."""

    def __init__(self, keyed: list[tuple[str, _Pattern]]):
        self.patterns: list[_Pattern] = []
        keys: list[str] = []
        seen: set[str] = set()
        for pattern_key, pattern in keyed:
            if pattern_key in seen:
                continue
            seen.add(pattern_key)
            keys.append(pattern_key)
            self.patterns.append(pattern)
        self.keys = keys
        self._ac = ahocorasick_rs.AhoCorasick(keys, matchkind=ahocorasick_rs.MatchKind.Standard) if keys else None
        self._all_keys = "\n".join(keys)
        self._in_a_key: dict[str, bool] = {}

    def find(self, text: str) -> list[tuple[int, int, int]]:
        if self._ac is None:
            return []
        return self._ac.find_matches_as_indexes(text, overlapping=True)

    def in_a_key(self, fragment: str) -> bool:
        """Whether some key contains ``fragment`` (a run of letters; memoized, the runs people type repeat)."""
        known = self._in_a_key.get(fragment)
        if known is None:
            known = fragment in self._all_keys
            if len(self._in_a_key) < _MAX_MEMO:
                self._in_a_key[fragment] = known
        return known


def _han_keys(terms: list[Term]) -> tuple[list[tuple[str, _Pattern]], dict[str, tuple[Term, str]]]:
    """Automaton keys (in homophone space, base forms first) and the literal spellings they stand for.

    The automaton runs on the homophone view only; a hit is then credited by looking its original
    span up among the literal spellings: a form's key (strict or skeleton view) or a split-character
    spelling (split), else it was reachable only through the homophone map (homophone).
    """
    base = [(key(form), term) for term in terms for form in term.forms]
    literal: dict[str, tuple[Term, str]] = {}
    for k, term in base:
        literal.setdefault(k, (term, ""))
    for k, term in base:
        split_chars = [c for c in dict.fromkeys(k) if c in SPLITS]
        spellings = [k.replace(c, SPLITS[c]) for c in split_chars]
        if len(split_chars) > 1:
            spellings.append("".join(SPLITS.get(c, c) for c in k))
        for spelling in spellings:
            literal.setdefault(spelling, (term, "split"))
    keyed = [("".join(map(homophone_fold, k)), _Pattern(term, view)) for k, (term, view) in literal.items()]
    return keyed, literal


def _pinyin_keys(term: Term) -> tuple[list[tuple[str, _Pattern]], list[tuple[str, _Pattern]]]:
    """Full-pinyin and initials keys of every all-Han form of at least MIN_SYLLABLES characters."""
    full, initials = [], []
    if term.category not in PINYIN_CATEGORIES:
        return full, initials
    table = pinyin()
    for form in term.forms:
        base = key(form)
        if not MIN_SYLLABLES <= len(base) <= MAX_SYLLABLES or not all(is_han(c) for c in base):
            continue
        readings = [table.readings(c) for c in base]
        for n, combo in enumerate(itertools.islice(itertools.product(*readings), MAX_READINGS)):
            full.append(("".join(combo), _Pattern(term, "pinyin", len(base), n == 0)))
            initials.append(("".join(s[0] for s in combo), _Pattern(term, "initials", len(base), n == 0)))
    return full, initials


class Matcher:
    """The automata over all terms' keys; ``match`` runs them on each view and resolves overlaps."""

    def __init__(self, terms: list[Term]):
        full: list[tuple[str, _Pattern]] = []
        initials: list[tuple[str, _Pattern]] = []
        for term in terms:
            term_full, term_initials = _pinyin_keys(term)
            full += term_full
            initials += term_initials
        han_keys, self._literal = _han_keys(terms)
        self._han = _Automaton(han_keys)
        # Forms with punctuation inside (成功率100%) still count as strict hits when written as listed.
        self._noisy_forms = {"".join(map(fold_char, f)) for t in terms for f in t.forms if any(map(is_noise, f))}
        self._pinyin = _Automaton(full)
        self._initials = _Automaton(_unambiguous(initials))
        self._pinyin_table, self._initials_table = pinyin_tables()
        self._credits: dict[tuple[int, str], tuple[Term, str] | None] = {}

    @property
    def patterns(self) -> list[str]:
        """Every Han key (for inspection and benchmarks)."""
        return self._han.keys

    def match(self, text: str, names: Sequence[tuple[int, int]] = (), folded: FoldedText | None = None) -> list[Match]:
        """Every term found in ``text``, spans in the original; see ``resolve`` for overlaps.

        ``names``: spans of contact ids and URLs; their letters are names, not pinyin.
        ``folded``: the text's views if the caller already has them (``Lexicon.scan`` shares them with contacts).
        """
        view = (folded or FoldedText(text)).homophone
        found: list[Match] = []
        for index, start, end in self._han.find(view.text):
            o_start, o_end = view.span(start, end)
            if not _word_bounded(text, o_start, o_end):
                continue
            written = text[o_start:o_end]
            credit = self._credits.get((index, written), _UNSEEN)
            if credit is _UNSEEN:
                credit = self._credit(index, written, end - start)
            if credit is not None:
                term, view_name = credit
                found.append(Match(term.canonical, term.category, term.family, view_name, o_start, o_end, written))
        for window in _letter_windows(text, names):
            found += self._pinyin_hits(text, *window)
        return resolve(found)

    def _credit(self, index: int, written: str, length: int) -> tuple[Term, str] | None:
        """The term and most literal view of a homophone-space hit on ``written`` (None: no hit), memoized."""
        skeleton = written.translate(SKELETON)
        literal = self._literal.get(skeleton)
        if literal is not None:
            term, view_name = literal
            if not view_name:
                strict = written.translate(STRICT)
                view_name = "strict" if strict == skeleton or strict in self._noisy_forms else "skeleton"
            credit = term, view_name
        elif length >= MIN_HOMOPHONE_KEY:
            credit = self._han.patterns[index].term, "homophone"
        else:
            credit = None  # 私心 must not read as 私信
        if len(self._credits) < _MAX_MEMO:
            self._credits[index, written] = credit
        return credit

    def _pinyin_hits(self, text: str, start: int, end: int) -> list[Match]:
        """Pinyin and initials hits in ``text[start:end]``, a window around letters the poster typed."""
        window = text[start:end]
        runs = _LETTER.findall(window)
        # An accepted hit holds every ASCII letter run it touches whole (``_word_bounded`` refuses a cut
        # one), so an automaton none of whose keys holds any typed run cannot hit: its view is skipped.
        typed = [run.lower() for run in runs] if all(run.isascii() for run in runs) else None
        hits: list[Match] = []
        for table, automaton in ((self._pinyin_table, self._pinyin), (self._initials_table, self._initials)):
            if typed is not None and not any(map(automaton.in_a_key, typed)):
                continue
            view = table.mapped_view(window)
            for index, v_start, v_end in automaton.find(view.text):
                first, last = view.span(v_start, v_end)
                ends = view.ends
                if (first and ends[first - 1] != v_start) or ends[last - 1] != v_end:
                    continue  # inside a syllable: 山泉 shanquan must not yield "anquan"
                o_start, o_end = first + start, last + start
                if _LETTER.search(text, o_start, o_end) and _word_bounded(text, o_start, o_end):
                    term = automaton.patterns[index].term
                    hits.append(Match(term.canonical, term.category, term.family, table.name, o_start, o_end,
                                      text[o_start:o_end]))
        return hits


def _letter_windows(text: str, names: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Merged spans around runs of Latin letters, wide enough for any pinyin key touching them.

    Runs inside ``names`` and contact tokens (V, vx, QQ …) are no pinyin and open no window.
    """
    windows: list[tuple[int, int]] = []
    for m in _LETTER.finditer(text):
        run_start, run_end = m.span()
        if m.group().casefold() in _CONTACT_TOKENS:
            continue
        for name_start, name_end in names:
            if name_start <= run_start and run_end <= name_end:
                break
        else:
            start, end = max(0, run_start - _WINDOW), min(len(text), run_end + _WINDOW)
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], end)
            else:
                windows.append((start, end))
    return windows


def _unambiguous(keyed: list[tuple[str, _Pattern]]) -> list[tuple[str, _Pattern]]:
    """Drop initials keys shared by different terms: zxxf cannot say which one it means — unless only
    one of them spells it with its characters' usual readings (a rare reading of another term's
    character does not take a key away from the term everybody abbreviates that way)."""
    owners: dict[str, set[str]] = {}
    usual: dict[str, set[str]] = {}
    for k, p in keyed:
        owners.setdefault(k, set()).add(p.term.canonical)
        if p.primary:
            usual.setdefault(k, set()).add(p.term.canonical)
    return [(k, p) for k, p in keyed
            if len(owners[k]) == 1 or (len(usual.get(k, ())) == 1 and p.term.canonical in usual[k])]


#: ASCII letters and digits: a hit edge next to one of these may sit inside a longer ASCII word.
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _word_bounded(text: str, start: int, end: int) -> bool:
    """An ASCII edge of the span is not inside a longer ASCII word or number.

    zxxf2026 is a WeChat ID, not 征信修复; wx in wxPython and 12378 inside a phone number are no hits.
    """
    if text[start] in _WORD_CHARS and start > 0 and text[start - 1] in _WORD_CHARS:
        return False
    return not (text[end - 1] in _WORD_CHARS and end < len(text) and text[end] in _WORD_CHARS)


def _contains(outer: Match, inner: Match) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def resolve(matches: list[Match]) -> list[Match]:
    """One hit per term and place, the most literal view winning; sorted by position.

    - A hit inside a legitimate-context hit is dropped (上岸 inside 考研上岸, 修复 inside 皮肤修复).
    - A hit inside a longer hit of the same category is dropped (修复征信 inside 修复征信记录), and
      so is a cue inside any longer term (公安 inside 公安局证明文件, 切勿 inside 切勿盲目还债).
    - Overlapping hits of the same term from different views are reported once.
    - Bare initials (txgz with under MIN_BARE_INITIALS letters, e.g. fcs) count only when the text
      has other ad vocabulary.
    Partial overlaps of different terms are both kept: each is real evidence.
    """
    if len(matches) < 2:  # nothing to compare
        return [m for m in matches if not _bare_short_initials(m)]
    kept = sorted(matches, key=_REPORT_ORDER)
    if not all(a.end <= b.start for a, b in zip(kept, kept[1:])):  # without overlaps no rule above applies
        kept = _without_overlaps(matches)
        kept.sort(key=_REPORT_ORDER)
    bare = [_bare_short_initials(m) for m in kept]
    if any(bare):
        context = any(m.category in _CONTEXT_CATEGORIES and not b for m, b in zip(kept, bare))
        kept = [m for m, b in zip(kept, bare) if context or not b]
    return kept


def _without_overlaps(matches: list[Match]) -> list[Match]:
    """``matches`` less those the legitimate-context, containment and same-term rules of ``resolve`` drop."""
    ordered = sorted(matches, key=_resolve_order)
    legit = [m for m in ordered if m.category == "legit_context"]
    kept: list[Match] = []
    for m in ordered:
        if legit and m.category != "legit_context" and any(_contains(g, m) for g in legit):
            continue
        is_cue = m.category in _CUES
        for k in kept:
            if k.start < m.end and m.start < k.end and (
                    k.term == m.term or ((is_cue or k.category == m.category) and _contains(k, m))):
                break
        else:
            kept.append(m)
    return kept


def _resolve_order(m: Match) -> tuple[int, int, int]:
    return -(m.end - m.start), VIEW_RANK.get(m.view, 9), m.start


_REPORT_ORDER = attrgetter("start", "end", "term")


def _bare_short_initials(m: Match) -> bool:
    return m.view == "initials" and m.text.isascii() and sum(c.isalpha() for c in m.text) < MIN_BARE_INITIALS

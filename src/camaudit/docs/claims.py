"""Claims of protected-trait analytics and police-platform features in a document's text.

Sans-IO: pages of text in, scored hits out. The steps, each kept simple so a reader
can follow why a sentence was or was not reported:

1. *Normalise* each line: NFKC (full-width letters and punctuation as ASCII), and the
   spaces OCR puts between Han characters removed.
2. *Sentences* end at . ! ? ; 。！？； (a full stop only before a space), at a blank
   line, before a bullet or numbered item or a heading, at the end of a line too short
   to have been wrapped (under 3/4 of the page's widest), before a capital when the
   line does not run on (no trailing comma, "and", "of", "not" ...), and — for DOCX, XLSX and
   HTML, whose lines are paragraphs, rows and cells — at every line end. A line ending
   in a colon is the *heading* of the lines under it ("Recognised attributes:").
3. *Score* each vocabulary term found (``vocabulary.yaml`` says why each word is there):
   a strong term starts at 0.5, a weak one at 0.35; +0.4 when the sentence or heading
   says what a product does with it (detect, attribute, 识别, 属性 ...), +0.15 when it
   names a second term. A term in a negated clause ("must not detect race", 不支持),
   or in a sentence of law or policy (AI Act, GDPR, 法律), is multiplied by 0.25.
4. From 0.55 a hit is a finding (medium; high from 0.75); below, it is *set aside* with
   the reason (negated, regulatory text, no analytics context), so an auditor can see
   what was passed over and why.

Platform terms (GA/T 1400, face libraries, key persons) are set aside only when negated.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from camaudit.docs.pages import Page
from camaudit.docs.vocabulary import Term, Vocabulary

STRONG, WEAK, CONTEXT, SECOND, DAMP = 0.5, 0.35, 0.4, 0.15, 0.25
FINDING, HIGH = 0.55, 0.75
EXCERPT = 240

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_GAP = re.compile(f"(?<=[{_HAN}])[ \t]+(?=[{_HAN}])")
_END = re.compile(r"[.!?](?=\s|$)|[;。！？；]")
_BULLET = re.compile(r"^\s*(?:[•·▪●◦■□\-*–—]\s|\(?\d{1,3}[.)、]\s?|[a-z][.)]\s|"
                     r"[(（][一二三四五六七八九十\d]{1,3}[)）]|[一二三四五六七八九十]{1,3}[、.])")
_CLAUSE = re.compile(r"[,;，；|]|\bbut\b|\bwhile\b|\bwhereas\b|但是|但|而")


@dataclass(frozen=True)
class Hit:
    """One vocabulary term at one place, with its score and what came of it."""

    term: Term
    page: int
    line: int
    text: str  # the line, normalised, cut around the term when long
    matched: str  # the words that matched
    score: float
    severity: str | None  # None: set aside
    why: str | None  # why it was set aside (None for a finding)


def normalise(line: str) -> str:
    return _HAN_GAP.sub("", unicodedata.normalize("NFKC", line)).strip()


@dataclass(frozen=True)
class _Sentence:
    start: int  # offsets in the page text
    end: int
    heading: str  # the heading line above, "" when none


class _PageText:
    """A page's normalised lines joined, with where each line starts."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.lines = [normalise(line) for line in page.lines]
        self.starts: list[int] = []
        pos = 0
        for line in self.lines:
            self.starts.append(pos)
            pos += len(line) + 1
        self.text = "\n".join(self.lines)
        #: a line narrower than this ends where its sentence or item ends, not by wrapping
        self.wrap = 0.75 * max((_width(line) for line in self.lines), default=0)

    def line_index(self, offset: int) -> int:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo


def _width(line: str) -> int:
    """Display width: Han and other wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


_RUNS_ON = re.compile(r"(?:[,\-–(/&]|\b(?:and|or|of|to|the|a|an|not|no|by|for|with|in|"
                     r"on|as|shall|must|will|may|can|is|are|be|that|which|such)\b)$", re.I)


def _new_sentence(line: str, nxt: str) -> bool:
    """English: the next line starts with a capital and this one does not run on."""
    return nxt[:1].isupper() and nxt[:1].isascii() and not _RUNS_ON.search(line)


def _list_item(line: str) -> bool:
    """A line that can sit under a heading: a bullet, or a short line without a full stop."""
    return bool(_BULLET.match(line)) or (len(line) <= 80 and not _END.search(line))


def _sentences(text: _PageText) -> list[_Sentence]:
    """Sentence spans of a page (wrapped lines joined; see the module docstring)."""
    out: list[_Sentence] = []
    heading = ""
    start: int | None = None  # an open sentence running on from an earlier line
    for i, line in enumerate(text.lines):
        base = text.starts[i]
        if heading and (not line or not _list_item(line)):
            heading = ""
        if not line or (start is not None and _BULLET.match(line)):
            if start is not None:
                out.append(_Sentence(start, base, heading))
                start = None
            if not line:
                continue
        cut = base if start is None else start
        for end in _END.finditer(line):
            out.append(_Sentence(cut, base + end.end(), heading))
            cut = base + end.end()
        nxt = text.lines[i + 1] if i + 1 < len(text.lines) else ""
        closes = (text.page.blocks or not nxt or bool(_BULLET.match(nxt))
                  or line.endswith((":", "：")) or nxt.endswith((":", "："))
                  or _width(line) < text.wrap or _new_sentence(line, nxt))
        if not text.text[max(cut, base):base + len(line)].strip():
            start = None
        elif closes:
            out.append(_Sentence(cut, base + len(line), heading))
            start = None
        else:
            start = cut
        if line.endswith((":", "：")):
            heading = line
    if start is not None:
        out.append(_Sentence(start, len(text.text), heading))
    return out


def _clause(sentence: str, at: int) -> str:
    """The clause of `sentence` around offset `at` (split at , ; | but 但 ...)."""
    left = 0
    for m in _CLAUSE.finditer(sentence):
        if m.end() <= at:
            left = m.end()
        elif m.start() >= at:
            return sentence[left:m.start()]
    return sentence[left:]


def _excerpt(line: str, matched: str) -> str:
    if len(line) <= EXCERPT:
        return line
    at = max(0, line.lower().find(matched.lower()))
    start = max(0, at - EXCERPT // 2)
    piece = line[start:start + EXCERPT]
    return ("…" if start else "") + piece + ("…" if start + EXCERPT < len(line) else "")


def _matches(term: Term, text: str) -> Iterator[re.Match[str]]:
    for pattern in term.patterns:
        yield from pattern.finditer(text)


def scan_pages(pages: list[Page], vocab: Vocabulary) -> list[Hit]:
    """Every vocabulary term in `pages`, scored (findings and set-aside hits)."""
    hits: list[Hit] = []
    for page in pages:
        if page.not_read or not page.lines:
            continue
        text = _PageText(page)
        for sentence in _sentences(text):
            hits.extend(_in_sentence(text, sentence, vocab))
    return _dedupe(hits)


def _in_sentence(text: _PageText, sentence: _Sentence, vocab: Vocabulary) -> list[Hit]:
    body = text.text[sentence.start:sentence.end].replace("\n", " ")
    found: list[tuple[Term, re.Match[str]]] = [
        (term, m) for term in (*vocab.claims, *vocab.platform) for m in _matches(term, body)]
    if not found:
        return []
    heading = sentence.heading
    claim_ids = {t.id for t, _ in found if t.kind == "analytics-claim"}
    context = bool(vocab.context.search(body) or (heading and vocab.context.search(heading)))
    regulatory = bool(vocab.regulatory.search(body)
                      or (heading and vocab.regulatory.search(heading)))
    heading_negated = bool(heading and vocab.negation.search(heading))
    out = []
    for term, m in found:
        negated = (heading_negated or bool(vocab.negation.search(_clause(body, m.start())))
                   or bool(vocab.negation_after.search(body, m.end())))
        if term.kind == "platform":
            score, why = 0.8, None
            if any(p.fullmatch(m.group(0)) for p in term.needs_context) and not (
                    vocab.platform_context.search(body)
                    or (heading and vocab.platform_context.search(heading))):
                score, why = 0.3, "no surveillance context"
            if negated:
                score, why = score * DAMP, "negated"
            severity = term.severity if why is None else None
        else:
            score = STRONG if term.strong else WEAK
            if context:
                score += CONTEXT
            if len(claim_ids - {term.id}) > 0:
                score += SECOND
            score = min(1.0, score)
            why = None
            if regulatory:
                score, why = score * DAMP, "regulatory text"
            elif negated:
                score, why = score * DAMP, "negated"
            elif score < FINDING:
                why = "no analytics context"
            severity = None if why else ("high" if score >= HIGH else "medium")
        # newlines became spaces in `body`, so offsets in it are offsets in the page text
        index = text.line_index(sentence.start + m.start())
        line_text = text.lines[index]
        out.append(Hit(term=term, page=text.page.number, line=text.page.start + index,
                       text=_excerpt(line_text, m.group(0)), matched=m.group(0),
                       score=round(score, 3), severity=severity, why=why))
    return out


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per term and line: the best-scoring one."""
    best: dict[tuple[str, int, int], Hit] = {}
    for hit in hits:
        key = (hit.term.id, hit.page, hit.line)
        if key not in best or hit.score > best[key].score:
            best[key] = hit
    return sorted(best.values(), key=lambda h: (h.page, h.line, h.term.kind, h.term.id))

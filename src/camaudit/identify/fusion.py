"""Fusion: weigh every rule hit on a host into one device, field by field.

For each device field, hits vote for candidate values. A candidate's score
combines its distinct pieces of evidence by noisy-OR, ``1 - prod(1 - w)``:
independent signals add up (several weak hints can make a class), one rule
seen on many ports counts once (its highest weight), and so does one string of
one reply read by several rules (:func:`evidence_key`). The best candidate wins if it
reaches :data:`THRESHOLD`; otherwise the field stays null: a wrong maker is
worse than none. Substantial runners-up are kept as conflicts, never dropped.

A brand shown on a device only *hints* at its maker through the OEM table
(:mod:`oem`), at a weight below the threshold: it can confirm a maker that
protocol telltales established, never establish one alone.

Field-specific steps keep the sum of evidence honest:

- **video class** (:data:`VIDEO`): "serves live video" hints (ONVIF
  NetworkVideoTransmitter, the video_encoder scope, a maker's web UI) fit a
  camera, an encoder and a recorder alike. They join the best-supported of
  those classes, and make a camera only when nothing says which one; so weak
  generic hints can never outvote a recorder's or encoder's own evidence. An
  RTSP answer says ``surveillance`` instead: recorders answer RTSP as cameras do.
- **surveillance, role unknown**: every rule that says a video class (or
  ``surveillance`` itself) also shows *some* video-surveillance equipment, at its
  ``surveillance`` weight if the rule gives one (``rules/README.md``). When no role
  reaches the threshold but that umbrella does (and outscores ``other``), the class is
  ``surveillance``: a Hikvision web server is surveillance gear even when nothing
  says camera or recorder.
- **OEM brand over maker name**: a box that shows an OEM brand (title "LTS")
  and its maker's name (realm "Hikvision", ISAPI ``<manufacturer>``) is that
  OEM's product: the maker's name leaking through its firmware is not the
  name on the box (``rules/README.md``, realm rule note).
- **maker confirms its own name**: a brand candidate that is the decided
  maker's own name, shown too weakly to decide alone (an ONVIF ``name/``
  scope), is confirmed by :data:`MAKER_CONFIRMS_BRAND`; the mirror image of
  :data:`OWN_NAME_HINT`. Evidence still has to show the name: nothing is
  filled in from the maker alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from camaudit.identify.match import Hit
from camaudit.identify.normalise import MAKERS, VIDEO, same_value
from camaudit.identify.oem import maker_hints
from camaudit.identify.rules import SAYABLE

#: A field is set only when its best value scores at least this.
THRESHOLD = 0.6
#: A losing value scoring at least this is reported as a conflict.
CONFLICT_MIN = 0.3
#: Maker hint when the brand shown is a maker's own name (e.g. "Hikvision" in a title).
OWN_NAME_HINT = 0.45

#: Brand confirmation when the name shown (weakly) is the decided maker's own name.
MAKER_CONFIRMS_BRAND = 0.45
VIDEO_CLASSES = ("camera", "recorder", "encoder")
#: Device classes that are video-surveillance equipment (the umbrella's members).
SURVEILLANCE_CLASSES = (*VIDEO_CLASSES, "vms", VIDEO, "surveillance")

#: Derived fields (match.DERIVED) -> the observation field they are read from.
_EVIDENCE_OF = {"~www_authenticate": "realm", "~favicon_md5": "favicon_md5",
                "~ftp_banner": "banner", "~telnet_banner": "banner", "~ssh_banner": "banner"}

#: Case-folded maker name -> the maker's own name (reversed: the first of MAKERS wins).
_OWN_NAMES = {m.casefold(): m for m in reversed(MAKERS)}

OEM_HINT_RULE = "oem-brand-hint"
MAKER_BRAND_RULE = "maker-confirms-brand"


@dataclass
class Support:
    """One rule's vote for a value: the weight and the hit it came from."""

    rule: str
    weight: float
    hit: Hit | None  # None for the OEM brand hint, which is not a rule hit
    note: str = ""


def evidence_key(support: Support) -> tuple[int, str, str]:
    """What a vote rests on: one string of one reply counts once, whichever rules read it.

    Our rules and recog's may both read a Server header or a realm (recog through
    the derived ``~www_authenticate``): they are one piece of evidence, not two. The
    items of a list field (WS-Discovery scopes, headers) are separate statements.
    """
    hit = support.hit
    if hit is None or support.rule in (OEM_HINT_RULE, MAKER_BRAND_RULE):
        return (0, support.rule, "")
    obs = hit.observation
    base = _EVIDENCE_OF.get(hit.field, hit.field)
    item = hit.value if isinstance(obs.fields.get(base), list) else ""
    return (id(obs), base, item)


@dataclass
class Candidate:
    key: str
    value: str
    support: dict[str, Support] = field(default_factory=dict)  # changed only by add()
    _score: float | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def score(self) -> float:
        """Noisy-OR over distinct pieces of evidence (:func:`evidence_key`); kept until the
        next add(), as ranking reads it many times."""
        if self._score is not None:
            return self._score
        best: dict[tuple[int, str, str], float] = {}
        for s in self.support.values():
            key = evidence_key(s)
            best[key] = max(best.get(key, 0.0), s.weight)
        miss = 1.0
        for weight in best.values():
            miss *= 1.0 - weight
        self._score = 1.0 - miss
        return self._score

    def add(self, support: Support, value: str) -> None:
        old = self.support.get(support.rule)
        if old is None or support.weight > old.weight:
            self.support[support.rule] = support
            self._score = None
        if len(value) > len(self.value):  # firmware: the fuller spelling wins
            self.value = value


@dataclass
class FieldResult:
    """The outcome for one device field: value (or None), score and every candidate."""

    key: str
    value: str | None
    score: float
    candidates: list[Candidate]

    @property
    def winner(self) -> Candidate | None:
        return self.candidates[0] if self.value is not None else None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


def _vote(table: dict[str, list[Candidate]], key: str, value: str, support: Support) -> None:
    cands = table.setdefault(key, [])
    for cand in cands:
        if same_value(key, cand.value, value):
            cand.add(support, value)
            return
    cand = Candidate(key, value)
    cand.add(support, value)
    cands.append(cand)


def _rank(cands: list[Candidate]) -> list[Candidate]:
    return sorted(cands, key=lambda c: (-c.score, -max(s.weight for s in c.support.values()),
                                        c.value.casefold()))


def _decide(key: str, cands: list[Candidate]) -> FieldResult:
    ranked = _rank(cands)
    if ranked and ranked[0].score >= THRESHOLD:
        return FieldResult(key, ranked[0].value, ranked[0].score, ranked)
    return FieldResult(key, None, ranked[0].score if ranked else 0.0, ranked)


def _video_class(cands: list[Candidate]) -> list[Candidate]:
    """Fold the generic 'serves video' votes into the best-supported video class."""
    video = next((c for c in cands if c.value == VIDEO), None)
    if video is None:
        return cands
    rest = [c for c in cands if c is not video]
    specific = [c for c in rest if c.value in VIDEO_CLASSES]
    if specific:
        target = _rank(specific)[0]
    else:
        target = Candidate("device_type", "camera")
        rest.append(target)
    for support in video.support.values():
        target.add(support, target.value)
    return rest


def _umbrella(cands: list[Candidate]) -> Candidate:
    """'Some surveillance equipment': every video-class vote, at its surveillance weight."""
    umbrella = Candidate("device_type", "surveillance")
    for cand in cands:
        if cand.value not in SURVEILLANCE_CLASSES:
            continue
        for support in cand.support.values():
            extra = support.hit.rule.surveillance if support.hit is not None else None
            weight = max(support.weight, extra or 0.0)
            umbrella.add(Support(support.rule, weight, support.hit, support.note), "surveillance")
    return umbrella


def _decide_class(cands: list[Candidate]) -> FieldResult:
    """A role (camera, recorder, ...) or other when one is decided; else surveillance or null."""
    umbrella = _umbrella(cands)
    roles = _video_class([c for c in cands if c.value != "surveillance"])
    result = _decide("device_type", roles)
    if (result.value is not None and result.value != "other") or not umbrella.support:
        return result
    other = result.score if result.value == "other" else 0.0
    if umbrella.score >= THRESHOLD and umbrella.score > other:
        return FieldResult("device_type", "surveillance", umbrella.score,
                           [umbrella, *result.candidates])
    return FieldResult(result.key, result.value, result.score,
                       [*result.candidates, umbrella])


def _oem_over_maker_name(brand: FieldResult) -> FieldResult:
    """An OEM brand set-able on its own outranks its maker's own name as the brand."""
    winner = brand.winner
    if winner is None or winner.value.casefold() not in _OWN_NAMES:
        return brand
    for cand in brand.candidates[1:]:
        if cand.score < THRESHOLD:
            continue
        makers = {m.casefold() for m, _w, _why in maker_hints(cand.value)}
        if winner.value.casefold() in makers:
            ranked = [cand] + [c for c in brand.candidates if c is not cand]
            return FieldResult("brand", cand.value, cand.score, ranked)
    return brand


def _maker_confirms_brand(table: dict[str, list[Candidate]], maker: FieldResult,
                          brand: FieldResult) -> FieldResult:
    """A weakly shown brand that is the decided maker's own name is confirmed by the maker."""
    if brand.value is not None or maker.winner is None:
        return brand
    for cand in table.get("brand", []):
        if cand.value.casefold() == maker.winner.value.casefold():
            hit = next((s.hit for s in maker.winner.support.values() if s.hit is not None), None)
            cand.add(Support(MAKER_BRAND_RULE, MAKER_CONFIRMS_BRAND, hit,
                             f"the name shown is the maker {maker.winner.value!r} that "
                             "protocol telltales established"), cand.value)
            return _decide("brand", table["brand"])
    return brand


def _brand_hints(table: dict[str, list[Candidate]], brand: FieldResult) -> None:
    """Add the maker hints of the chosen brand to the manufacturer candidates."""
    winner = brand.winner
    if winner is None:
        return
    hit = next((s.hit for s in winner.support.values() if s.hit is not None), None)
    own = _OWN_NAMES.get(winner.value.casefold())
    hints = ((own, OWN_NAME_HINT, f"brand shown is the maker's own name {own!r}"),) \
        if own else maker_hints(winner.value)
    for maker, weight, why in hints:
        _vote(table, "manufacturer", maker, Support(OEM_HINT_RULE, weight, hit, why))


def tally(hits: Iterable[Hit], table: dict[str, list[Candidate]] | None = None
          ) -> dict[str, list[Candidate]]:
    """The hits' votes, per device field: a new table, or `table` with them added."""
    table = {} if table is None else table
    for hit in hits:
        for key, value in hit.says.items():
            _vote(table, key, value, Support(hit.rule.id, hit.weight(key), hit))
    return table


def decide_plain(table: dict[str, list[Candidate]], key: str) -> FieldResult:
    """The outcome for a field that no other field's outcome changes (not the class,
    maker or brand): as :func:`decide` would give it, without using `table` up."""
    return _decide(key, table.get(key, []))


def fuse(hits: Iterable[Hit]) -> dict[str, FieldResult]:
    """Per device field, the decided value and all candidates, from rule hits."""
    return decide(tally(hits))


def decide(table: dict[str, list[Candidate]]) -> dict[str, FieldResult]:
    """Per device field, the decided value and all candidates, from a tally; the tally
    is used up (its candidates take the brand's maker hints and confirmations)."""
    results = {key: _decide(key, table.get(key, []))
               for key in SAYABLE if key not in ("manufacturer", "device_type")}
    results["device_type"] = _decide_class(table.get("device_type", []))
    results["brand"] = _oem_over_maker_name(results["brand"])
    _brand_hints(table, results["brand"])
    results["manufacturer"] = _decide("manufacturer", table.get("manufacturer", []))
    results["brand"] = _maker_confirms_brand(table, results["manufacturer"], results["brand"])
    return results


def confidence(results: dict[str, FieldResult]) -> float:
    """How sure we are of what the host is: its class, and its maker unless it is 'other'.

    The mean of the device_type and manufacturer scores (an unset field
    contributes its best sub-threshold score); for a decoy ('other') the
    maker does not matter, so the class score alone.
    """
    kind = results["device_type"]
    if kind.value == "other":
        return round(kind.score, 4)
    return round((kind.score + results["manufacturer"].score) / 2.0, 4)


def conflicts(results: dict[str, FieldResult]) -> list[str]:
    """Human lines for runners-up worth knowing and for sub-threshold OEM hints."""
    lines: list[str] = []
    for key in SAYABLE:
        res = results[key]
        for cand in res.candidates[1 if res.value is not None else 0:]:
            only_hint = set(cand.support) == {OEM_HINT_RULE}
            if only_hint:
                why = cand.support[OEM_HINT_RULE].note
                lines.append(f"{key}: {cand.value} not set ({why}; score {cand.score:.2f} "
                             f"< {THRESHOLD}; no protocol telltale of that maker)")
            elif cand.score >= CONFLICT_MIN and res.value is not None:
                rules = ", ".join(sorted(cand.support))
                lines.append(f"{key}: {res.value} ({res.score:.2f}) chosen over {cand.value} "
                             f"({cand.score:.2f}: {rules})")
            elif cand.score >= CONFLICT_MIN and res.value is None:
                rules = ", ".join(sorted(cand.support))
                lines.append(f"{key}: left null; {cand.value} scored {cand.score:.2f} < "
                             f"{THRESHOLD} ({rules})")
    return lines

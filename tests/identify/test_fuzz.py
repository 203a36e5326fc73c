"""identify() and explain() never raise, whatever the devices say (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from camaudit.identify import explain, identify
from camaudit.identify.rules import load_rules
from camaudit.model import DEVICE_TYPES, Observation

PROBES = sorted({p for r in load_rules().rules for p in r.probes})
FIELDS = sorted({f for r in load_rules().rules for f in r.fields})
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=300), st.lists(st.text(max_size=80), max_size=5),
    st.sampled_from(["DS-2CD2386G2-IU", "Login to 4X7C5A1ZAG21L3F", "IPCamera", "AXIS",
                     "V5.7.14", "00:00:00:00:00:00", "0000", "unknown", "{1}", "\x00\xff"]),
)
OBS = st.builds(
    Observation,
    address=st.just("192.0.2.99"),
    port=st.one_of(st.none(), st.integers(min_value=-1, max_value=70000)),
    probe=st.sampled_from([*PROBES, "nmap", "unknown"]),
    fields=st.dictionaries(st.sampled_from([*FIELDS, "other"]), VALUES, max_size=6),
    raw=st.binary(max_size=400),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(OBS, max_size=6))
def test_identify_never_raises(observations: list[Observation]) -> None:
    device = identify("192.0.2.99", observations)
    assert device.device_type is None or device.device_type in DEVICE_TYPES
    assert 0.0 <= device.confidence <= 1.0
    assert all(e.observation.startswith("sha256:") for e in device.evidence)
    assert explain(device, observations)

"""Identification: from what devices say on the wire to what each host is, with evidence.

    observations --match (rules/*.yaml)--> rule hits --fuse--> Device (+ evidence, conflicts)

- ``rules``     fingerprint rules as data, one YAML file per signal kind, each with its
                public source, date checked and examples (``rules/README.md``)
- ``recog``     rapid7/recog's XML fingerprints (vendored in ``camaudit/vendor/recog``),
                read and matched with recog's own semantics (Ruby regexes, params)
- ``recog_rules`` recog's fingerprints as rules ``recog:<db>:<n>`` (``recog_map.yaml``:
                inputs, weights, device words, corrections); ``recog_update``: refresh
- ``match``     runs the compiled rules over one observation (indexed by probe and field,
                prefiltered on each rule's required literal)
- ``fusion``    weighs hits per field (noisy-OR), nulls what is below the threshold,
                keeps conflicts; a brand only hints at its maker (``oem``)
- ``engine``    :func:`identify` - the pipeline's entry point, pure and fast
- ``explain``   :func:`explain` - why each field has its value, or stayed null
- ``connected`` cameras a recorder reports (``channel`` observations) -> devices of their
                own with ``parent`` and ``channel``
"""

from camaudit.identify.engine import identify
from camaudit.identify.explain import explain

__all__ = ["explain", "identify"]

"""Cameras behind a recorder: each ``channel`` observation becomes a device of its own.

A recorder read with the operator's login lists the cameras it records (probes/deep.py).
Each one is identified from what the recorder says about it, with the same rules as any
device (``rules/channel.yaml`` and every maker's model grammar), and gets ``parent`` (the
recorder's address) and ``channel``. Its ``address`` is the one the recorder reports, or
``<recorder>#<channel>`` when it reports none. camaudit never contacts such a camera: when
its address is in scope, the sweep finds it like any other host.
"""

from __future__ import annotations

from camaudit.identify.engine import identify
from camaudit.model import Device, Observation


def split(observations: list[Observation]) -> tuple[list[Observation],
                                                    dict[int, list[Observation]]]:
    """(the host's own observations, the ``channel`` observations by channel number)."""
    own: list[Observation] = []
    channels: dict[int, list[Observation]] = {}
    for obs in observations:
        number = obs.fields.get("channel") if obs.probe == "channel" else None
        if isinstance(number, int) and not isinstance(number, bool):
            channels.setdefault(number, []).append(obs)
        else:
            own.append(obs)
    return own, channels


def connected_device(parent: str, channel: int, observations: list[Observation]) -> Device:
    """The camera a recorder reports on `channel`, identified from the recorder's words."""
    reported = next((str(o.fields["address"]) for o in observations
                     if isinstance(o.fields.get("address"), str) and o.fields["address"]), None)
    device = identify(reported or f"{parent}#{channel}", observations)
    device.ports = []  # the recorder's ports answered, not the camera's
    device.parent = parent
    device.channel = channel
    return device


def analytics_of(observations: list[Observation]) -> list[dict[str, object]]:
    """The ``analytics`` observations of a host, with the evidence hash of each."""
    return [{**o.fields, "observation": f"sha256:{o.sha256}"} for o in observations
            if o.probe == "analytics"]

"""Imported once by the fork server that local workers are forked from.

Importing camaudit and reading its knowledge (rules, makers, policies) costs about
2 CPU seconds; done here, before the fork, every worker starts with it already done
(and shares those pages with its siblings until it writes to them). No thread, loop,
socket or database connection is opened here: they would not survive a fork.
"""

from __future__ import annotations

from camaudit.assess import load_policies
from camaudit.dist import local  # noqa: F401  (the worker code and all it imports)
from camaudit.identify import identify
from camaudit.model import Observation


def warm() -> None:
    """Load what every scan loads on its first host: knowledge, policies, rule index."""
    load_policies(["all"])
    identify("192.0.2.1", [Observation("192.0.2.1", 80, "http", {"server": "camaudit"},
                                       raw=b"HTTP/1.1 200 OK\r\n\r\n")])


warm()

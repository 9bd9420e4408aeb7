"""The device vendors the daemon runs: config section → package under integrations/.

Adding a vendor is one line here plus its package. Each package follows one shape:
`config.py` names its section model `SECTION`, `adapter.py` has `create(section, rt)`
returning an `integrations.base.Integration`, and an optional `simulator.py` has
`demo(ctx)` for `homeclaw demo`. The composition root (agent.daemon, agent.demo) and the
config loader read this table; nothing else needs to know a vendor's name.
"""

from __future__ import annotations

VENDORS: dict[str, str] = {
    "virtual": "integrations.virtual",
    "mqtt": "integrations.mqtt",
    "sonos": "integrations.sonos",
    "hue": "integrations.hue",
    "homeassistant": "integrations.homeassistant",
    "wled": "integrations.wled",
    "shelly": "integrations.shelly",
}

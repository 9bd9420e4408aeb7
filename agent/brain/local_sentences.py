"""Our own English phrasings for the local fast path, added to the community sentences.

Things people say that home-assistant-intents lacks (or dropped): the whole
house ("turn on every light"), steps ("brighter", "turn up the heat", "quieter
in the study"), covers by kind ("close the shades", "open the blinds halfway"),
the alarm, unnamed media ("pause the music", "skip this song") and a few
questions. `merge` adds them to the loaded data; homeclaw's own intents
(`Homeclaw…`) are planned in `local_intents`.
"""

from __future__ import annotations

from typing import Any

PERCENT = "{%s}[([ ]%%)| percent]"
DEGREES = "{temperature}[(°|[ ]degrees)]"
BIT = "[(a (bit|little|touch)|slightly|some)]"
HEAT = "(heat|heating|temperature|thermostat|temp)"
MUSIC = "(music|song|track|tune[s]|audio|sound|speaker[s]|<media>)"
COVERS = "{cover_classes:device_class}"
WHERE = "[<in> [<the>] {area}]"
OFF_WORDS = "(off|out)"


def _group(
    sentences: list[str],
    slots: dict[str, Any] | None = None,
    domains: list[str] | None = None,
    response: str | None = None,
) -> dict[str, Any]:
    group: dict[str, Any] = {"sentences": sentences}
    if slots:
        group["slots"] = slots
    if domains:
        group["requires_context"] = {"domain": domains}
    if response:
        group["response"] = response
    return group


def _steps(step: str, words: str) -> list[dict[str, Any]]:
    """Relative brightness in one direction, named, by area or in the speaker's room."""
    slots = {"domain": "light", "brightness_step": step}
    return [
        _group(
            [
                f"{words} [<the>] {{name}} [<light>] {BIT}",
                f"make [<the>] {{name}} [<light>] {BIT} {step_word(step)}",
                f"<turn> [<the>] {{name}} [<light>] {'up' if step == 'up' else 'down'} {BIT}",
            ],
            {"brightness_step": step},
            ["light"],
        ),
        _group(
            [
                f"{words} [<all>] [<the>] {{area}} <light> {BIT}",
                f"{words} [<all>] [<the>] <light> <in> [<the>] {{area}} {BIT}",
                f"make [it] [<the>] {{area}} {BIT} {step_word(step)}",
                f"make it {BIT} {step_word(step)} <in> [<the>] {{area}}",
            ],
            slots,
        ),
        {
            **_group(
                [
                    f"{words} [<all>] [<the>] <light> [<here>] {BIT}",
                    f"make it {BIT} {step_word(step)} [<here>]",
                    f"{step_word(step)} [<here>]",
                ],
                slots,
            ),
            "requires_context": {"area": {"slot": True}},
        },
    ]


def step_word(step: str) -> str:
    """ "brighter" or "dimmer" (with its synonyms), for "make it … in here"."""
    return "(brighter|lighter)" if step == "up" else "(dimmer|darker)"


def _heat(step: str) -> list[dict[str, Any]]:
    """Relative setpoints: "turn up the heat", "a bit warmer in the bedroom"."""
    up = step == "up"
    way = "up" if up else "down"
    feel = "(warmer|hotter)" if up else "(cooler|colder)"
    slots = {"domain": "climate", "temperature_step": step}
    return [
        _group(
            [
                f"<turn> {way} [<the>] {HEAT} {BIT} {WHERE}",
                f"<turn> [<the>] {HEAT} {way} {BIT} {WHERE}",
                f"<turn> [<the>] {{area}} {HEAT} {way} {BIT}",
                f"(raise|increase)  [<the>] {HEAT} {BIT} {WHERE}"
                if up
                else f"(lower|decrease|reduce) [<the>] {HEAT} {BIT} {WHERE}",
                f"make it {BIT} {feel} [<in> [<the>] {{area}}]",
                f"{BIT} {feel} [<in> [<the>] {{area}}]",
            ],
            slots,
        ),
        _group([f"<turn> [<the>] {{name}} {way} {BIT}"], {"temperature_step": step}, ["climate"]),
    ]


def _volume(step: str) -> list[dict[str, Any]]:
    """Relative volume: "turn the music down in the kitchen", "quieter in the study"."""
    way = "up" if step == "up" else "down"
    feel = "louder" if step == "up" else "(quieter|softer|lower)"
    return [
        _group(
            [
                f"<turn> [<the>] ({MUSIC}|volume) {way} {BIT} {WHERE}",
                f"<turn> {way} [<the>] ({MUSIC}|volume) {BIT} {WHERE}",
                f"[make it] {BIT} {feel} [<in> [<the>] {{area}}]",
                f"<turn> [<the>] {{area}} {MUSIC} {way} {BIT}",
                f"{'raise' if step == 'up' else 'lower'} [<the>] volume {BIT} {WHERE}",
            ],
            {"volume_step": way},
        ),
        _group(
            [f"<turn> [<the>] {{name}} {way} {BIT}", f"make [<the>] {{name}} {BIT} {feel}"],
            {"volume_step": way},
            ["media_player"],
        ),
    ]


def _on_off(on: bool) -> list[dict[str, Any]]:
    """The whole house, floors said after the lights, locks and covers by kind."""
    word = "on" if on else OFF_WORDS
    verb = "(activate|illuminate|light up)" if on else "(deactivate|kill|switch off)"
    lock = "lock" if on else "unlock"
    cover = "<open>" if on else "(<close>|draw)"
    return [
        _group(
            [
                f"<turn> {word} <all> <light> [<everywhere>]",
                f"<turn> {word} [<the>] [house] <light> <everywhere>",
                f"<turn> [<all>] [<the>] <light> {word} <everywhere>",
                f"<turn> <all> <light> {word}",
                f"{verb} [<all>] [<the>] [<light>] <everywhere>",
                f"{verb} <all> <light>",
                f"make sure <all> <light> (is|are) {word}",
                f"<all> <light> {word} [<everywhere>]",
            ],
            {"domain": "light"},
        ),
        _group(
            [
                f"<turn> [<all>] [<the>] <light> <in> [<the>] {{floor}} [floor] {word}",
                f"<turn> [<all>] [<the>] <light> {word} <in> [<the>] {{floor}} [floor]",
            ],
            {"domain": "light"},
        ),
        _group([f"{verb} [<all>] [<the>] <light> <in> [<the>] {{area}}"], {"domain": "light"}),
        _group(
            [
                f"{lock} [<the>] {{area}} (lock|door|deadbolt)[s]",
                f"{lock} [<all>] [<the>] (lock|door|deadbolt)[s] <in> [<the>] {{area}}",
            ],
            {"domain": "lock"},
        ),
        _group(
            [
                f"{cover} [<all>] [<the>] {COVERS} {WHERE}",
                f"{cover} [<all>] [<the>] {{area}} {COVERS}",
            ],
            {"domain": "cover"},
        ),
        _group([f"{cover} [<the>] {{area}} {{name}}"], None, ["cover"]),
        _group(
            [
                f"<turn> {word} [<the>] (heat|heating|heater|air conditioning|ac|a c) {WHERE}",
                f"<turn> [<the>] (heat|heating|heater|air conditioning|ac|a c) {word} {WHERE}",
            ],
            {"domain": "climate"},
        ),
    ]


EXTRA: dict[str, list[dict[str, Any]]] = {
    "HassClimateSetTemperature": [
        # "set the pool to 84": an area standing for its one heater or thermostat.
        _group(
            [
                f"<set> [<the>] {{area}} [<temp>] to {DEGREES}",
                f"(heat|warm) [up] [<the>] {{area}} to {DEGREES}",
                f"<set> [<the>] {HEAT} to {DEGREES} {WHERE}",
                f"<set> [<the>] {HEAT} <in> [<the>] {{area}} to {DEGREES}",
            ],
            {"domain": "climate"},
        ),
        _group(
            [
                f"<turn> [<the>] {{name}} (up|down) to {DEGREES}",
                f"put [<the>] {{name}} (on|to|at) {DEGREES}",
            ],
            None,
            ["climate"],
        ),
        *_heat("up"),
        *_heat("down"),
    ],
    "HassLightSet": [
        _group(
            [
                f"(dim|brighten|lower|raise) [<all>] [<the>] {{area}} <light> to {PERCENT}"
                % "brightness",
                f"(dim|brighten|lower|raise) [<all>] [<the>] <light> <in> [<the>] {{area}} to "
                f"{PERCENT}" % "brightness",
                f"(dim|brighten) [<all>] [<the>] {{floor}} [floor] <light> to {PERCENT}"
                % "brightness",
            ],
            {"domain": "light"},
        ),
        _group(
            [
                f"(dim|brighten) [<the>] {{name}} [<light>] to {PERCENT}" % "brightness",
                f"<turn> [<the>] {{name}} [<light>] (up|down) to {PERCENT}" % "brightness",
                "[<set>] [<the>] {name} [<light>] to {color_temperature_names:temperature}",
                "make [<the>] {name} [<light>] {color_temperature_names:temperature}",
            ],
            None,
            ["light"],
        ),
        _group(
            [
                "[<set>] [<all>] [<the>] {area} <light> [to] {color}",
                "[<set>] [<all>] [<the>] {area} <light> to {color_temperature_names:temperature}",
                "make [<all>] [<the>] {area} <light> {color_temperature_names:temperature}",
            ],
            {"domain": "light"},
        ),
        *_steps("up", "(brighten|raise)"),
        *_steps("down", "(dim|darken|lower)"),
    ],
    "HassTurnOn": _on_off(True),
    "HassTurnOff": _on_off(False),
    "HassSetPosition": [
        _group(
            [
                f"(<open>|<close>) [<the>] {{area}} {COVERS} halfway",
                f"(<open>|<close>) [<the>] {COVERS} halfway {WHERE}",
                f"(<open>|<close>) [<the>] {COVERS} <in> [<the>] {{area}} halfway",
            ],
            {"domain": "cover", "position": 50},
        ),
        _group(["(<open>|<close>) [<the>] {name} halfway"], {"position": 50}, ["cover"]),
    ],
    "HassMediaPause": [
        _group([f"(pause|stop) [<the>] {MUSIC} {WHERE}"]),
    ],
    "HassMediaUnpause": [
        _group([f"(resume|unpause|continue) [<the>] {MUSIC} {WHERE}"]),
    ],
    "HassMediaNext": [
        _group([f"(skip|next) [(this|the)] {MUSIC} {WHERE}", f"skip [to the next] {MUSIC}"]),
    ],
    "HassSetVolume": [
        _group(
            [
                f"volume [to] {PERCENT} {WHERE}" % "volume:volume_level",
                f"<turn> [<the>] (volume|{MUSIC}) (up|down) to {PERCENT} {WHERE}"
                % "volume:volume_level",
                f"<set> [<the>] volume to {PERCENT} {WHERE}" % "volume:volume_level",
            ]
        ),
    ],
    "HassSetVolumeRelative": [*_volume("up"), *_volume("down")],
    "HassGetState": [
        _group(
            [
                "what is [<the>] {name} set to",
                "what (temperature|temp) is [<the>] {name} set to",
            ],
            None,
            ["climate"],
            "one",
        ),
        _group(["how bright is [<the>] {name}"], None, ["light"], "one"),
        _group(
            [f"is (anything|something|music|there music) playing {WHERE}"],
            {"domain": "media_player", "state": "playing"},
            None,
            "any",
        ),
        _group(
            ["(are|is) [<the>] (doors|locks) {lock_states:state}"],
            {"domain": "lock"},
            None,
            "all",
        ),
        _group(
            [
                "<are_all> [<the>] (switch|switches) {on_off_states:state} <in> [<the>] {area}",
                "<are_all> [<the>] (switch|switches) [turned] {on_off_states:state} "
                "<in> [<the>] {area}",
                "<are_all> [<the>] (switch|switches) <in> [<the>] {area} {on_off_states:state}",
                "<are_all> [<the>] (switch|switches) [turned] {on_off_states:state} "
                "<in> [<the>] {floor} [floor]",
                "<are_all> [<the>] (switch|switches) <in> [<the>] {floor} [floor] "
                "{on_off_states:state}",
            ],
            {"domain": "switch"},
            None,
            "all",
        ),
        _group(
            [
                "tell me if there are any (switch|switches) {on_off_states:state} "
                "<in> [<the>] {area}",
                "tell me if there are any (switch|switches) {on_off_states:state} "
                "<in> [<the>] {floor} [floor]",
            ],
            {"domain": "switch"},
            None,
            "any",
        ),
    ],
    "HomeclawAlarmArm": [
        _group(
            [
                "arm [<the>] (alarm|security [system]) [in] [{arm_mode}] [mode]",
                "(set|turn on) [<the>] (alarm|security [system]) [in] [{arm_mode}] [mode]",
            ]
        ),
    ],
    "HomeclawAlarmDisarm": [
        _group(["(disarm|turn off|switch off) [<the>] (alarm|security [system])"]),
    ],
}
LISTS: dict[str, Any] = {
    "arm_mode": {
        "values": [
            {"in": "(away|leaving)", "out": "away"},
            {"in": "(home|stay|at home)", "out": "home"},
            {"in": "(night|sleep)", "out": "night"},
            {"in": "vacation", "out": "vacation"},
        ]
    }
}
OWN_INTENTS = frozenset({"HomeclawAlarmArm", "HomeclawAlarmDisarm"})


# Words that change nothing in a command or question ("is the door currently locked?").
SKIP_WORDS = ["currently", "right now", "at the moment", "just"]


def merge(data: dict[str, Any], language: str) -> dict[str, Any]:
    """The sentence data with our phrasings (English) added; other languages unchanged."""
    if language != "en":
        return data
    intents = dict(data["intents"])
    for intent, groups in EXTRA.items():
        known = intents.get(intent, {"data": []})
        intents[intent] = {**known, "data": [*known["data"], *groups]}
    skip = [*data.get("skip_words", []), *SKIP_WORDS]
    lists = {**data.get("lists", {}), **LISTS}
    return {**data, "intents": intents, "lists": lists, "skip_words": skip}

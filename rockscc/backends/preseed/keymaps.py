"""Kickstart `keyboard` values (RHEL console keymap names) as X keyboard layouts, which is what
d-i's keyboard-configuration/xkb-keymap takes."""

from __future__ import annotations

# the layouts of xkb-data 2.35 (Debian 12), rules/base.lst
XKB_LAYOUTS = frozenset(
    "us af ara al am at au az by be bd in ba br bg dz ma cm mm ca cd cn hr cz dk nl bt ee ir iq fo fi fr gh gn ge "
    "de gr hu is il it jp kg kh kz la latam lt lv mao me mk mt mn no pl pt ro ru rs si sk es se ch sy tj lk th tr "
    "tw ua gb uz vn kr ie pk mv za epo np ng et sn brai tm ml tz tg ke bw ph md id jv my".split()
)

# RHEL's console keymap names (system-config-keyboard's table) whose layout is not spelled the same
RHEL_KEYMAPS = {
    "uk": "gb",
    "de-latin1": "de",
    "de-latin1-nodeadkeys": "de",
    "fr-latin1": "fr",
    "fr-latin9": "fr",
    "fr-pc": "fr",
    "fr_CH": "ch",
    "fr_CH-latin1": "ch",
    "sg": "ch",
    "sg-latin1": "ch",
    "dvorak": "us",
    "us-acentos": "us",
    "jp106": "jp",
    "ko": "kr",
    "es": "es",
    "it2": "it",
    "pt-latin1": "pt",
    "br-abnt2": "br",
    "cf": "ca",
    "ca": "ca",
    "la-latin1": "latam",
    "dk-latin1": "dk",
    "no-latin1": "no",
    "se-latin1": "se",
    "fi-latin1": "fi",
    "nl": "nl",
    "be-latin1": "be",
    "cz-lat2": "cz",
    "cz-us-qwertz": "cz",
    "sk-qwerty": "sk",
    "sk-qwertz": "sk",
    "hu101": "hu",
    "pl2": "pl",
    "ru1": "ru",
    "ru2": "ru",
    "ru-ms": "ru",
    "ua-utf": "ua",
    "gr": "gr",
    "is-latin1": "is",
    "slovene": "si",
    "croat": "hr",
    "mk-utf": "mk",
    "sr-cy": "rs",
    "bg_bds-utf8": "bg",
    "trq": "tr",
    "tr": "tr",
    "et": "ee",
    "lt": "lt",
    "ar-azerty": "ara",
}


def xkb_layout(keymap: str) -> str | None:
    """The X layout for a kickstart keymap name, or None when rockscc knows no such keymap."""
    if keymap in XKB_LAYOUTS:
        return keymap
    return RHEL_KEYMAPS.get(keymap)

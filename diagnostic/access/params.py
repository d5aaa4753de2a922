"""The settings of a white-zone computation: themes, threshold, mode, target, public transport.

They travel with every result into the page, the exports and the annex, and are kept in the
workspace when a working group retains them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from diagnostic.access.points import POPULATION
from diagnostic.errors import InputError
from diagnostic.indicators import fmt_number
from diagnostic.io.gtfs import HOURS
from diagnostic.themes import theme_labels, top_theme, top_themes

CROW_FLY = "vol-oiseau"
NETWORK_MODES = ("route", "marche")
MODES = {CROW_FLY: "à vol d'oiseau", "route": "en voiture (réseau routier)", "marche": "à pied (réseau piéton)"}
WALK_M = 800  # a stop "within walking distance": about 10 minutes on foot
WALK_MINUTES = 10.0
MIN_DEPARTURES = 4  # a stop "with a real service": at least two return trips on a weekday
MOBILITY = "mobilite"


@dataclass(frozen=True)
class CoverageParams:
    """The choices behind a coverage result; they travel with it into every export."""

    themes: tuple[str, ...]  # top-level themes or sub-themes; empty means any theme
    max_km: float = 10.0  # white zone beyond this road distance...
    max_minutes: float | None = None  # ...or beyond this travel time when given
    detour: float = 1.3  # road distance / straight-line distance
    speed_kmh: float = 40.0
    count_remote: bool = False  # remote services and diffusion zones count as coverage
    target: str = POPULATION  # "population" or an indicator id whose numerator is counted
    walk_m: float = WALK_M  # mobility: a served stop this close (straight line) covers the commune
    min_departures: int = MIN_DEPARTURES  # mobility: departures a weekday for a stop to count
    mode: str = CROW_FLY  # "vol-oiseau" (straight line × detour), or a network: "route", "marche"
    first_hour: int = 0  # mobility: departures counted from this hour of the weekday...
    last_hour: int = HOURS  # ...to this one (excluded); 30 = the whole service day
    school: bool = True  # mobility: school-only services count as a real service
    walk_minutes: float = WALK_MINUTES  # mobility on the network: walk to a served stop on the foot network

    @property
    def on_network(self) -> bool:
        return self.mode in NETWORK_MODES

    @property
    def is_mobility(self) -> bool:
        """Mobility themes use the combined criterion (no served stop and no mobility service)."""
        return any(top_theme(t) == MOBILITY for t in self.themes)

    def threshold_label(self) -> str:
        """The threshold as written on the command line and in the annex: « 15km », « 20min » or
        « 20min:route »."""
        label = f"{self.max_minutes:g}min" if self.max_minutes else f"{self.max_km:g}km"
        return f"{label}:{self.mode}" if self.on_network else label

    def limit_text(self) -> str:
        """The threshold in French: « 10 km » or « 20 min »."""
        value = self.max_minutes or self.max_km
        return f"{fmt_number(value, 0 if float(value).is_integer() else 1)} {'min' if self.max_minutes else 'km'}"

    def label(self) -> str:
        """One line for lists and titles: « Mobilité — au-delà de 10 km »."""
        labels = theme_labels()
        themes = ", ".join(labels.get(t, t) for t in self.themes) or "Toutes thématiques"
        extra = " — offre à distance comptée" if self.count_remote else ""
        mode = f" {MODES[self.mode]}" if self.on_network else ""
        return f"{themes} — au-delà de {self.limit_text()}{mode}{extra}"

    def reach_m(self) -> float:
        """The threshold as a straight-line distance in metres (detour and speed applied)."""
        road_km = self.max_minutes / 60 * self.speed_kmh if self.max_minutes else self.max_km
        return road_km / self.detour * 1000

    def describe(self) -> str:
        """The method and parameters in plain French."""
        themes = ", ".join(self.themes) if self.themes else "toutes thématiques"
        if self.on_network:
            remote = ("l'offre à distance et les zones de diffusion comptent comme une couverture"
                      if self.count_remote else "seule l'offre sur place ou itinérante compte")
            return (f"Thématiques : {themes}. Temps de trajet {MODES[self.mode]} depuis les lieux de vie jusqu'au "
                    f"service le plus proche ; une part de la population est en zone blanche quand ce temps "
                    f"dépasse {fmt_number(self.max_minutes, 0)} minutes ; une commune est en zone blanche quand "
                    f"c'est le cas de la moitié au moins de ses habitants ; {remote}.")
        limit = (f"{self.max_minutes:g} minutes de trajet à {self.speed_kmh:g} km/h" if self.max_minutes
                 else f"{self.max_km:g} km par la route")
        remote = ("l'offre à distance et les zones de diffusion comptent comme une couverture"
                  if self.count_remote else "seule l'offre sur place ou itinérante compte")
        text = (f"Thématiques : {themes}. Une commune est en zone blanche quand le service le plus "
                f"proche est à plus de {limit}. Distance à vol d'oiseau depuis le point central "
                f"habité de la commune, en projection métrique, multipliée par un facteur de détour "
                f"de {fmt_number(self.detour, 2)} ; temps estimé à {self.speed_kmh:g} km/h ; {remote} ; les "
                f"services itinérants comptent à leurs arrêts.")
        if self.is_mobility:
            text += (f" Mobilité : une commune n'est en zone blanche que si, en plus, aucun arrêt de "
                     f"transport public desservi (au moins {self.min_departures} départs un jour de "
                     f"semaine) n'est dans la commune ni à moins de {self.walk_m:g} m à pied (vol "
                     f"d'oiseau) de son point central habité.")
        return text

    def to_dict(self) -> dict:
        return {**asdict(self), "themes": list(self.themes)}

    @classmethod
    def from_dict(cls, data: dict) -> "CoverageParams":
        """Settings kept in a workspace file, checked like those typed by a user."""
        known = {f.name for f in fields(cls)}
        params = cls(**{k: (tuple(v) if k == "themes" else v) for k, v in data.items() if k in known})
        check_themes(params.themes)
        check_mode(params.mode, bool(params.max_minutes) or params.mode == CROW_FLY)
        return params

    @classmethod
    def parse(cls, spec: str, **defaults) -> "CoverageParams":
        """Settings written « THEME:SEUIL[:MODE] » (SEUIL like 15km or 20min, MODE route or marche for
        minutes on the network), e.g. « mobilite:20min » or « numerique:30min:route »."""
        theme, _, limit = spec.partition(":")
        limit, _, mode = limit.partition(":")
        mode = mode.strip() or CROW_FLY
        themes = tuple(t.strip() for t in theme.split(",") if t.strip())
        check_themes(themes)
        match = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*(km|min)\s*", limit.lower())
        if not themes or match is None or float(match[1].replace(",", ".")) <= 0:
            raise InputError(f"réglage de zones blanches illisible « {spec} ».", field="--zones-blanches",
                             fix="Écrivez THÉMATIQUE:SEUIL, le seuil en km ou en minutes, par exemple "
                                 "« mobilite:15km » ou « numerique:20min ».")
        value = float(match[1].replace(",", "."))
        check_mode(mode, match[2] == "min" or mode == CROW_FLY)
        if match[2] == "km":
            return cls(themes, max_km=value, **defaults)
        return cls(themes, max_minutes=value, mode=mode, **defaults)


def check_mode(mode: str, in_minutes: bool) -> None:
    """Refuse an unknown mode, or a network mode with a threshold in km."""
    if mode not in MODES:
        raise InputError(f"mode de calcul inconnu « {mode} ».", field="--mode",
                         fix=f"Modes possibles : {', '.join(MODES)}.")
    if not in_minutes:
        raise InputError(f"en mode « {mode} », le seuil est un temps de trajet.", field="--max-minutes",
                         fix="Donnez un seuil en minutes, par exemple « --max-minutes 20 ».")


def matches_themes(themes: list[str], wanted: tuple[str, ...]) -> bool:
    """A service matches a top-level theme through any of its sub-themes, a sub-theme exactly."""
    if not wanted:
        return True
    return any(t in wanted or top_theme(t) in wanted for t in themes)


def check_themes(themes: tuple[str, ...]) -> None:
    """Refuse a theme that is not in the data·inclusion vocabulary, with the list of top levels."""
    unknown = [t for t in themes if t not in theme_labels()]
    if unknown:
        raise InputError(f"thématique inconnue « {', '.join(unknown)} ».", field="--theme",
                         fix=f"Thématiques possibles : {', '.join(top_themes())} (ou une sous-thématique "
                             "comme « mobilite--preparer-un-permis »).")



"""The user's settings: a TOML file in the config dir over documented defaults.

Every setting is a top-level key of config.toml, for example:

    desired_retention = 0.9
    learning_steps = ["1m", "10m"]
    new_per_day = 20
    rollover_hour = 4
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from drill.errors import ConfigError
from drill.home.paths import get_paths

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Bounds that keep every due date within what a datetime can hold (far longer overflowed).
_LONGEST_STEP_DAYS = 36500
_LONGEST_LEARN_AHEAD = 1440
_LONGEST_CODE_SECONDS = 600  # a solution still running after ten minutes is stuck


@dataclass(frozen=True)
class Config:
    desired_retention: float = 0.9
    """Probability of recall FSRS aims for when it schedules a review (0.7 to 0.99)."""
    learning_steps: tuple[str, ...] = ("1m", "10m")
    """Delays between the first reviews of a new card (s, m, h or d)."""
    relearning_steps: tuple[str, ...] = ("10m",)
    """Delays between reviews of a card after a lapse."""
    maximum_interval: int = 36500
    """Longest interval in days."""
    fuzz: bool = True
    """Spread review intervals a little so cards learned together do not stay together."""
    new_per_day: int = 20
    """New cards introduced per day."""
    reviews_per_day: int = 200
    """Review cards shown per day."""
    rollover_hour: int = 4
    """Local hour at which a new study day starts (as in Anki)."""
    learn_ahead_minutes: int = 20
    """When nothing else is due, show learning cards due within this many minutes (at most 1440)."""
    leech_threshold: int = 8
    """Lapses after which a card is tagged a leech."""
    leech_action: str = "suspend"
    """What happens to a leech: "suspend" (tag and suspend) or "tag" (tag only)."""
    max_deck_bytes: int = 5 * 1024 * 1024
    """Deck files larger than this are refused."""
    guided_steps: bool = False
    """Study compute cards step by step (forward values, then gradients) where they allow it."""
    code_time_limit: int = 10
    """Seconds a code card's solution may run before it is stopped (1 to 600)."""
    interview_date: str = ""
    """The date you prepare for (YYYY-MM-DD), set by `drill plan --set`; empty: none."""
    interview_decks: tuple[str, ...] = ()
    """The decks the interview date is for (set with it); empty: every deck."""
    interview_tags: tuple[str, ...] = ()
    """The tags the interview date is for (set with it); empty: any tag."""
    fsrs_parameters: tuple[float, ...] = ()
    """The 21 FSRS-6 parameters `drill optimize` fitted to your reviews; empty: the defaults."""
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Where each value came from: "default" or the config file's path."""

    @property
    def learning_deltas(self) -> tuple[timedelta, ...]:
        return tuple(parse_duration(s) for s in self.learning_steps)

    @property
    def relearning_deltas(self) -> tuple[timedelta, ...]:
        return tuple(parse_duration(s) for s in self.relearning_steps)

    @property
    def interview_day(self) -> date | None:
        """The interview date as a date, or None when none is set."""
        return date.fromisoformat(self.interview_date) if self.interview_date else None


def setting_names() -> list[str]:
    return [f.name for f in fields(Config) if f.name != "sources"]


def describe(name: str) -> str:
    """The documentation line of a setting, read from the attribute docstrings above."""
    return _attribute_docs().get(name, "")


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{text!r} is not a duration like 30s, 10m, 1h or 1d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > _LONGEST_STEP_DAYS * 86400:
        raise ConfigError(f"{text!r} is longer than {_LONGEST_STEP_DAYS} days")
    return timedelta(seconds=seconds)


def load_config(path: Path | None = None) -> Config:
    """The effective configuration: defaults, overridden by the config file if it exists."""
    path = path or get_paths().config_file
    values: dict[str, Any] = {}
    sources = dict.fromkeys(setting_names(), "default")
    if path.exists():
        import tomllib  # only when there is a file to read: it is a third of this module's cost

        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        except OSError as error:  # a folder in its place, no permission to read
            raise ConfigError(f"{path}: cannot read it ({error.strerror})") from None
        for key, value in raw.items():
            values[key] = _validate(path, key, value)
            sources[key] = str(path)
    config = Config(**values, sources=sources)
    _check_ranges(path, config)
    return config


def _validate(path: Path, key: str, value: Any) -> Any:
    defaults = {f.name: f.default for f in fields(Config)}
    if key not in defaults or key == "sources":
        import difflib  # (only to suggest a name for a mistyped one)

        close = difflib.get_close_matches(key, setting_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{path}: unknown setting {key!r}{hint}")
    default = defaults[key]
    if key in _LISTS:
        return _validate_list(path, key, value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f'{path}: {key} must be a list of durations like ["1m", "10m"]')
        for item in value:
            try:
                parse_duration(item)
            except ConfigError as error:  # name the file and the setting, as every other check
                raise ConfigError(f"{path}: {key}: {error}") from None
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {key} must be true or false")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{path}: {key} must be a number")
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: {key} must be a whole number")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string")
    return value


# Lists that hold something else than durations.
_LISTS = ("interview_decks", "interview_tags", "fsrs_parameters")
FSRS_PARAMETER_COUNT = 21


def _validate_list(path: Path, key: str, value: Any) -> tuple:
    if key == "fsrs_parameters":
        numbers = isinstance(value, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
        if not numbers or len(value) not in (0, FSRS_PARAMETER_COUNT):
            raise ConfigError(
                f"{path}: fsrs_parameters must be a list of {FSRS_PARAMETER_COUNT} numbers "
                "(`drill optimize` writes it), or be left out"
            )
        return tuple(float(v) for v in value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{path}: {key} must be a list of strings like ["backprop"]')
    return tuple(value)


def _check_ranges(path: Path, config: Config) -> None:
    problems = []
    if config.interview_date and not _is_date(config.interview_date):
        problems.append(
            f"interview_date must be a date like 2027-01-15, not {config.interview_date!r}"
        )
    if not 0.7 <= config.desired_retention <= 0.99:
        problems.append("desired_retention must be between 0.7 and 0.99")
    if not 0 <= config.rollover_hour <= 23:
        problems.append("rollover_hour must be between 0 and 23")
    for name in ("new_per_day", "reviews_per_day", "learn_ahead_minutes"):
        if getattr(config, name) < 0:
            problems.append(f"{name} must not be negative")
    if config.learn_ahead_minutes > _LONGEST_LEARN_AHEAD:
        problems.append(f"learn_ahead_minutes must be at most {_LONGEST_LEARN_AHEAD} (a day)")
    if config.maximum_interval < 1:
        problems.append("maximum_interval must be at least 1 day")
    if config.leech_threshold < 1:
        problems.append("leech_threshold must be at least 1")
    if config.leech_action not in ("suspend", "tag"):
        problems.append('leech_action must be "suspend" or "tag"')
    if config.max_deck_bytes < 1024:
        problems.append("max_deck_bytes must be at least 1024")
    if not 1 <= config.code_time_limit <= _LONGEST_CODE_SECONDS:
        problems.append(f"code_time_limit must be between 1 and {_LONGEST_CODE_SECONDS} seconds")
    if problems:
        raise ConfigError(f"{path}: {problems[0]}")


def _is_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- writing settings ------------------------------------------------------------------


def set_settings(values: dict[str, Any], path: Path | None = None) -> None:
    """Write settings into config.toml, each on its own `name = value` line; None removes one.

    Everything else in the file stays as the user wrote it: comments, blank lines, the
    other settings, and a comment after a replaced value. The new file is checked as
    load_config would check it before it replaces the old one.
    """
    import tomllib

    from drill.home.fileio import atomic_write

    path = path or get_paths().config_file
    for name in values:
        if name not in setting_names():
            raise ConfigError(f"unknown setting {name!r}")
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it ({error})") from None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for name, value in values.items():
        lines = _set_line(lines, name, None if value is None else f"{name} = {_toml(value)}")
    new_text = "".join(lines)
    if new_text == text:
        return  # nothing to change (removing a setting that is not there)
    try:
        raw = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None
    # Checked as load_config checks it, before the file is replaced.
    _check_ranges(path, Config(**{key: _validate(path, key, value) for key, value in raw.items()}))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, new_text, force=True)


def _set_line(lines: list[str], name: str, assignment: str | None) -> list[str]:
    """`lines` with the setting `name` replaced by `assignment` (or removed, or appended)."""
    import tomllib

    key = re.compile(rf"""^\s*(?:{re.escape(name)}|"{re.escape(name)}"|'{re.escape(name)}')\s*=""")
    for start, line in enumerate(lines):
        if not key.match(line):
            continue
        # The value may span lines (an array): take lines until they parse on their own.
        for end in range(start, len(lines)):
            chunk = "".join(lines[start : end + 1])
            try:
                tomllib.loads(chunk)
            except tomllib.TOMLDecodeError:
                continue
            if assignment is None:
                return lines[:start] + lines[end + 1 :]
            return [*lines[:start], assignment + _trailing_comment(chunk) + "\n", *lines[end + 1 :]]
        break  # a value that never parses: leave the file to load_config's error
    if assignment is None:
        return lines
    return [*lines, assignment + "\n"]


def _trailing_comment(chunk: str) -> str:
    """The comment after a value on its last line ("  # why"), kept when the value changes."""
    import tomllib

    last = chunk.rstrip("\n")
    for position in (i for i, char in enumerate(last) if char == "#"):
        try:
            tomllib.loads(last[:position])
        except tomllib.TOMLDecodeError:
            continue  # a # inside a string: keep looking
        before = last[:position]
        return before[len(before.rstrip()) :] + last[position:]
    return ""


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


@functools.cache
def _attribute_docs() -> dict[str, str]:
    """Read the string under each field of Config, so the docs live in one place."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(Config))
    docs: dict[str, str] = {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
        ):
            docs[node.target.id] = str(after.value.value)
    return docs

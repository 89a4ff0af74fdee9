"""Prompt templates from `prompts/`, checked when loaded: the inputs a file declares must be
exactly the `$placeholders` its templates use, and rendering needs every one of them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from assistant.settings import PROJECT_ROOT

PROMPTS_DIR = PROJECT_ROOT / "prompts"  # RO_ASSISTANT_PROMPTS_DIR overrides it


class PromptError(ValueError):
    """A template file that does not match what it declares."""


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    version: str
    inputs: frozenset[str]
    system: Template
    user: Template

    def render(self, **values: str) -> tuple[str, str]:
        given = set(values)
        if given != self.inputs:
            missing, extra = sorted(self.inputs - given), sorted(given - self.inputs)
            raise PromptError(f"{self.name} v{self.version}: missing {missing}, unexpected {extra}")
        return self.system.substitute(values).strip(), self.user.substitute(values).strip()


def parse(path: Path) -> Prompt:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        name, version = str(raw["name"]), str(raw["version"])
        inputs = frozenset(str(i) for i in raw["inputs"])
        system, user = Template(str(raw["system"])), Template(str(raw["user"]))
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise PromptError(f"{path.name}: {exc}") from None
    if path.name != f"{name}.v{version}.toml":
        raise PromptError(f"{path.name} declares {name} v{version}")
    used = set(system.get_identifiers()) | set(user.get_identifiers())
    if not (system.is_valid() and user.is_valid()):
        raise PromptError(f"{path.name}: a stray $ in a template")
    if used != inputs:
        raise PromptError(f"{path.name}: declares {sorted(inputs)} but uses {sorted(used)}")
    return Prompt(name, version, inputs, system, user)


@cache
def load(name: str, version: str, directory: Path = PROMPTS_DIR) -> Prompt:
    return parse(directory / f"{name}.v{version}.toml")

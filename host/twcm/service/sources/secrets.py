"""Secrets in a source's config: each is given as a value (`token`) or, better, as the
name of the environment variable that holds it (`token_env`), not both."""
from __future__ import annotations

import os
from typing import Annotated, ClassVar, NamedTuple

from pydantic import AfterValidator, model_validator

from twcm.service.sources import Options


def check_env(name: str | None) -> str | None:
    """A validator's check that the variable a `*_env` key names is set (and not empty)."""
    if name is not None and not os.environ.get(name):
        raise ValueError(f"the environment variable {name} is not set: set it in the "
                         "service's environment (e.g. an EnvironmentFile of its systemd "
                         "unit), or give the value in the config instead")
    return name


def env_value(name: str | None) -> str | None:
    """The value of the environment variable a `*_env` key names; None without a name."""
    return os.environ.get(name) if name else None


EnvName = Annotated[str | None, AfterValidator(check_env)]
"""A `*_env` key: the name of an environment variable that is set."""


class Secret(NamedTuple):
    key: str  # the key of the value; key + "_env" names its environment variable
    what: str  # what the value is, in a user's words, e.g. "the smart-me password"
    required: bool = True  # False: the source also works without it


class SecretOptions(Options):
    """Options with `secrets`: each its key and the key's `_env` twin, at most one given
    (exactly one if required)."""

    secrets: ClassVar[tuple[Secret, ...]] = ()

    @model_validator(mode="after")
    def _one_of_each(self) -> SecretOptions:
        for key, what, required in self.secrets:
            given = (getattr(self, key) is not None) + (getattr(self, f"{key}_env") is not None)
            if given == 2:
                raise ValueError(f"give either {key} or {key}_env, not both: {key}_env names "
                                 f"an environment variable that holds {what}")
            if required and not given:
                raise ValueError(f"give either {key} or (better) {key}_env, the name of an "
                                 f"environment variable that holds {what}")
        return self

    def secret(self, key: str) -> str | None:
        """The value of `key` given in the config or, by name, in the environment."""
        env = getattr(self, f"{key}_env")
        return env_value(env) if env else getattr(self, key)

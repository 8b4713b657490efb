"""What an import could not carry over, what it changed on the way, and which secrets
the user must put into the environment."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    not_mapped: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    changed: list[str] = field(default_factory=list)  # clamped, omitted, meant differently
    secrets: dict[str, str] = field(default_factory=dict)  # variable -> where its value is

    def skip(self, key: str, why: str) -> None:
        self.not_mapped.append((key, why))

    def change(self, text: str) -> None:
        self.changed.append(text)

    def secret(self, variable: str, where: str) -> str:
        """Name `variable` as holding the value at `where`; returns the variable."""
        self.secrets.setdefault(variable, where)
        return variable

    def lines(self) -> list[str]:
        """The report as text lines (for stderr and for the file's top comment)."""
        out: list[str] = []
        if self.not_mapped:
            out.append("Not carried over:")
            out += [f"  - {k}: {why}" for k, why in self.not_mapped]
        if self.changed:
            out.append("Changed on the way, or meant differently in twcm:")
            out += [f"  - {text}" for text in self.changed]
        if self.secrets:
            out.append("Secrets stay out of this file: export these before `twcm run`:")
            out += [f"  export {var}='...'   # {where}" for var, where in self.secrets.items()]
        return out

"""Plain-dict round trips of experiment configurations (for metrics.json)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any, Self

from nwnrc.errors import ConfigError


class ConfigDict:
    """Mixin for frozen dataclass configs: ``to_dict`` and ``from_dict``.

    Tuple-valued fields (those whose default is a tuple) are written as JSON lists and
    read back as tuples; unknown keys are refused.
    """

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for metrics.json)."""
        d = asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Inverse of :meth:`to_dict`; unknown keys are a :class:`ConfigError`."""
        known = fields(cls)  # type: ignore[arg-type]
        unknown = set(data) - {f.name for f in known}
        if unknown:
            raise ConfigError(
                f"unknown {cls.__name__} keys: {sorted(unknown)}; valid keys are "
                f"{sorted(f.name for f in known)}"
            )
        tuples = {f.name for f in known if isinstance(f.default, tuple)}
        d = {k: tuple(v) if k in tuples else v for k, v in data.items()}
        return cls(**d)

    def subset(self, keys: tuple[str, ...]) -> dict[str, Any]:
        """The named fields, in plain-dict form."""
        d = self.to_dict()
        return {k: d[k] for k in keys}

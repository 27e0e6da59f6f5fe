"""The setup report: checks grouped in sections, each failure with its next steps.

Rendering is plain text (it reads the same in a terminal, a notebook cell and a job log).
Secret values never reach a report: checks carry names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odibi_dbx.redact import redact

OK, FAIL, WARN, SKIP, INFO = "ok", "fail", "warn", "skip", "info"
_MARK = {OK: "✓", FAIL: "✗", WARN: "!", SKIP: "-", INFO: "·"}


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    next_steps: list[str] = field(default_factory=list)  # commands or sentences, in order

    @property
    def failed(self) -> bool:
        return self.status == FAIL


@dataclass
class Section:
    title: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # free text (e.g. grant commands)

    def add(self, name: str, status: str, detail: str = "", *next_steps: str) -> Check:
        check = Check(name, status, detail, [s for s in next_steps if s])
        self.checks.append(check)
        return check

    def render(self) -> str:
        lines = [f"== {self.title} =="]
        for c in self.checks:
            head = f"  {_MARK.get(c.status, '?')} {c.name}"
            lines.append(f"{head}: {c.detail}" if c.detail else head)
            pad = "        "
            lines += [pad + step.replace("\n", "\n" + pad) for step in c.next_steps]
        for note in self.notes:
            lines += ["", "  " + note.replace("\n", "\n  ")]
        return redact("\n".join(lines))

    def __str__(self) -> str:
        return self.render()


@dataclass
class Report:
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s

    @property
    def checks(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks]

    @property
    def ok(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "sections": [
                {"title": s.title, "notes": s.notes, "checks": [c.__dict__ for c in s.checks]}
                for s in self.sections
            ],
        }

    def render(self) -> str:
        lines = [s.render() + "\n" for s in self.sections]
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        failed = [c for c in self.checks if c.failed]
        passed = sum(c.status == OK for c in self.checks)
        warned = sum(c.status == WARN for c in self.checks)
        return (
            f"setup: {'OK' if not failed else 'FAILED'} — {passed} passed, {len(failed)} failed, "
            f"{warned} warning{'s' * (warned != 1)}"
        )

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:  # Jupyter / Databricks: keep it monospace
        import html

        return f"<pre>{html.escape(self.render())}</pre>"

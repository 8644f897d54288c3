"""The face templates service (T8, docs/tickets-faces.md): a venue's own ticket faces, stored
in ``tickets_faces`` with their logo, and the built-in ones; a face rendered and previewed with
the venue's time zone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from suite.errors import Conflict
from suite.i18n import _
from suite.identity.actor import Actor
from suite.inputs import text as clean_text

from plugins.tickets.core import TicketsCore
from plugins.tickets.face_layout import (
    BUILTIN_PREFIX, Face, as_face, builtin_face, builtin_paper, check_image, check_layout, check_paper,
)
from plugins.tickets.face_render import FaceJob, preview_png, render_face
from plugins.tickets.models import FaceTemplate
from plugins.tickets.models.counter import PAPER_WIDTHS


def face_of_row(row: FaceTemplate) -> Face:
    """The stored face ``row``, checked."""
    image = base64.b64decode(row.image) if row.image else b""
    return Face(code=row.code, name=row.name, paper=row.paper,
                elements=check_layout(json.loads(row.layout), has_image=bool(image)), image=image)


class FacesService(TicketsCore):
    """Face templates: add, edit, list, get (``tickets.setup``; reading: ``tickets.view``),
    render and preview."""

    def add_face(self, actor: Actor, *, code: str, name: str, layout: Any, paper: int = 80,
                 image: bytes | str | None = None) -> dict[str, Any]:
        self._begin(actor, "tickets.setup", admin=True)
        code = clean_text(code, _("The face code"), 32)
        if builtin_paper(code) is not None or code.startswith(BUILTIN_PREFIX):
            raise Conflict(_("The face code {code} is reserved for the built-in faces.").format(code=code))
        name = clean_text(name, _("The face name"), 100)
        paper = check_paper(paper)
        png = check_image(image)
        elements = check_layout(layout, has_image=bool(png))
        with self._uow() as uow:
            session = uow.session
            if session.scalar(select(FaceTemplate.id).where(FaceTemplate.code == code)) is not None:
                raise Conflict(_("The face {code} exists already.").format(code=code))
            row = FaceTemplate(code=code, name=name, paper=paper, layout=json.dumps(elements, ensure_ascii=False),
                               image=base64.b64encode(png).decode("ascii") if png else "",
                               venue_id=actor.venue_id, terminal_id=actor.terminal_id)
            session.add(row)
            self._audit(session, actor, "tickets.face.create", code,
                        {"name": name, "paper": paper, "elements": len(elements), "image_bytes": len(png)})
            uow.commit()
            return face_of_row(row).as_dict()

    def edit_face(self, actor: Actor, code: str, *, name: str | None = None, layout: Any = None,
                  paper: int | None = None, image: bytes | str | None = None) -> dict[str, Any]:
        """Change what is given; ``image=b""`` (or ``""``) removes the logo."""
        self._begin(actor, "tickets.setup", admin=True)
        if builtin_paper(code) is not None:
            raise Conflict(_("The built-in face {code} cannot be changed: add a face of your own.").format(code=code))
        with self._uow() as uow:
            session = uow.session
            row = self._by_code(session, FaceTemplate, code, _("ticket face"), lock=True)
            changes: dict[str, Any] = {}
            if name is not None:
                row.name = changes["name"] = clean_text(name, _("The face name"), 100)
            if paper is not None:
                row.paper = changes["paper"] = check_paper(paper)
            if image is not None:
                png = check_image(image)
                row.image = base64.b64encode(png).decode("ascii") if png else ""
                changes["image_bytes"] = len(png)
            current = json.loads(row.layout) if layout is None else layout
            elements = check_layout(current, has_image=bool(row.image))
            if layout is not None:
                changes["elements"] = len(elements)
            row.layout = json.dumps(elements, ensure_ascii=False)
            self._audit(session, actor, "tickets.face.edit", code, changes)
            uow.commit()
            return face_of_row(row).as_dict()

    def list_faces(self, actor: Actor) -> list[dict[str, Any]]:
        """The built-in faces, then the venue's own by code (without the image bytes)."""
        self._begin(actor, "tickets.view", admin=True)
        with self._uow.read() as uow:
            rows = uow.session.scalars(select(FaceTemplate).order_by(FaceTemplate.code)).all()
            faces = [builtin_face(p) for p in PAPER_WIDTHS] + [face_of_row(r) for r in rows]
        chosen = self.settings.face
        return [{**f.as_dict(with_image=False), "elements": len(f.elements),
                 "in_use": f.code == chosen or (not chosen and f.builtin)} for f in faces]

    def get_face(self, actor: Actor, code: str) -> dict[str, Any]:
        self._begin(actor, "tickets.view", admin=True)
        return self.face(code).as_dict()

    def face(self, code: str) -> Face:
        """The face ``code`` (built-in or stored), without a permission check: printing uses it."""
        paper = builtin_paper(code)
        if paper is not None:
            return builtin_face(paper)
        with self._uow.read() as uow:
            return face_of_row(self._by_code(uow.session, FaceTemplate, code, _("ticket face")))

    def render(self, face: Face | Mapping[str, Any], ticket: Mapping[str, Any]) -> FaceJob:
        """``face`` filled with ``ticket``, times in the venue's zone."""
        return render_face(as_face(face), ticket, self.settings.zone, now=self.now())

    def preview(self, face: Face | Mapping[str, Any], sample: Mapping[str, Any] | None = None, *,
                framed: bool = True) -> bytes:
        """PNG bytes of ``face`` printed with ``sample`` (default: ``sample_ticket()``)."""
        return preview_png(as_face(face), sample, zone=self.settings.zone, framed=framed)


__all__ = ["FacesService", "face_of_row"]

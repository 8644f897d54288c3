"""Virtual cards on disk: one JSON file per card in ``<lab>/cards/``, and dump formats.

A card is stored under a name: its UID for a genuine card, ``<UID>.magic`` (or a chosen name)
for a magic clone that shares the original's UID. Dumps hold every byte, keys included, like an
attacker's dump after cracking the keys: JSON (``venue-suite-lab-card/1``) or, for a MIFARE
Classic 1K, the 1024-byte binary image other tools use (``.bin``/``.mfd``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from devices.apdu import hexstr, parse_hex
from devices.lab.cpu_card import CpuCard
from devices.lab.mifare_card import MifareClassic1K
from devices.mifare import BLOCK_COUNT, BLOCK_SIZE
from suite.i18n import _

FORMAT = "venue-suite-lab-card/1"
BINARY_SIZE = BLOCK_COUNT * BLOCK_SIZE
VirtualCard = MifareClassic1K | CpuCard
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class DumpError(ValueError):
    """A dump file that cannot be read back (wrong size, wrong format)."""


def card_to_dict(card: VirtualCard) -> dict[str, Any]:
    if isinstance(card, MifareClassic1K):
        return {"format": FORMAT, "kind": card.kind, "uid": hexstr(card.uid), "magic": card.magic,
                "uid_length": card.uid_length, "bricked_sectors": sorted(card.bricked),
                "blocks": [hexstr(card.block(n)) for n in range(BLOCK_COUNT)]}
    return {"format": FORMAT, "kind": card.kind, "uid": hexstr(card.uid), "historical": hexstr(card.historical),
            "applications": {hexstr(aid): {f"{fid:04X}": hexstr(data) for fid, data in files.items()}
                             for aid, files in card.applications.items()}}


def card_from_dict(data: dict[str, Any]) -> VirtualCard:
    if data.get("format") != FORMAT:
        raise DumpError(_("not a lab card dump (format {found!r}, expected {expected!r})").format(
            found=data.get("format"), expected=FORMAT))
    try:
        if data["kind"] == "mifare_classic":
            memory = b"".join(parse_hex(block) for block in data["blocks"])
            return MifareClassic1K(memory, uid_length=int(data.get("uid_length", 4)), magic=bool(data.get("magic")),
                                   bricked=set(data.get("bricked_sectors", ())))
        if data["kind"] == "cpu":
            applications = {parse_hex(aid): {int(fid, 16): parse_hex(content) for fid, content in files.items()}
                            for aid, files in data["applications"].items()}
            return CpuCard(parse_hex(data["uid"]), applications, parse_hex(data["historical"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DumpError(_("damaged lab card dump: {reason}").format(reason=exc)) from None
    raise DumpError(_("unknown card kind {kind!r}").format(kind=data.get("kind")))


def binary_image(card: VirtualCard) -> bytes:
    if not isinstance(card, MifareClassic1K):
        raise DumpError(_("only a MIFARE Classic 1K has a binary image"))
    return bytes(card.memory)


def read_dump(content: bytes) -> dict[str, Any] | bytes:
    """A dump file's content: the JSON form as a dict, or a 1024-byte binary image."""
    if len(content) == BINARY_SIZE and not content.lstrip().startswith(b"{"):
        return content
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DumpError(_("neither a {expected}-byte MIFARE Classic 1K image nor a JSON lab dump ({size} bytes)").format(
            expected=BINARY_SIZE, size=len(content))) from None
    if not isinstance(data, dict):
        raise DumpError(_("a JSON lab dump is an object"))
    card_from_dict(data)  # validate now, not half-way through a restore
    return data


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise DumpError(_("card name {name!r}: letters, digits, '.', '_' and '-' only (at most 64)").format(name=name))
    return name


class CardStore:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def load(self, name: str) -> VirtualCard:
        path = self.path(name)
        try:
            return card_from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise KeyError(name) from None
        except json.JSONDecodeError as exc:
            raise DumpError(_("{path}: damaged ({reason})").format(path=path, reason=exc)) from None

    def save(self, name: str, card: VirtualCard) -> None:
        path = self.path(name)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(card_to_dict(card), indent=1))
        os.replace(temporary, path)

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


__all__ = ["BINARY_SIZE", "CardStore", "DumpError", "VirtualCard", "binary_image", "card_from_dict", "card_to_dict",
           "read_dump"]

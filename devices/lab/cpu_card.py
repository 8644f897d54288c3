"""An ISO 14443-4 CPU card answering a small ISO 7816-4 command set. Pure: no I/O.

Commands (CLA 00): SELECT by AID (P1 04) or by file id (P1 00/02), READ BINARY (offset in
P1-P2, or a short file id in P1 bit 8), GET DATA (tags 004F selected AID, 005A card serial
number), GET CHALLENGE. Anything else gets the ISO status word: 6D00 unknown instruction,
6E00 other class, 6A82 no such file, 6A86 wrong P1-P2, 6700 wrong length, 6986 no file
selected, 6B00 offset outside the file, 6A88 no such data object.
"""

from __future__ import annotations

import secrets

from devices.apdu import (SW_CLA_NOT_SUPPORTED, SW_DATA_NOT_FOUND, SW_END_OF_FILE, SW_FILE_NOT_FOUND,
                          SW_INS_NOT_SUPPORTED, SW_NO_CURRENT_EF, SW_OFFSET_OUTSIDE, SW_OK, SW_WRONG_LENGTH,
                          SW_WRONG_P1P2, Command, MalformedApdu, contactless_atr, parse_command, response)

DEFAULT_AID = bytes.fromhex("F056454E5545") + b"\x00\x01"   # proprietary (F0) "VENUE" 00 01
DEFAULT_HISTORICAL = b"VSCPU01"
CARD_INFO_FILE = 0x0001

INS_SELECT, INS_READ_BINARY, INS_GET_DATA, INS_GET_CHALLENGE = 0xA4, 0xB0, 0xCA, 0x84


def default_applications(uid: bytes) -> dict[bytes, dict[int, bytes]]:
    """One application with a small card-information file."""
    return {DEFAULT_AID: {CARD_INFO_FILE: b"VENUE-SUITE CPU CARD " + uid.hex().upper().encode()}}


class CpuCard:
    kind = "cpu"

    def __init__(self, uid: bytes, applications: dict[bytes, dict[int, bytes]] | None = None,
                 historical: bytes = DEFAULT_HISTORICAL) -> None:
        if len(uid) not in (4, 7, 10):
            raise ValueError(f"an ISO 14443-A UID has 4, 7 or 10 bytes, not {len(uid)}")
        self.uid = bytes(uid)
        self.applications = applications if applications is not None else default_applications(self.uid)
        self.historical = bytes(historical)
        self._application: bytes | None = None
        self._file: int | None = None

    @property
    def atr(self) -> bytes:
        return contactless_atr(self.historical)

    def power_off(self) -> None:
        self._application = None
        self._file = None

    def process(self, apdu: bytes) -> bytes:
        try:
            cmd = parse_command(apdu)
        except MalformedApdu:
            return response(sw=SW_WRONG_LENGTH)
        if cmd.cla != 0x00:
            return response(sw=SW_CLA_NOT_SUPPORTED)
        handler = {INS_SELECT: self._select, INS_READ_BINARY: self._read_binary, INS_GET_DATA: self._get_data,
                   INS_GET_CHALLENGE: self._get_challenge}.get(cmd.ins)
        if handler is None:
            return response(sw=SW_INS_NOT_SUPPORTED)
        return handler(cmd)

    def _select(self, cmd: Command) -> bytes:
        if cmd.p1 == 0x04:
            if not cmd.data:
                return response(sw=SW_WRONG_LENGTH)
            if cmd.data not in self.applications:
                return response(sw=SW_FILE_NOT_FOUND)
            self._application, self._file = cmd.data, None
            if cmd.p2 & 0x0C == 0x0C:
                return response()
            fci = bytes([0x84, len(cmd.data)]) + cmd.data + b"\xA5\x00"
            return response(bytes([0x6F, len(fci)]) + fci)
        if cmd.p1 in (0x00, 0x02):
            if len(cmd.data) != 2:
                return response(sw=SW_WRONG_LENGTH)
            file_id = int.from_bytes(cmd.data, "big")
            if file_id == 0x3F00 and cmd.p1 == 0x00:
                self._application, self._file = None, None
                return response()
            files = self.applications.get(self._application or b"", {})
            if file_id not in files:
                return response(sw=SW_FILE_NOT_FOUND)
            self._file = file_id
            return response()
        return response(sw=SW_WRONG_P1P2)

    def _read_binary(self, cmd: Command) -> bytes:
        files = self.applications.get(self._application or b"", {})
        if cmd.p1 & 0x80:
            short_id = cmd.p1 & 0x1F
            if short_id not in files:
                return response(sw=SW_FILE_NOT_FOUND)
            self._file, offset = short_id, cmd.p2
        else:
            if self._file is None:
                return response(sw=SW_NO_CURRENT_EF)
            offset = ((cmd.p1 & 0x7F) << 8) | cmd.p2
        content = files[self._file]
        if offset > len(content):
            return response(sw=SW_OFFSET_OUTSIDE)
        wanted = cmd.expected_length if cmd.le is not None else 256
        chunk = content[offset:offset + wanted]
        if cmd.le not in (None, 0) and len(chunk) < wanted:
            return response(chunk, SW_END_OF_FILE)
        return response(chunk)

    def _get_data(self, cmd: Command) -> bytes:
        tag = (cmd.p1 << 8) | cmd.p2
        if tag == 0x004F and self._application is not None:
            return response(bytes([0x4F, len(self._application)]) + self._application)
        if tag == 0x005A:
            return response(bytes([0x5A, len(self.uid)]) + self.uid)
        return response(sw=SW_DATA_NOT_FOUND)

    def _get_challenge(self, cmd: Command) -> bytes:
        if cmd.p1 or cmd.p2:
            return response(sw=SW_WRONG_P1P2)
        if cmd.le is None or cmd.expected_length not in (4, 8, 16):
            return response(sw=SW_WRONG_LENGTH)
        return response(secrets.token_bytes(cmd.expected_length), SW_OK)


__all__ = ["CARD_INFO_FILE", "CpuCard", "DEFAULT_AID", "default_applications"]

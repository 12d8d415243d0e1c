"""SMPP 3.4 PDUs as Tidings' own SMSC reads and writes them (the client side uses smpplib).

Only what an SMSC that accepts texts and hands out receipts and replies needs: binds,
submit_sm, deliver_sm, enquire_link, unbind and their answers, generic_nack.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
RESPONSE = 0x80000000
GENERIC_NACK = 0x80000000
BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER = 0x01, 0x02, 0x09
SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK = 0x04, 0x05, 0x06, 0x15
BINDS = {
    BIND_RECEIVER: "receiver",
    BIND_TRANSMITTER: "transmitter",
    BIND_TRANSCEIVER: "transceiver",
}

# command_status values
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58

# TLV tags
RECEIPTED_MESSAGE_ID = 0x001E
MESSAGE_PAYLOAD = 0x0424
MESSAGE_STATE = 0x0427

# esm_class bits
UDHI = 0x40
DELIVERY_RECEIPT = 0x04

MAX_PDU = 64 * 1024


class Malformed(ValueError):
    pass


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = ESME_ROK) -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode("latin-1"), end + 1


@dataclass
class Short:
    """A submit_sm or deliver_sm."""

    source: str
    destination: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    message: bytes
    source_ton: int = 1
    source_npi: int = 1
    dest_ton: int = 1
    dest_npi: int = 1
    tlvs: dict[int, bytes] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: bytes) -> Short:
        try:
            _, at = cstring(body, 0)  # service_type
            source_ton, source_npi = body[at], body[at + 1]
            source, at = cstring(body, at + 2)
            dest_ton, dest_npi = body[at], body[at + 1]
            destination, at = cstring(body, at + 2)
            esm_class = body[at]
            at += 3  # esm_class, protocol_id, priority_flag
            _, at = cstring(body, at)  # schedule_delivery_time
            _, at = cstring(body, at)  # validity_period
            registered, data_coding, length = body[at], body[at + 2], body[at + 4]
            at += 5
            message = body[at : at + length]
            if len(message) != length:
                raise Malformed("short_message runs past the PDU")
            at += length
            tlvs: dict[int, bytes] = {}
            while at + 4 <= len(body):
                tag, size = struct.unpack_from(">HH", body, at)
                tlvs[tag] = body[at + 4 : at + 4 + size]
                at += 4 + size
        except (ValueError, IndexError) as error:
            raise Malformed(f"malformed submit_sm/deliver_sm: {error}") from error
        if not message and MESSAGE_PAYLOAD in tlvs:
            message = tlvs[MESSAGE_PAYLOAD]
        return cls(source, destination, esm_class, registered, data_coding, message,
                   source_ton, source_npi, dest_ton, dest_npi, tlvs)  # fmt: skip

    def body(self) -> bytes:
        tlvs = b"".join(
            struct.pack(">HH", tag, len(value)) + value for tag, value in self.tlvs.items()
        )
        return (
            b"\0"  # service_type
            + bytes([self.source_ton, self.source_npi])
            + self.source.encode("latin-1") + b"\0"
            + bytes([self.dest_ton, self.dest_npi])
            + self.destination.encode("latin-1") + b"\0"
            + bytes([self.esm_class, 0, 0]) + b"\0\0"
            + bytes([self.registered_delivery, 0, self.data_coding, 0, len(self.message)])
            + self.message
            + tlvs
        )  # fmt: skip


def concatenation(message: bytes, esm_class: int) -> tuple[int, int, int, bytes]:
    """(reference, part, parts, text) of a segment: a UDH with IE 00 (8-bit) or 08 (16-bit)."""
    if not esm_class & UDHI or not message:
        return 0, 1, 1, message
    size = message[0]
    header, text = message[1 : 1 + size], message[1 + size :]
    at = 0
    while at + 2 <= len(header):
        ie, length = header[at], header[at + 1]
        value = header[at + 2 : at + 2 + length]
        if ie == 0x00 and length == 3:
            return value[0], value[2], value[1], text
        if ie == 0x08 and length == 4:
            return (value[0] << 8) | value[1], value[3], value[2], text
        at += 2 + length
    return 0, 1, 1, text

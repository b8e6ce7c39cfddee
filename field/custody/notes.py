"""Signed notes (C2SP signed-note): text signed with Ed25519, printable and checkable with standard tools.

A note is UTF-8 text ending in a newline, then a blank line, then one or more signature lines::

    <text, every line ending in a newline>
    <blank line>
    — <key name> <base64(key id || signature)>

- the signature line starts with U+2014 (em dash) and a space;
- the signature is Ed25519 over the bytes of the text exactly: from its first byte to its final
  newline included, without the blank line and the signature lines;
- the key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || the 32-byte public key),
  0x01 naming Ed25519; it lets a verifier pick the line of the key it trusts;
- a key name is non-empty and holds no space and no ``+``; the text holds no control character
  but the newline.

The same note opens with Go's ``golang.org/x/mod/sumdb/note`` given the verifier key
``<name>+<hex key id>+<base64(0x01 || public key)>`` (``Signer.vkey``), and with
``openssl pkeyutl -verify -rawin`` given the text, the 64 signature bytes and the public key
(docs/custody.md shows the commands).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_PREFIX = "\u2014 "
#: The signature type byte of Ed25519 in key ids and verifier keys.
ED25519 = 0x01
#: The command that makes a key, for messages and docs.
GENERATE_COMMAND = "openssl genpkey -algorithm ed25519 -out custody-signing-key.pem"


class NoteError(Exception):
    """A note that is malformed, or not signed by the key it is checked against."""


class SigningKeyMissing(Exception):
    """No usable signing key in the configuration: the message says what to do."""


def check_key_name(name: str) -> str:
    if not name or any(ch.isspace() or ch == "+" for ch in name) or not name.isprintable():
        raise ValueError(f"a note key name must be non-empty, without spaces or '+': {name!r}")
    return name


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + raw).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A key name and an Ed25519 public key: opens the notes it signed."""

    name: str
    public_key: Ed25519PublicKey

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """A verifier from its text form ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        try:
            name, hex_id, encoded = vkey.split("+", 2)  # a name has no "+", base64 may
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise NoteError(f"not a verifier key: {vkey!r}") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("not an Ed25519 verifier key")
        verifier = cls(check_key_name(name), Ed25519PublicKey.from_public_bytes(raw[1:]))
        if verifier.key_id.hex() != hex_id:
            raise NoteError(f"the key id {hex_id} is not that of this name and key")
        return verifier

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The verifier key as Go's sumdb/note and the C2SP tools read it."""
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([ED25519]) + raw).decode()}"

    @property
    def public_pem(self) -> str:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def open(self, note: str) -> str:
        """The text of ``note`` once a signature line of this key verifies; NoteError otherwise."""
        text, signatures = split(note)
        for name, blob in signatures:
            if name == self.name and blob[:4] == self.key_id:
                try:
                    self.public_key.verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise NoteError(f"the signature of {name} does not verify: the text was changed") from None
                return text
        raise NoteError(f"the note carries no signature of {self.name} (key id {self.key_id.hex()})")


def open_signed_by(note: str, public_key: Ed25519PublicKey) -> tuple[str, str]:
    """(key name, text) of ``note`` once the line of ``public_key``, under whatever name, verifies.

    For a verifier who trusts a public key handed over on its own, not the name beside it.
    """
    _text, signatures = split(note)
    for name, blob in signatures:
        try:
            verifier = Verifier(check_key_name(name), public_key)
        except ValueError:
            continue
        if blob[:4] == verifier.key_id:
            return name, verifier.open(note)
    raise NoteError("the note carries no signature of this public key")


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; a private key's PEM gives its public half."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(pem, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise NoteError(f"not a PEM key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise NoteError(f"the key is {type(key).__name__}, not Ed25519")
    return key


@dataclass(frozen=True)
class Signer(Verifier):
    """A key name and an Ed25519 private key: signs notes."""

    private_key: Ed25519PrivateKey | None = None

    @classmethod
    def from_private_key(cls, name: str, private_key: Ed25519PrivateKey) -> Signer:
        return cls(check_key_name(name), private_key.public_key(), private_key)

    def sign(self, text: str) -> str:
        """The note: ``text`` (ending in a newline), a blank line, this key's signature line."""
        check_text(text)
        signature = self.private_key.sign(text.encode())
        blob = base64.b64encode(self.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {blob}\n"


def check_text(text: str) -> str:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise ValueError("a note text is non-empty lines, each ending in a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise ValueError("a note text holds no control character but the newline")
    return text


def split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text and the (key name, key id || signature) of each signature line; NoteError if malformed."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a note is UTF-8 text") from None
    note = note.replace("\r\n", "\n")  # a copy that went through a Windows editor or mail client
    cut = note.rfind("\n\n")
    if cut < 0:
        raise NoteError("no blank line before the signature lines: this is not a signed note")
    text, lines = note[:cut + 1], note[cut + 2:].rstrip("\n").split("\n")
    try:
        check_text(text)
    except ValueError as exc:
        raise NoteError(str(exc)) from None
    signatures = []
    for line in lines:
        if not line.startswith(SIGNATURE_PREFIX) or line.count(" ") != 2:
            raise NoteError(f"malformed signature line: {line[:80]!r}")
        _, name, encoded = line.split(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"the signature of {name} is not base64") from None
        if len(blob) != 4 + 64:
            raise NoteError(f"the signature of {name} is not a key id and an Ed25519 signature")
        signatures.append((name, blob))
    return text, signatures


# -- keys from the configuration ---------------------------------------------------------------------


def load_signer(setting: str, name: str) -> Signer:
    """The signer of the configuration's ``CUSTODY_SIGNING_KEY``: PEM text, or the path of a PEM file."""
    pem = _read_setting(setting)
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyMissing(f"CUSTODY_SIGNING_KEY is not an unencrypted PEM private key ({exc}); "
                                f"make one with `{GENERATE_COMMAND}`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyMissing(f"CUSTODY_SIGNING_KEY holds a {type(key).__name__}, not an Ed25519 key; "
                                f"make one with `{GENERATE_COMMAND}`")
    return Signer.from_private_key(name, key)


def _read_setting(setting: str) -> bytes:
    setting = (setting or "").strip()
    if not setting:
        raise SigningKeyMissing("CUSTODY_SIGNING_KEY is not set: checkpoints cannot be signed. Set it to an "
                                f"Ed25519 private key (PEM text or file path), made with `{GENERATE_COMMAND}`")
    if setting.startswith("-----BEGIN"):
        return setting.encode()
    path = Path(setting)
    if not path.is_file():
        raise SigningKeyMissing(f"CUSTODY_SIGNING_KEY names {path}, which does not exist: checkpoints cannot be "
                                f"signed. Make the key with `{GENERATE_COMMAND}` (or `fieldwatch custody-key "
                                "--generate`), or point CUSTODY_SIGNING_KEY at the key you have")
    return path.read_bytes()


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 key in a new PEM file only its owner can read (PKCS#8, as openssl genpkey writes it).

    Never replaces a file: a lost signing key only makes old checkpoints uncheckable by the app,
    a replaced one would do it silently.
    """
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key

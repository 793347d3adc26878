"""Errors of the security layer. Callers catch ``SecurityError``; each subclass names a cause.

Verification of received messages never raises: it returns a ``VerifyOutcome`` with a reason.
These exceptions are for programming and configuration errors (bad keys, PKI directories,
values that cannot be encoded) and for the decoders, whose only exception is ``DecodeError``.
"""


class SecurityError(Exception):
    """Base of every error raised by v2x_nodes.security."""


class DecodeError(SecurityError):
    """Bytes are not a valid COER encoding of the expected 1609.2 structure."""


class EncodeError(SecurityError):
    """A value cannot be encoded (out of range, wrong shape)."""


class KeyMaterialError(SecurityError):
    """A key cannot be generated, loaded or used with the requested algorithm."""


class PkiError(SecurityError):
    """A PKI directory or certificate request is invalid; the message names the file or field."""


class UnsupportedError(DecodeError):
    """Valid 1609.2, but a form this stack does not handle (encrypted data, implicit certs...)."""


class SigningError(SecurityError):
    """A message cannot be signed with these credentials (psid not permitted, expired...)."""


class ConfigError(SecurityError):
    """A configuration value is invalid; the message names the field, expected and got."""

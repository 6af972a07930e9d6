"""PAdES signatures (pyHanko) with the service's key and certificate.

Development and test: a key and a self-signed certificate are generated on
first run into the configured paths, and reused afterwards. Production reads
them from configuration and refuses to start without them: a certificate that
a Tribunal clerk cannot trust is worse than none.
"""

from __future__ import annotations

import fcntl
import io
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from shared import clock
from shared.errors import ServiceError
from shared.logging import get_logger

log = get_logger(__name__)

DEVELOPMENT_COMMON_NAME = "SEND mediation certificates (development only)"


class SigningKeyMissing(ServiceError):
    status = 500
    code = "signing_key_missing"
    title = "The certificate signing key is not configured"


@dataclass(frozen=True)
class SigningConfig:
    key_path: Path
    cert_path: Path
    key_passphrase: str | None
    may_generate: bool


class _KeptKeySigner(signers.SimpleSigner):
    """pyhanko's SimpleSigner parses the private key again, and OpenSSL checks it again, for every raw
    signature: about 100 ms for an RSA-3072 key, twice per certificate (the size estimate, then the signature),
    most of the cost of issuing one. This one parses the key once; mechanisms other than RSA PKCS#1 v1.5 (the
    one a PAdES signature with an RSA key uses here) go to pyhanko's own code."""

    def __init__(self, loaded: signers.SimpleSigner) -> None:
        super().__init__(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                         cert_registry=loaded.cert_registry, signature_mechanism=loaded.signature_mechanism,
                         prefer_pss=loaded.prefer_pss)
        self._key = serialization.load_der_private_key(loaded.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)


class PdfSigner:
    """Signs a PDF with an invisible PAdES signature (baseline B-B, SHA-256)."""

    def __init__(self, config: SigningConfig) -> None:
        passphrase = config.key_passphrase.encode() if config.key_passphrase else None
        self.cert_path = config.cert_path
        loaded = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
            str(config.key_path), str(config.cert_path), key_passphrase=passphrase)
        if loaded is None:
            raise SigningKeyMissing(f"cannot load the signing key {config.key_path} or certificate {config.cert_path}")
        self._signer = _KeptKeySigner(loaded)
        #: Bytes kept in each PDF for the signature. Left to itself, pyhanko sizes it by signing a dummy digest
        #: first, so every certificate was signed twice; the size depends only on the key and the certificate
        #: (the same attributes, of the same lengths), so it is taken from the first signature, with pyhanko's
        #: own estimate and margin, and reserved for every later one.
        self.bytes_reserved: int | None = None

    async def sign(self, pdf: bytes, *, reason: str, location: str = "England") -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name="CertificateSignature", md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, location=location,
        )
        output = await signers.async_sign_pdf(writer, meta, signer=self._signer, bytes_reserved=self.bytes_reserved)
        signed: bytes = output.getvalue()
        if self.bytes_reserved is None:
            self.bytes_reserved = _reserved_in(signed)
        return signed


def _reserved_in(signed: bytes) -> int:
    """The room pyhanko kept for the signature in ``signed``, in the hex digits ``bytes_reserved`` counts."""
    signature = PdfFileReader(io.BytesIO(signed)).embedded_signatures[-1]  # the one just added
    return 2 * len(signature.sig_object["/Contents"])


def load_signer(config: SigningConfig) -> PdfSigner:
    if config.key_path.exists() and config.cert_path.exists():
        return PdfSigner(config)
    if not config.may_generate:
        raise SigningKeyMissing(
            f"CERTIFICATES_SIGNING_KEY_PATH ({config.key_path}) and CERTIFICATES_SIGNING_CERT_PATH "
            f"({config.cert_path}) must name an existing key and certificate in production")
    config.key_path.parent.mkdir(parents=True, exist_ok=True)
    # Several processes may start at once (API and workers split, or a restart): one generates, all share it.
    with open(config.key_path.with_name(config.key_path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (config.key_path.exists() and config.cert_path.exists()):
            generate_development_key(config.key_path, config.cert_path)
    return PdfSigner(config)


def generate_development_key(key_path: Path, cert_path: Path) -> None:
    """A 3072-bit RSA key and a self-signed certificate, valid for 5 years: development only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SEND mediation service"),
        x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_COMMON_NAME),
    ])
    now = clock.real_now()  # X.509 validity is checked against the wall clock
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    partial = key_path.with_name(key_path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    os.replace(partial, key_path)
    partial = cert_path.with_name(cert_path.name + ".partial")
    partial.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(partial, cert_path)  # the certificate appears last: both exist only once both are complete
    log.warning("certificates.development_signing_key_generated", cert_path=str(cert_path))

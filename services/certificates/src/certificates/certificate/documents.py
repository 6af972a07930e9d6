"""Certificate documents rendered and signed in a small pool of processes, off the event loop (issue 12).

A render (ReportLab) and a PAdES signature (pyHanko) are pure-Python CPU work that holds the GIL: on the
event loop, each one stopped the Kafka consumer, the API and the other workers for as long as it took, and a
thread would hold the GIL just the same. ``Documents`` hands each to one of ``CERTIFICATES_SIGNING_PROCESSES``
processes (``spawn``ed: nothing of the service's threads or sockets is copied into them), each of which loads
the key once, in its initializer. ``0`` keeps the work in the service's own process, on its loop.

A failure in a process (a document that cannot be laid out, say) comes back as the same exception and is the
item's failure (``shared.poison``); a process that dies takes the pool with it (``BrokenProcessPool``): the
item fails, a new pool takes the next one. A document that takes longer than ``timeout`` seconds
(``CERTIFICATES_SIGNING_TIMEOUT_SECONDS``) fails with ``DocumentTimedOut`` and its pool is killed and replaced
(a pool cannot stop one task in hand): a render that hangs costs its own item a try, and the documents in
hand beside it one try each, never a lane for ever.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from certificates.certificate import pdf
from certificates.certificate.signing import PdfSigner, SigningConfig, load_signer
from shared.logging import get_logger

log = get_logger(__name__)

PR_SET_PDEATHSIG = 1  # prctl(2), Linux

#: In a pool process: the signer with its key, loaded once by ``_start_process``, and a loop to sign on.
_signer: PdfSigner | None = None
_loop: asyncio.AbstractEventLoop | None = None


def _start_process(config: SigningConfig, service_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the service stops its pool itself, after the work in hand.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with(service_pid)
    global _signer, _loop
    _signer, _loop = PdfSigner(config), asyncio.new_event_loop()


def _end_with(service_pid: int) -> None:
    """A pool process must not outlive its service, even one killed outright (no shutdown runs then): it
    would wait for work for ever, since it holds its queue's pipe open itself."""
    if sys.platform == "linux":  # the kernel sends SIGKILL when the service's process ends
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch, args=(service_pid,), name="service-watch", daemon=True).start()
    if os.getppid() != service_pid:  # the service ended before that was in place
        os._exit(0)


def _watch(service_pid: int) -> None:
    while os.getppid() == service_pid:
        time.sleep(1.0)
    os._exit(0)


def document_in_pool(content: pdf.CertificateContent, reason: str) -> bytes:
    """In a pool process: the certificate rendered and signed."""
    assert _signer is not None and _loop is not None, "the pool's initializer loads the signer"
    return _loop.run_until_complete(_signer.sign(pdf.render(content), reason=reason))


def _ready() -> None:
    """Nothing: submitted at start so that the processes (imports, key) are up before the first certificate."""


class DocumentTimedOut(Exception):
    """The document took longer than the signing timeout: its process was killed."""


class Documents:
    def __init__(self, config: SigningConfig, *, processes: int, timeout: float = 60.0) -> None:
        # Here, in the service's process: production fails fast without a key, development generates one
        # (once, under a lock) before any pool process loads it.
        self._signer = load_signer(config)
        self._config = config
        self.processes = processes
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the pool's processes now, without waiting for them."""
        if self.processes and self._pool is None:
            self._pool = self._new_pool()
            for _ in range(self.processes):
                self._pool.submit(_ready)

    async def render_and_sign(self, content: pdf.CertificateContent, *, reason: str) -> bytes:
        if not self.processes:
            return await self._signer.sign(pdf.render(content), reason=reason)
        self.start()
        pool = self._pool
        assert pool is not None
        work = asyncio.get_running_loop().run_in_executor(pool, document_in_pool, content, reason)
        try:
            return await asyncio.wait_for(work, timeout=self.timeout)
        except TimeoutError:
            log.error("certificates.signing_timed_out", seconds=self.timeout, processes=self.processes)
            self._replace(pool, kill=True)
            raise DocumentTimedOut(f"the document took longer than {self.timeout:g} s") from None
        except BrokenProcessPool:
            if self._replace(pool):
                log.error("certificates.signing_process_died", processes=self.processes)
            raise

    def _replace(self, pool: ProcessPoolExecutor, *, kill: bool = False) -> bool:
        """A new pool for the next documents; the first to see the old one fail replaces it (True), and the
        others' documents in hand fail with it. ``kill``: its processes are killed first (one is hung)."""
        if self._pool is not pool:
            return False
        if kill:
            # ProcessPoolExecutor has no way to stop a task in hand: its processes (``_processes``, the one
            # way to reach them) are killed, and the pool, broken, fails what else it held.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        return True

    async def aclose(self) -> None:
        """Stop the processes, after the document in hand (if any): no process outlives the service."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_process, initargs=(self._config, os.getpid()))

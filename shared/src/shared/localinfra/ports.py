from __future__ import annotations

import signal
import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, *, timeout: float, what: str, alive: object = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if alive is not None and callable(alive) and not alive():
            raise RuntimeError(f"{what} exited before listening on {host}:{port}")
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not listen on {host}:{port} within {timeout}s")


def terminate(process: subprocess.Popen[bytes] | None, *, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds (at once when it is 0); a finished
    process is left alone."""
    if process is None or process.poll() is not None:
        return
    if timeout <= 0:
        process.kill()
        process.wait()
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

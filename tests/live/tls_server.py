"""An HTTPS server on loopback that requires a client certificate: the far end of the mTLS test."""

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trustme
import uvicorn
from starlette.types import ASGIApp

from proxy.demo.launcher import free_port

START_DEADLINE_S = 10.0


@asynccontextmanager
async def serve_tls(app: ASGIApp, ca: trustme.CA, cert: trustme.LeafCert, workdir: Path) -> AsyncIterator[str]:
    """Serve ``app`` over TLS with ``cert``, accepting only clients whose certificate ``ca`` signed."""
    cert.private_key_and_cert_chain_pem.write_to_path(str(workdir / "server.pem"))
    ca.cert_pem.write_to_path(str(workdir / "clients-ca.pem"))
    port = free_port("127.0.0.1")
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(workdir / "server.pem"),
        ssl_ca_certs=str(workdir / "clients-ca.pem"),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = asyncio.get_running_loop().time() + START_DEADLINE_S
    while not server.started:
        if task.done() or asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("the TLS test server did not start")
        await asyncio.sleep(0.02)  # waiting for a condition, bounded by the deadline
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

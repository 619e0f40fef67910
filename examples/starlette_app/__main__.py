"""Serve the Starlette demo bank with uvicorn on 127.0.0.1 (``PORT``, default 8000)."""

import os

import uvicorn

from .app import create_app

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    print(
        f"Demo Bank on http://127.0.0.1:{port}/  "
        "(alice / alice-password, bob / bob-password, carol / carol-password)"
    )
    # Served straight to browsers: no proxy in front may set the client's address.
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)

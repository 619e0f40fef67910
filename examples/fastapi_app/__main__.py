"""Serve the FastAPI example with uvicorn on 127.0.0.1 (``PORT``, default 8001)."""

import os

import uvicorn

from .app import create_app

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8001"))
    # Served straight to clients: no proxy in front may set the client's address.
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)

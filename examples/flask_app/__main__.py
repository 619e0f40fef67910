"""Serve the Flask demo bank on 127.0.0.1 (``PORT``, default 5000)."""

import os

from .app import create_app

if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    print(
        f"Demo Bank on http://127.0.0.1:{port}/  "
        "(alice / alice-password, bob / bob-password, carol / carol-password)"
    )
    create_app().run(host="127.0.0.1", port=port, threaded=True)

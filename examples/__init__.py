"""Example apps: the same small bank on Flask and on Starlette."""

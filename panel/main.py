"""PyScript entry point: start the panel in the page."""

from panel.browser import start

start()

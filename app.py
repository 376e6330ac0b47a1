"""Optimizer Playground: the entry file, a router around the pages in ``app_pages/``.

Streamlit runs this file on every rerun: it sets up what every page shares (page
configuration, the navigation, classroom mode) and then runs the page the address
names. The pages are listed once, in :data:`ui.nav.PAGES`.
"""

from ui import nav

with nav.run_slot():  # a class arriving at once is served a few runs at a time
    nav.frame().run()

"""The bundled scenarios: this folder is shipped in the wheel as ``foodchain/scenarios/``.

It is a package only so that ``importlib.resources`` finds it, from a checkout (``pip install
-e .``) as from an installed wheel; ``foodchain.bundled`` reads it.
"""

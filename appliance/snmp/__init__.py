"""The commander's farm under MINERWATCH-MIB, served through the commander's own snmpd (pass_persist).

The commander writes the farm document after every poll cycle (``farm_file.py``); the responder
(``responder.py``), which snmpd runs, serves it as mwFarmObjects (``layout.py``); ``cli.py`` gives
``minerwatch snmpd-conf`` and ``minerwatch pass-persist``.
"""

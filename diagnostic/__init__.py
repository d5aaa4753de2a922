"""Diagnostic PTI: the domain package (no Streamlit here).

Territories, indicators, offer, coverage and the shared diagnostic of a Pacte territorial pour
l'insertion. Pages and the command line call these functions; tests call them directly.
"""

DEMO_LABEL = "Département de démonstration — données fictives"

"""Exports of the shared diagnostic (CSV, Excel, PDF)."""

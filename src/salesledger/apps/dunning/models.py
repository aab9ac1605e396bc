"""Dunning: reminder policies and their levels, fees and late-payment interest, and the daily runs
that send reminders, letters and statements (docs/design/dunning.md)."""

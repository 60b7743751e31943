"""Demo-only pieces: the simulated CXone Agent desktop, the demo CRM service and the launcher."""

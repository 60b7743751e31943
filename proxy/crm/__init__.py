"""CRM adapters: one interface, one module per CRM."""

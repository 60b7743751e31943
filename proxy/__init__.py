"""The Starlette proxy beside the panel: serves it, verifies the agent, speaks to the CRM."""

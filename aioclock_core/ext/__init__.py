"""Extensions that expose an app to other layers (FastAPI)."""
